# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evidence module's shared core: the context a check runs in, the helpers the
layers' checks share, the control list, and the run of the checks (evaluate).

The checks live in one file per layer (evidence_<layer>.py), each exporting
CHECKS = {name: (control, title, check)}; plugins/modules/hipaa_evidence.py
merges them (merge_checks)."""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import os
import re
import socket
import ssl


CONTROLS = {
    "AC-1": ("§164.312(a)(1)", "Access control"),
    "AC-2": ("§164.312(a)(2)(i)", "Unique user identification"),
    "AC-3": ("§164.312(a)(2)(iii)", "Automatic logoff"),
    "AC-4": ("§164.312(a)(2)(iv)", "Encryption and decryption (at rest)"),
    "AU-1": ("§164.312(b)", "Audit controls"),
    "AU-2": ("§164.316(b)(2)(i)", "Retention (6 years)"),
    "AU-3": ("§164.308(a)(1)(ii)(D), §164.308(a)(5)(ii)(C)", "Activity review, log-in monitoring"),
    "IN-1": ("§164.312(c)(1)", "Integrity"),
    "IA-1": ("§164.312(d)", "Person or entity authentication"),
    "TS-1": ("§164.312(e)(1), §164.312(e)(2)(ii)", "Transmission security"),
    "CP-1": ("§164.308(a)(7)(ii)(A), §164.310(d)(2)(iv)", "Data backup plan"),
    "CP-2": ("§164.308(a)(7)(ii)(B), §164.308(a)(7)(ii)(D)", "Disaster recovery, testing"),
    "SH-1": ("§164.308(a)(1)(ii)(B)", "Risk management (hardening)"),
}

LOOPBACK4 = ipaddress.ip_network("127.0.0.0/8")


class Context:
    """What a check may use: run a command, read a file, the settings, the clock."""

    def __init__(self, run, settings, now=None, read=None, tls_probe=None, http_get=None, stat_file=None,
                 rest_delete=None):
        self.run = run                      # run(argv) -> (rc, stdout, stderr)
        self.settings = settings
        self.now = now or dt.datetime.now(dt.timezone.utc)
        self.read = read or _read_file      # read(path) -> str | None
        self.stat = stat_file or os.stat    # stat(path) -> os.stat_result (raises OSError)
        self.tls_probe = tls_probe or _tls_probe
        self.http_get = http_get or _http_get
        self.rest_delete = rest_delete      # rest_delete(url, cafile, certfile) -> HTTP status (None: the real one)
        self._cache = {}

    def s(self, key, default=None):
        value = self.settings.get(key)
        return default if value is None else value

    def cached(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]


class Fail(Exception):
    """A check could not gather its proof (the row fails with this text)."""


# --- helpers -------------------------------------------------------------------

def _read_file(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _tls_probe(host, port, server_name, version, ciphers=None, timeout=10):
    """Handshake with one protocol version; returns (ok, negotiated or error)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_3:
        # let this client offer old protocols and ciphers so the server is what refuses them
        ctx.set_ciphers((ciphers or "ALL") + ":@SECLEVEL=0")
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
                return True, "%s %s" % (tls.version(), tls.cipher()[0])
    except (ssl.SSLError, OSError) as exc:
        return False, exc.__class__.__name__ + ": " + str(exc)[:120]


def _http_get(scheme, host, port, server_name, path, timeout=10):
    """(status, headers as list of (name, value)) of a GET with Host: server_name."""
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": server_name, "User-Agent": "odoo-hipaa-evidence"})
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheaders()
    finally:
        conn.close()


def _out(ctx, argv, what=None):
    rc, out, err = ctx.run(argv)
    if rc != 0:
        raise Fail("%s failed (rc %s): %s" % (what or " ".join(argv), rc, (err or out).strip()[:200]))
    return out


def _listeners(ctx):
    """[(address, port, process)] of listening TCP sockets, from ss."""
    def gather():
        rows = []
        for line in _out(ctx, ["ss", "-H", "-ltnp"]).splitlines():
            parts = line.split()
            if len(parts) < 4:
                continue
            local = parts[3]
            addr, _sep, port = local.rpartition(":")
            addr = addr.strip("[]").split("%")[0]
            m = re.search(r'users:\(\("([^"]+)"', line)
            rows.append((addr, int(port), m.group(1) if m else "?"))
        return rows
    return ctx.cached("listeners", gather)


def _is_loopback(addr):
    if addr in ("localhost",):
        return True
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return ip.is_loopback or (ip.version == 4 and ip in LOOPBACK4)


def _psql(ctx, sql, database="postgres"):
    user = ctx.s("postgresql_os_user", "postgres")
    out = _out(ctx, ["runuser", "-u", user, "--", "psql", "-XAtq", "-F", "\t", "-d", database, "-c", sql],
               "psql on %s" % database)
    return [line.split("\t") for line in out.splitlines() if line]


def _age_hours(ctx, iso):
    when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return (ctx.now - when).total_seconds() / 3600.0


def _text(ctx, path, why=""):
    """The file's text, or a failed proof when it is missing."""
    text = ctx.read(path)
    if text is None:
        raise Fail("%s is missing%s" % (path, why))
    return text


def _json_file(ctx, path):
    text = _text(ctx, path, " (the job never ran here)")
    try:
        return json.loads(text)
    except ValueError:
        raise Fail("%s is not JSON" % path)


def _unit_active(ctx, unit):
    rc, out, _err = ctx.run(["systemctl", "is-active", unit])
    rc2, out2, _err = ctx.run(["systemctl", "is-enabled", unit])
    return out.strip() == "active" and out2.strip() == "enabled", "%s: %s, %s" % (unit, out.strip(), out2.strip())


def _exposure(ctx, unit):
    out = _out(ctx, ["systemd-analyze", "security", "--no-pager", unit], "systemd-analyze security")
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", out)
    if not m:
        raise Fail("no exposure figure in systemd-analyze output for %s" % unit)
    return float(m.group(1))


def evaluate(registry, ctx, checks, waivers=()):
    """Run the named checks of the registry (name -> (control, title, check)) and return their rows."""
    waived = dict((w["check"], w["reason"]) for w in waivers)
    rows = []
    for name in checks:
        control, title, fn = registry[name]
        citation, control_title = CONTROLS[control]
        try:
            passed, observed, expected = fn(ctx)
        except Fail as exc:
            passed, observed, expected = False, "no proof: %s" % exc, title
        except Exception as exc:  # a broken probe is a failed control, never a crash
            passed, observed, expected = False, "no proof: %s: %s" % (exc.__class__.__name__, exc), title
        status = "pass" if passed else ("waived" if name in waived else "fail")
        row = {"control": control, "citation": citation, "control_title": control_title, "check": name,
               "title": title, "status": status, "observed": observed, "expected": expected,
               "checked_at": ctx.now.isoformat(timespec="seconds")}
        if name in waived:
            row["waiver"] = waived[name]
        rows.append(row)
    return rows


def merge_checks(layers):
    """One registry from the layers' CHECKS, given as (layer, CHECKS) pairs, in order.
    A check name that two layers define is an error (raised when the module is imported)."""
    merged, owner = {}, {}
    for layer, checks in layers:
        for name, entry in checks.items():
            if name in merged:
                raise ValueError("check %s is defined by both evidence_%s and evidence_%s" % (name, owner[name], layer))
            merged[name] = entry
            owner[name] = layer
    return merged
