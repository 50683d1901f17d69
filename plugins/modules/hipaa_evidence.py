#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gather the proof of each HIPAA control on one host, read-only.

Every check runs a read-only command or reads a file, compares what it sees
with what the control requires, and returns one row: control id, citation,
pass/fail/waived, the observed value and the expectation. The module never
changes the host, so it is safe in --check mode and against production.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: hipaa_evidence
short_description: Read-only proof of the HIPAA Security Rule controls on one host
description:
  - Runs the named checks on the host and returns one row per check, each tied to a control
    of the collection's control list (AC-1 ... SH-1) and its 45 CFR citation.
  - Read-only. Supports check mode (it behaves the same) and never reports a change.
  - A check that cannot gather its proof (a tool missing, a file absent, a command failing) fails its row;
    it never makes the module fail.
options:
  checks:
    description:
      - Names of the checks to run, each of them one of these (check (control) - what it proves).
      - C(listeners) (AC-1) - only the declared services listen on public addresses (O(settings.public_listeners)).
      - C(odoo_loopback) (AC-1) - Odoo listens on 127.0.0.1 only.
      - C(pg_listen) (AC-1) - PostgreSQL listens on the unix socket only (or on explicit addresses with TLS).
      - C(db_manager_blocked) (AC-1) - the Odoo database manager is blocked at nginx.
      - C(odoo_conf) (AC-1) - C(odoo.conf) has no database list, proxy mode, a loopback interface and is not world-readable.
      - C(nftables) (AC-1) - the firewall denies inbound traffic by default.
      - C(sshd) (AC-1) - SSH takes keys only, no root login, allowed groups set.
      - C(odoo_admin_disabled) (AC-2) - the built-in C(admin) login is deactivated.
      - C(odoo_session_limits) (AC-3) - Odoo's idle timeout and absolute session lifetime are within the limits.
      - C(luks_volumes) (AC-4) - every ePHI path (O(settings.encrypted_paths)) is on LUKS2 (aes-xts-plain64, 512-bit, argon2id).
      - C(pgaudit) (AU-1) - pgaudit is loaded on PostgreSQL and C(pgaudit.log) is set.
      - C(nginx_access_log) (AU-1) - nginx logs every request (O(settings.nginx_access_log)).
      - C(odoo_auditlog) (AU-1) - Odoo auditlog rules log reads and writes on the PHI models (O(settings.odoo_phi_models)).
      - C(auditd_rules) (AU-1) - auditd rules are loaded with the expected keys (O(settings.auditd_keys)).
      - C(log_retention) (AU-2) - the log aggregator keeps logs at least 6 years.
      - C(fail2ban) (AU-3) - the fail2ban jails for SSH and Odoo logins are active.
      - C(odoo_login_cooldown) (AU-3) - Odoo's login cooldown is within the limits.
      - C(aide) (IN-1) - an AIDE baseline exists, C(aide --check) is clean and the daily check timer is active.
      - C(restic_check) (IN-1) - the backup repository passed C(restic check) within 8 days.
      - C(log_forwarding) (IN-1) - logs are shipped over TLS, the aggregator's name checked, with a disk-assisted queue.
      - C(pg_scram) (IA-1) - PostgreSQL's C(password_encryption) is scram-sha-256.
      - C(pg_hba) (IA-1) - C(pg_hba.conf) has no trust, md5, password or ident rule, and TCP only with TLS.
      - C(odoo_mfa) (IA-1) - Odoo's MFA policy and the remember-this-device limit.
      - C(odoo_master_password) (IA-1) - Odoo's master password is stored as a pbkdf2-sha512 hash.
      - C(tls_protocols) (TS-1) - HTTPS refuses TLSv1 and TLSv1.1 and accepts TLSv1.2 and TLSv1.3.
      - C(tls_weak_cipher) (TS-1) - HTTPS refuses weak cipher suites.
      - C(hsts) (TS-1) - HTTPS sends the HSTS header.
      - C(cookie_flags) (TS-1) - the C(session_id) cookie is Secure, HttpOnly and SameSite.
      - C(http_redirect) (TS-1) - plain HTTP redirects to HTTPS.
      - C(pg_tls) (TS-1) - PostgreSQL has TLS on, TLSv1.2 at least.
      - C(backup_timer) (CP-1) - the nightly backup timer is active and enabled.
      - C(backup_recent) (CP-1) - the last backup succeeded less than 26 hours ago.
      - C(backup_password_file) (CP-1) - the repository password file is root-owned and not readable by others.
      - C(restore_drill) (CP-2) - the restore drill passed within 8 days and its weekly timer is active.
      - C(odoo_sandbox) (SH-1) - the Odoo service's systemd exposure is within its limit.
      - C(service_sandbox) (SH-1) - each sandboxed unit of the collection's limit table installed here (nginx, PostgreSQL, rsyslog,
        the backup units) is within its systemd exposure limit.
      - C(unattended_upgrades) (SH-1) - automatic security updates are on.
      - C(time_sync) (SH-1) - time is synchronised from a reachable source.
      - An unknown name fails the module, naming it and listing the known ones.
    type: list
    elements: str
    required: true
  settings:
    description:
      - What the checks expect on this host. Each key is read by the checks named in its description;
        an unknown key fails the module.
    type: dict
    default: {}
    suboptions:
      public_listeners:
        description: The services that may listen on non-loopback addresses, as C(PORT/PROCESS) (C(listeners)).
        type: list
        elements: str
        default: []
      odoo_ports:
        description: The ports Odoo listens on, on 127.0.0.1 (C(odoo_loopback)).
        type: list
        elements: int
        default: [8069, 8072]
      odoo_config:
        description: Odoo's configuration file (C(odoo_conf), C(odoo_master_password)).
        type: str
        default: /etc/odoo/odoo.conf
      odoo_service:
        description: Odoo's systemd unit (C(odoo_sandbox)).
        type: str
        default: odoo.service
      odoo_database:
        description: >-
          Odoo's database (C(odoo_admin_disabled), C(odoo_session_limits), C(odoo_mfa), C(odoo_login_cooldown),
          C(odoo_auditlog)).
        type: str
        default: odoo
      odoo_idle_param:
        description: The Odoo system parameter that holds the idle timeout, in seconds (C(odoo_session_limits)).
        type: str
        default: odoo_hipaa.session_idle_timeout
      odoo_lifetime_param:
        description: The Odoo system parameter that holds the absolute session lifetime, in seconds (C(odoo_session_limits)).
        type: str
        default: odoo_hipaa.session_absolute_lifetime
      odoo_mfa_policy:
        description: The C(auth_totp.policy) Odoo must have (C(odoo_mfa)).
        type: str
        default: all_required
      odoo_phi_models:
        description: The Odoo models that hold PHI, each needing a subscribed auditlog rule that logs reads (C(odoo_auditlog)).
        type: list
        elements: str
        default: []
      postgresql_os_user:
        description: The operating-system user that runs C(psql) as PostgreSQL's superuser (every check that asks PostgreSQL).
        type: str
        default: postgres
      postgresql_tcp:
        description: >-
          PostgreSQL listens on TCP (explicit addresses, TLS with client certificates) rather than on the unix socket only
          (C(pg_listen)).
        type: bool
        default: false
      https_address:
        description: >-
          The address nginx is reached at (C(tls_protocols), C(tls_weak_cipher), C(hsts), C(cookie_flags), C(http_redirect),
          C(db_manager_blocked)).
        type: str
        default: 127.0.0.1
      https_port:
        description: nginx's HTTPS port (C(tls_protocols), C(tls_weak_cipher), C(hsts), C(cookie_flags), C(db_manager_blocked)).
        type: int
        default: 443
      http_port:
        description: nginx's plain HTTP port (C(http_redirect)).
        type: int
        default: 80
      https_server_name:
        description: The server name sent as SNI and Host header (every check that asks nginx).
        type: str
        default: localhost
      https_path:
        description: The path whose answer is checked for its headers (C(hsts), C(cookie_flags)).
        type: str
        default: /web/login
      nginx_access_log:
        description: The access log nginx must write every request to (C(nginx_access_log)).
        type: str
        default: /var/log/nginx/odoo-access.json.log
      encrypted_paths:
        description: The paths that hold ePHI, each of which must be on a LUKS2 volume (C(luks_volumes); none given fails it).
        type: list
        elements: str
        default: []
      backup_state_dir:
        description: The backup job's state directory (C(backup_recent), C(restic_check), C(restore_drill)).
        type: str
        default: /var/lib/odoo-hipaa-backup
      backup_password_file:
        description: The backup repository's password file (C(backup_password_file)).
        type: str
        default: /etc/odoo-hipaa-backup/restic.pass
      fail2ban_jails:
        description: The fail2ban jails that must be active (C(fail2ban)).
        type: list
        elements: str
        default: [sshd, odoo]
      auditd_keys:
        description: The keys the loaded auditd rules must carry (C(auditd_rules)).
        type: list
        elements: str
        default: []
      aide_config:
        description: The AIDE configuration file (C(aide)).
        type: str
        default: /etc/aide/odoo-hipaa.conf
      aide_database:
        description: The AIDE baseline database (C(aide)).
        type: str
        default: /var/lib/aide/odoo-hipaa.db
      aide_timer:
        description: The systemd timer of the daily AIDE check (C(aide)).
        type: str
        default: odoo-hipaa-aide-check.timer
      log_shipping_config:
        description: The rsyslog configuration that forwards the logs (C(log_forwarding)).
        type: str
        default: /etc/rsyslog.conf
      log_retention_file:
        description: The aggregator's logrotate configuration (C(log_retention)).
        type: str
        default: /etc/logrotate.d/odoo-hipaa-log-aggregator
  waivers:
    description:
      - Checks waived on this host, each with the written reason an auditor reads.
        A waived check still runs; its row says what was observed and why it is accepted.
    type: list
    elements: dict
    default: []
    suboptions:
      check:
        description: Check name.
        type: str
        required: true
      reason:
        description: Why the control is met otherwise or not applicable (required, not empty).
        type: str
        required: true
author: onprem.odoo_hipaa contributors (@onprem)
"""

EXAMPLES = r"""
- name: Gather the evidence
  onprem.odoo_hipaa.hipaa_evidence:
    checks: [listeners, pg_scram, tls_protocols]
    settings:
      public_listeners: ["443/nginx", "80/nginx", "22/sshd"]
      https_server_name: erp.example.org
  register: evidence

- name: Waive a check, with the reason an auditor reads
  onprem.odoo_hipaa.hipaa_evidence:
    checks: [luks_volumes, sshd]
    settings:
      encrypted_paths: [/var/lib/odoo, /var/lib/postgresql]
    waivers:
      - check: luks_volumes
        reason: The database volume is on the SAN's self-encrypting drives (risk analysis RA-2025-03, section 4).
"""

RETURN = r"""
rows:
  description: One row per check, in the order of O(checks).
  returned: always
  type: list
  elements: dict
  contains:
    control:
      description: The control the check proves.
      type: str
      sample: AC-1
    citation:
      description: The control's 45 CFR citation.
      type: str
      sample: "§164.312(a)(1)"
    control_title:
      description: The control's title.
      type: str
      sample: Access control
    check:
      description: The check's name.
      type: str
      sample: listeners
    title:
      description: What the check proves.
      type: str
    status:
      description: V(pass), V(fail), or V(waived) (failed, with a waiver for it).
      type: str
      sample: pass
    observed:
      description: What the check saw (a string, or a dict of what it saw), or why it has no proof.
      type: raw
    expected:
      description: What the control requires.
      type: str
    checked_at:
      description: When the check ran (UTC, ISO 8601).
      type: str
      sample: "2025-01-31T02:00:00+00:00"
    waiver:
      description: The reason the check is waived.
      type: str
      returned: when the check is waived
"""

import datetime as dt
import http.client
import ipaddress
import json
import os
import re
import socket
import ssl
import stat

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS

try:
    from ansible.module_utils.basic import AnsibleModule
except ImportError:  # unit tests import the checks without Ansible's module runtime
    AnsibleModule = None

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
WEAK_PG_AUTH = {"trust", "md5", "password", "ident"}


class Context:
    """What a check may use: run a command, read a file, the settings, the clock."""

    def __init__(self, run, settings, now=None, read=None, tls_probe=None, http_get=None, stat_file=None):
        self.run = run                      # run(argv) -> (rc, stdout, stderr)
        self.settings = settings
        self.now = now or dt.datetime.now(dt.timezone.utc)
        self.read = read or _read_file      # read(path) -> str | None
        self.stat = stat_file or os.stat    # stat(path) -> os.stat_result (raises OSError)
        self.tls_probe = tls_probe or _tls_probe
        self.http_get = http_get or _http_get
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


def _pg_settings(ctx):
    names = ("listen_addresses", "password_encryption", "shared_preload_libraries", "pgaudit.log",
             "ssl", "ssl_min_protocol_version", "log_connections", "log_disconnections")

    def gather():
        sql = "SELECT name, setting FROM pg_settings WHERE name IN (%s)" % ",".join("'%s'" % n for n in names)
        return dict((r[0], r[1] if len(r) > 1 else "") for r in _psql(ctx, sql))
    return ctx.cached("pg_settings", gather)


def _odoo_params(ctx, keys):
    db = ctx.s("odoo_database", "odoo")

    def gather():
        if not _psql(ctx, "SELECT to_regclass('public.ir_config_parameter') IS NOT NULL", db) == [["t"]]:
            raise Fail("database %s has no Odoo schema (ir_config_parameter missing)" % db)
        return dict((r[0], r[1] if len(r) > 1 else "") for r in
                    _psql(ctx, "SELECT key, value FROM ir_config_parameter", db))
    params = ctx.cached("odoo_params", gather)
    return dict((k, params.get(k)) for k in keys)


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


# --- checks: each returns (passed, observed, expected) --------------------------

def check_listeners(ctx):
    allowed = set(ctx.s("public_listeners", []))
    public = sorted({"%s:%s %s" % ("[%s]" % a if ":" in a else a, p, proc)
                     for a, p, proc in _listeners(ctx) if not _is_loopback(a)})
    unexpected = sorted({"%s/%s" % (p, proc) for a, p, proc in _listeners(ctx)
                         if not _is_loopback(a) and "%s/%s" % (p, proc) not in allowed})
    observed = {"public": public, "unexpected": unexpected}
    return not unexpected, observed, "only %s on non-loopback addresses" % (", ".join(sorted(allowed)) or "nothing")


def check_odoo_loopback(ctx):
    ports = [int(p) for p in ctx.s("odoo_ports", [8069, 8072])]
    seen = [(a, p, proc) for a, p, proc in _listeners(ctx) if p in ports]
    missing = [p for p in ports if not any(s[1] == p for s in seen)]
    public = ["%s:%s" % (a, p) for a, p, _proc in seen if not _is_loopback(a)]
    observed = {"listening": sorted("%s:%s %s" % s for s in seen), "missing": missing, "public": public}
    return not missing and not public, observed, "Odoo on 127.0.0.1:%s only" % "/".join(map(str, ports))


def check_pg_listen(ctx):
    value = _pg_settings(ctx).get("listen_addresses", "")
    addrs = [a.strip() for a in value.split(",") if a.strip()]
    if ctx.s("postgresql_tcp", False):
        ok = bool(addrs) and not any(a in ("*", "0.0.0.0", "::") for a in addrs)
        return ok, "listen_addresses = '%s'" % value, "explicit addresses (TLS with client certificates), no wildcard"
    return not addrs, "listen_addresses = '%s'" % value, "'' (unix socket only)"


def check_pg_scram(ctx):
    value = _pg_settings(ctx).get("password_encryption")
    return value == "scram-sha-256", "password_encryption = %s" % value, "scram-sha-256"


def check_pg_hba(ctx):
    rows = _psql(ctx, "SELECT line_number, type, auth_method, coalesce(error, '') FROM pg_hba_file_rules")
    bad = []
    for line, typ, method, error in (r + [""] * (4 - len(r)) for r in rows):
        if error:
            bad.append("line %s: error %s" % (line, error))
        elif method in WEAK_PG_AUTH:
            bad.append("line %s: %s %s" % (line, typ, method))
        elif typ in ("host", "hostnossl", "hostgssenc", "hostnogssenc") and method != "reject":
            bad.append("line %s: %s %s (not TLS-only)" % (line, typ, method))
    observed = {"rules": ["%s %s" % (r[1], r[2]) for r in rows if len(r) > 2], "problems": bad}
    return not bad, observed, "no trust/md5/password/ident; TCP only as hostssl"


def check_pg_tls(ctx):
    st = _pg_settings(ctx)
    ok = st.get("ssl") == "on" and st.get("ssl_min_protocol_version") in ("TLSv1.2", "TLSv1.3")
    return ok, "ssl = %s, ssl_min_protocol_version = %s" % (st.get("ssl"), st.get("ssl_min_protocol_version")), \
        "ssl = on, minimum TLSv1.2"


def check_pgaudit(ctx):
    st = _pg_settings(ctx)
    libs = [x.strip() for x in st.get("shared_preload_libraries", "").split(",")]
    log = st.get("pgaudit.log", "")
    ok = "pgaudit" in libs and log not in ("", "none")
    return ok, "shared_preload_libraries = %s; pgaudit.log = %s" % (",".join(libs), log), \
        "pgaudit preloaded, pgaudit.log set"


def _https_target(ctx):
    return ctx.s("https_address", "127.0.0.1"), int(ctx.s("https_port", 443)), ctx.s("https_server_name", "localhost")


def check_tls_protocols(ctx):
    host, port, name = _https_target(ctx)
    versions = [("TLSv1", ssl.TLSVersion.TLSv1, False), ("TLSv1.1", ssl.TLSVersion.TLSv1_1, False),
                ("TLSv1.2", ssl.TLSVersion.TLSv1_2, True), ("TLSv1.3", ssl.TLSVersion.TLSv1_3, True)]
    observed, ok = {}, True
    for label, version, want in versions:
        accepted, detail = ctx.tls_probe(host, port, name, version)
        observed[label] = ("accepted: " if accepted else "refused: ") + detail
        ok = ok and accepted == want
    return ok, observed, "TLSv1 and TLSv1.1 refused; TLSv1.2 and TLSv1.3 accepted"


def check_tls_weak_cipher(ctx):
    host, port, name = _https_target(ctx)
    weak = "AES128-SHA:AES256-SHA:DES-CBC3-SHA:RC4-SHA:NULL-SHA256:ECDHE-RSA-AES128-SHA"
    accepted, detail = ctx.tls_probe(host, port, name, ssl.TLSVersion.TLSv1_2, weak)
    return not accepted, ("accepted: " if accepted else "refused: ") + detail, \
        "static-RSA, CBC-SHA1, 3DES, RC4 and NULL suites refused (Mozilla intermediate only)"


def check_hsts(ctx):
    host, port, name = _https_target(ctx)
    status, headers = ctx.http_get("https", host, port, name, ctx.s("https_path", "/web/login"))
    value = next((v for k, v in headers if k.lower() == "strict-transport-security"), "")
    m = re.search(r"max-age=(\d+)", value)
    need_sub = LIMITS["hsts_include_subdomains"]
    ok = bool(m) and int(m.group(1)) >= LIMITS["hsts_min_age"] and (
        not need_sub or "includesubdomains" in value.lower())
    return ok, "HTTP %s; Strict-Transport-Security: %s" % (status, value or "(absent)"), \
        "max-age >= %d%s" % (LIMITS["hsts_min_age"], "; includeSubDomains" if need_sub else "")


def check_cookie_flags(ctx):
    host, port, name = _https_target(ctx)
    _status, headers = ctx.http_get("https", host, port, name, ctx.s("https_path", "/web/login"))
    cookie = next((v for k, v in headers if k.lower() == "set-cookie" and v.startswith("session_id=")), None)
    if cookie is not None:
        flags = [f.strip().lower() for f in cookie.split(";")[1:]]
        ok = "secure" in flags and "httponly" in flags and any(f.startswith("samesite=") for f in flags)
        return ok, "Set-Cookie: session_id=...; " + "; ".join(f for f in flags), "Secure; HttpOnly; SameSite"
    # no session cookie on this response: prove nginx's rewrite of it instead
    conf = _out(ctx, ["nginx", "-T"], "nginx -T")
    m = re.search(r"^\s*proxy_cookie_flags\s+session_id\s+([^;]*);", conf, re.M)
    ok = bool(m) and "secure" in m.group(1) and "samesite=" in m.group(1)
    return ok, "no session_id cookie on this response; nginx: proxy_cookie_flags session_id %s" % (
        m.group(1) if m else "(absent)"), "Secure; HttpOnly (Odoo); SameSite"


def check_http_redirect(ctx):
    _host, _port, name = _https_target(ctx)
    status, headers = ctx.http_get("http", ctx.s("https_address", "127.0.0.1"), int(ctx.s("http_port", 80)),
                                   name, "/web/login")
    location = next((v for k, v in headers if k.lower() == "location"), "")
    return status in (301, 308) and location.startswith("https://"), "HTTP %s Location: %s" % (status, location), \
        "301/308 to https://"


def check_db_manager_blocked(ctx):
    host, port, name = _https_target(ctx)
    status, _headers = ctx.http_get("https", host, port, name, "/web/database/manager")
    return status in (403, 404), "GET /web/database/manager -> HTTP %s" % status, "403 or 404 (blocked at nginx)"


def check_nginx_access_log(ctx):
    path = ctx.s("nginx_access_log", "/var/log/nginx/odoo-access.json.log")
    conf = _out(ctx, ["nginx", "-T"], "nginx -T")
    configured = re.search(r"^\s*access_log\s+%s\s" % re.escape(path), conf, re.M) is not None
    off = re.search(r"^\s*access_log\s+off\s*;", conf, re.M) is not None
    observed = "access_log %s %s%s" % (path, "configured" if configured else "absent",
                                       "; 'access_log off' present" if off else "")
    return configured and not off, observed, "every request logged (JSON)"


def check_odoo_conf(ctx):
    path = ctx.s("odoo_config", "/etc/odoo/odoo.conf")
    text = _text(ctx, path)
    opts = dict((k.strip(), v.strip()) for k, _sep, v in
                (line.partition("=") for line in text.splitlines() if "=" in line and not line.lstrip().startswith(("#", ";"))))
    want = {"list_db": "False", "proxy_mode": "True", "http_interface": "127.0.0.1"}
    problems = ["%s = %s" % (k, opts.get(k)) for k, v in want.items() if opts.get(k) != v]
    try:
        st = ctx.stat(path)
    except OSError:
        st = None
    if st is not None and st.st_mode & stat.S_IROTH:
        problems.append("%s is world-readable" % path)
    observed = dict((k, opts.get(k)) for k in want)
    observed["problems"] = problems
    return not problems, observed, "list_db = False, proxy_mode = True, http_interface = 127.0.0.1, not world-readable"


def check_odoo_master_password(ctx):
    text = ctx.read(ctx.s("odoo_config", "/etc/odoo/odoo.conf")) or ""
    m = re.search(r"^\s*admin_passwd\s*=\s*(\S+)", text, re.M)
    value = m.group(1) if m else ""
    h = re.match(r"^\$pbkdf2-sha512\$(\d+)\$", value)
    ok = bool(h) and int(h.group(1)) >= LIMITS["odoo_admin_passwd_rounds_min"]
    shown = ("$pbkdf2-sha512$%s$..." % h.group(1)) if h else ("(absent)" if not value else "not a pbkdf2-sha512 hash")
    return ok, "admin_passwd = " + shown, "pbkdf2_sha512 hash, >= %s rounds" % LIMITS["odoo_admin_passwd_rounds_min"]


def _exposure(ctx, unit):
    out = _out(ctx, ["systemd-analyze", "security", "--no-pager", unit], "systemd-analyze security")
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", out)
    if not m:
        raise Fail("no exposure figure in systemd-analyze output for %s" % unit)
    return float(m.group(1))


def check_odoo_sandbox(ctx):
    unit = ctx.s("odoo_service", "odoo.service")
    limit = LIMITS["sandbox_exposure_max"]["odoo.service"]
    figure = _exposure(ctx, unit)
    return figure <= limit, "exposure %s" % figure, "<= %s" % limit


def _sandboxed_units(ctx):
    """The units of the collection's sandbox table present here, with their limits
    (postgresql@ stands for every loaded cluster unit)."""
    units = []
    for name, limit in sorted(LIMITS["sandbox_exposure_max"].items()):
        if name == "odoo.service":
            continue  # odoo_sandbox
        if name.endswith("@"):
            rc, out, _err = ctx.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", name + "*.service"])
            units += [(line.split()[0], limit) for line in out.splitlines() if rc == 0 and line.strip()]
            continue
        rc, out, _err = ctx.run(["systemctl", "show", "-p", "LoadState", "--value", name])
        if rc == 0 and out.strip() == "loaded":
            units.append((name, limit))
    return units


def check_service_sandbox(ctx):
    units = _sandboxed_units(ctx)
    if not units:
        raise Fail("none of the sandboxed services (%s) is installed here" % ", ".join(sorted(LIMITS["sandbox_exposure_max"])))
    observed, over = {}, []
    for unit, limit in units:
        figure = _exposure(ctx, unit)
        observed[unit] = figure
        if figure > limit:
            over.append("%s %s > %s" % (unit, figure, limit))
    observed["over the limit"] = over
    return not over, observed, "exposure <= %s" % ", ".join(
        "%s %s" % (u, lim) for u, lim in sorted(LIMITS["sandbox_exposure_max"].items()) if u != "odoo.service")


def check_odoo_admin_disabled(ctx):
    rows = _psql(ctx, "SELECT login, active FROM res_users WHERE login = 'admin'", ctx.s("odoo_database", "odoo"))
    ok = all(r[1] == "f" for r in rows)
    return ok, "login 'admin': %s" % ("absent" if not rows else ("active" if not ok else "inactive")), \
        "built-in admin inactive once named admins exist"


def check_odoo_session_limits(ctx):
    idle_key = ctx.s("odoo_idle_param", "odoo_hipaa.session_idle_timeout")
    abs_key = ctx.s("odoo_lifetime_param", "odoo_hipaa.session_absolute_lifetime")
    p = _odoo_params(ctx, [idle_key, abs_key])
    # A site that documented a waiver for a longer limit passes the role's
    # validation; the report still fails the row until the evidence is waived too.
    idle_max = LIMITS["odoo_session_idle_timeout_max"]
    abs_max = LIMITS["odoo_session_absolute_lifetime_max"]
    try:
        ok = 0 < int(p[idle_key]) <= idle_max and int(p[idle_key]) <= int(p[abs_key]) <= abs_max
    except (TypeError, ValueError):
        ok = False
    return ok, p, "%s <= %s s, %s <= %s s" % (idle_key, idle_max, abs_key, abs_max)


def check_odoo_mfa(ctx):
    days_key = "odoo_hipaa.mfa_trusted_device_days"
    p = _odoo_params(ctx, ["auth_totp.policy", days_key])
    want = ctx.s("odoo_mfa_policy", "all_required")
    days_max = LIMITS["odoo_mfa_trusted_device_days_max"]
    try:
        # Missing means refused (0), as the session addon reads it.
        days_ok = 0 <= int(p[days_key] if p[days_key] not in (None, "") else 0) <= days_max
    except (TypeError, ValueError):
        days_ok = False
    return p["auth_totp.policy"] == want and days_ok, p, \
        "auth_totp.policy = %s; %s <= %d (the remember-this-device cookie skips the second factor)" % (
            want, days_key, days_max)


def check_odoo_login_cooldown(ctx):
    p = _odoo_params(ctx, ["base.login_cooldown_after", "base.login_cooldown_duration"])
    after_max, duration_min = LIMITS["odoo_login_cooldown_after_max"], LIMITS["odoo_login_cooldown_duration_min"]
    try:
        ok = (1 <= int(p["base.login_cooldown_after"]) <= after_max
              and int(p["base.login_cooldown_duration"]) >= duration_min)
    except (TypeError, ValueError, KeyError):
        ok = False
    return ok, p, "base.login_cooldown_after 1-%s, base.login_cooldown_duration >= %s s" % (after_max, duration_min)


def check_odoo_auditlog(ctx):
    models = ctx.s("odoo_phi_models", [])
    rows = _psql(ctx, "SELECT m.model FROM auditlog_rule r JOIN ir_model m ON m.id = r.model_id "
                      "WHERE r.state = 'subscribed' AND r.log_read AND r.log_write AND r.log_create AND r.log_unlink",
                 ctx.s("odoo_database", "odoo"))
    logged = sorted(r[0] for r in rows)
    missing = sorted(set(models) - set(logged))
    return not missing, {"subscribed_with_read": logged, "missing": missing}, \
        "subscribed rules logging read/write/create/unlink on %s" % ", ".join(models)


def check_backup_timer(ctx):
    ok, observed = _unit_active(ctx, "odoo-hipaa-backup.timer")
    return ok, observed, "timer active and enabled"


def check_backup_recent(ctx):
    data = _json_file(ctx, ctx.s("backup_state_dir", "/var/lib/odoo-hipaa-backup") + "/last-backup.json")
    age = _age_hours(ctx, data["time"])
    return data.get("result") == "ok" and age < 26, "last backup %s at %s (%.1f h ago)" % (
        data.get("result"), data["time"], age), "ok, less than 26 h old"


def check_backup_password_file(ctx):
    path = ctx.s("backup_password_file", "/etc/odoo-hipaa-backup/restic.pass")
    try:
        st = ctx.stat(path)
    except OSError:
        raise Fail("%s is missing" % path)
    mode = stat.S_IMODE(st.st_mode)
    return st.st_uid == 0 and not mode & 0o077, "%s owner uid %s mode %04o" % (path, st.st_uid, mode), \
        "root-owned, 0600 or stricter"


def check_restic_check(ctx):
    data = _json_file(ctx, ctx.s("backup_state_dir", "/var/lib/odoo-hipaa-backup") + "/last-check.json")
    age = _age_hours(ctx, data["time"])
    ok = data.get("result") == "ok" and age < 24 * 8 and _unit_active(ctx, "odoo-hipaa-backup-check.timer")[0]
    return ok, "last restic check %s at %s (%.1f h ago)" % (data.get("result"), data["time"], age), \
        "ok within 8 days; weekly timer active"


def check_restore_drill(ctx):
    data = _json_file(ctx, ctx.s("backup_state_dir", "/var/lib/odoo-hipaa-backup") + "/drill/last.json")
    age = _age_hours(ctx, data["time"])
    ok = data.get("result") == "ok" and age < 24 * 8 and _unit_active(ctx, "odoo-hipaa-restore-drill.timer")[0]
    # A host holds the database, the filestore or both (backup_components).
    restored = []
    if "rows_restored" in data:
        restored.append("%s rows" % data["rows_restored"])
    if "filestore_restored" in data:
        restored.append("%s files" % (data["filestore_restored"] or {}).get("files"))
    return ok, "last drill %s at %s (%.1f h ago): %s, RTO %s s" % (
        data.get("result"), data["time"], age, " and ".join(restored) or "nothing restored", data.get("rto_seconds")), \
        "ok within 8 days (row counts, file counts and checksums equal); weekly timer active"


def check_luks_volumes(ctx):
    paths = ctx.s("encrypted_paths", [])
    if not paths:
        raise Fail("no ePHI paths given")
    observed, ok = {}, True
    for path in paths:
        rc, src, _err = ctx.run(["findmnt", "-n", "-o", "SOURCE", "--target", path])
        src = src.strip()
        rc, types, _err = ctx.run(["lsblk", "-n", "-s", "-o", "TYPE,PATH", src]) if src.startswith("/dev/") else (1, "", "")
        chain = [line.split() for line in types.splitlines() if line.strip()]
        crypt = [p for t, p in (c for c in chain if len(c) == 2) if t == "crypt"]
        if not crypt:
            observed[path] = "on %s: not on a dm-crypt volume" % (src or "?")
            ok = False
            continue
        backing = [p for t, p in (c for c in chain if len(c) == 2) if t in ("disk", "part", "lvm", "loop")]
        dump = _out(ctx, ["cryptsetup", "luksDump", backing[0]], "cryptsetup luksDump") if backing else ""
        facts = {
            "version": re.search(r"^Version:\s*(\d+)", dump, re.M),
            "cipher": re.search(r"^\s*cipher:\s*(\S+)", dump, re.M),
            "key": re.search(r"Cipher key:\s*(\d+) bits", dump),
            "pbkdf": re.search(r"PBKDF:\s*(\S+)", dump),
        }
        facts = dict((k, m.group(1) if m else None) for k, m in facts.items())
        good = facts == {"version": "2", "cipher": "aes-xts-plain64", "key": "512", "pbkdf": "argon2id"}
        observed[path] = "on %s via %s: LUKS%s %s %s-bit %s" % (
            crypt[0], backing[0] if backing else "?", facts["version"], facts["cipher"], facts["key"], facts["pbkdf"])
        ok = ok and good
    return ok, observed, "every ePHI path on LUKS2 aes-xts-plain64 512-bit argon2id"


def check_sshd(ctx):
    out = _out(ctx, ["sshd", "-T"], "sshd -T")
    conf = dict((line.split(None, 1) + [""])[:2] for line in out.splitlines() if line.strip())
    want = {"permitrootlogin": "no", "passwordauthentication": "no", "kbdinteractiveauthentication": "no",
            "pubkeyauthentication": "yes"}
    observed = dict((k, conf.get(k)) for k in list(want) + ["allowgroups", "clientaliveinterval"])
    ok = all(conf.get(k) == v for k, v in want.items()) and bool(conf.get("allowgroups"))
    return ok, observed, "keys only, no root login, AllowGroups set"


def check_nftables(ctx):
    data = json.loads(_out(ctx, ["nft", "-j", "list", "ruleset"], "nft list ruleset"))
    chains = [c["chain"] for c in data.get("nftables", []) if "chain" in c]
    inputs = ["%s %s policy %s" % (c.get("family"), c.get("name"), c.get("policy")) for c in chains
              if c.get("hook") == "input"]
    ok = any(c.get("hook") == "input" and c.get("policy") == "drop" for c in chains)
    return ok, {"input chains": inputs}, "an input hook with policy drop"


def check_unattended_upgrades(ctx):
    out = _out(ctx, ["apt-config", "dump", "APT::Periodic"], "apt-config dump")
    enabled = re.search(r'APT::Periodic::Unattended-Upgrade "1";', out) is not None
    lists = re.search(r'APT::Periodic::Update-Package-Lists "1";', out) is not None
    return enabled and lists, "Update-Package-Lists %s, Unattended-Upgrade %s" % (
        "1" if lists else "off", "1" if enabled else "off"), "both 1 (daily)"


def check_time_sync(ctx):
    out = _out(ctx, ["chronyc", "-n", "sources"], "chronyc sources")
    selected = [line.split()[1] for line in out.splitlines() if line[:2] in ("^*", "^+", "=*", "=+")]
    return bool(selected), {"usable sources": selected}, "at least one reachable, selected time source"


def check_fail2ban(ctx):
    out = _out(ctx, ["fail2ban-client", "status"], "fail2ban-client status")
    m = re.search(r"Jail list:\s*(.*)", out)
    jails = [j.strip() for j in (m.group(1) if m else "").split(",") if j.strip()]
    want = ctx.s("fail2ban_jails", ["sshd", "odoo"])
    return all(j in jails for j in want), {"jails": jails}, "jails %s active" % ", ".join(want)


def check_auditd_rules(ctx):
    out = _out(ctx, ["auditctl", "-l"], "auditctl -l")
    keys = sorted({a or b for a, b in re.findall(r"-k (\S+)|key=(\S+)", out)})
    want = ctx.s("auditd_keys", [])
    missing = [k for k in want if k not in keys]
    return not missing and bool(keys), {"keys": keys, "missing": missing}, "rules loaded with keys %s" % ", ".join(want)


def check_aide(ctx):
    conf = ctx.s("aide_config", "/etc/aide/odoo-hipaa.conf")
    db = ctx.s("aide_database", "/var/lib/aide/odoo-hipaa.db")
    try:
        ctx.stat(db)
    except OSError:
        raise Fail("no AIDE database at %s" % db)
    timer_ok, timer = _unit_active(ctx, ctx.s("aide_timer", "odoo-hipaa-aide-check.timer"))
    # aide --check only reads: the baseline is compared, never rewritten.
    rc, out, err = ctx.run(["aide", "--check", "--config", conf])
    changed = [line.strip() for line in out.splitlines() if re.match(r"^[a-z!][^:]{8,}: /", line)]
    counts = dict((k.lower(), int(v)) for k, v in re.findall(r"^\s*(Added|Removed|Changed) entries:\s*(\d+)", out, re.M))
    verdict = {0: "clean"}.get(rc, "differences found (rc %s)" % rc if rc < 14 else "error (rc %s): %s" % (
        rc, err.strip()[:200]))
    return timer_ok and rc == 0, {"aide --check": verdict, "entries": counts, "differences": changed[:20],
                                  "timer": timer}, \
        "baseline present, aide --check clean, daily check timer active"


def check_log_forwarding(ctx):
    path = ctx.s("log_shipping_config", "/etc/rsyslog.conf")
    text = _text(ctx, path)
    live = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    actions = re.findall(r'action\(\s*type="(?:omrelp|omfwd)"(.*?)\)\s*$', live, re.S | re.M)
    if not actions:
        raise Fail("no forwarding action (omrelp/omfwd) in %s" % path)
    flat = re.sub(r"\s+", " ", actions[0])
    checks = {
        "TLS": re.search(r'\btls="on"|StreamDriverMode="1"', flat, re.I),
        "peer authenticated by name": re.search(r'tls\.authmode="name"|StreamDriverAuthMode="x509/name"', flat, re.I),
        "disk-assisted queue": re.search(r'queue\.filename="[^"]+"', flat, re.I),
        "queue saved on shutdown": re.search(r'queue\.saveOnShutdown="on"', flat, re.I),
        "retried without end": not re.search(r'action\.resumeRetryCount="(?!-1")', flat, re.I),
    }
    target = re.search(r'target="([^"]+)"', flat)
    missing = [k for k, m in checks.items() if not m]
    return not missing, {"config": path, "target": target.group(1) if target else None, "missing": missing}, \
        "forwarding over TLS with the aggregator's name checked; disk-assisted queue saved on shutdown"


def check_log_retention(ctx):
    path = ctx.s("log_retention_file", "/etc/logrotate.d/odoo-hipaa-log-aggregator")
    text = _text(ctx, path)
    rotate = re.search(r"^\s*rotate\s+(\d+)", text, re.M)
    maxage = re.search(r"^\s*maxage\s+(\d+)", text, re.M)
    days = min(int(m.group(1)) for m in (rotate, maxage)) if rotate and maxage else 0
    compressed = re.search(r"^\s*compress\b", text, re.M) is not None
    return days >= 2190, "%s: daily, rotate %s, maxage %s%s" % (
        path, rotate.group(1) if rotate else "?", maxage.group(1) if maxage else "?",
        ", compressed" if compressed else ""), ">= 2190 days (6 years)"


CHECKS = {
    "listeners": ("AC-1", "Only the declared services listen on public addresses", check_listeners),
    "odoo_loopback": ("AC-1", "Odoo listens on 127.0.0.1 only", check_odoo_loopback),
    "pg_listen": ("AC-1", "PostgreSQL listens on the unix socket only (or TLS hosts)", check_pg_listen),
    "db_manager_blocked": ("AC-1", "Odoo database manager blocked at nginx", check_db_manager_blocked),
    "odoo_conf": ("AC-1", "odoo.conf: no database list, proxy mode, loopback, not world-readable", check_odoo_conf),
    "nftables": ("AC-1", "Firewall default-deny inbound", check_nftables),
    "sshd": ("AC-1", "SSH: keys only, no root login, allowed groups", check_sshd),
    "odoo_admin_disabled": ("AC-2", "Built-in 'admin' login deactivated", check_odoo_admin_disabled),
    "odoo_session_limits": ("AC-3", "Idle timeout and absolute session lifetime", check_odoo_session_limits),
    "luks_volumes": ("AC-4", "ePHI volumes on LUKS2", check_luks_volumes),
    "pgaudit": ("AU-1", "pgaudit loaded on PostgreSQL", check_pgaudit),
    "nginx_access_log": ("AU-1", "nginx access log", check_nginx_access_log),
    "odoo_auditlog": ("AU-1", "Odoo auditlog rules incl. reads on PHI models", check_odoo_auditlog),
    "auditd_rules": ("AU-1", "auditd rules loaded", check_auditd_rules),
    "log_retention": ("AU-2", "Aggregator keeps logs at least 6 years", check_log_retention),
    "fail2ban": ("AU-3", "fail2ban jails for SSH and Odoo logins", check_fail2ban),
    "odoo_login_cooldown": ("AU-3", "Odoo login cooldown", check_odoo_login_cooldown),
    "aide": ("IN-1", "AIDE file-integrity baseline and daily check", check_aide),
    "restic_check": ("IN-1", "Backup repository verified (restic check)", check_restic_check),
    "log_forwarding": ("IN-1", "Logs shipped over TLS with a disk-assisted queue", check_log_forwarding),
    "pg_scram": ("IA-1", "PostgreSQL password_encryption", check_pg_scram),
    "pg_hba": ("IA-1", "pg_hba.conf without trust/md5", check_pg_hba),
    "odoo_mfa": ("IA-1", "Odoo MFA policy", check_odoo_mfa),
    "odoo_master_password": ("IA-1", "Odoo master password stored hashed", check_odoo_master_password),
    "tls_protocols": ("TS-1", "HTTPS protocol versions", check_tls_protocols),
    "tls_weak_cipher": ("TS-1", "Weak cipher suites refused", check_tls_weak_cipher),
    "hsts": ("TS-1", "HSTS header", check_hsts),
    "cookie_flags": ("TS-1", "session_id cookie flags", check_cookie_flags),
    "http_redirect": ("TS-1", "HTTP redirects to HTTPS", check_http_redirect),
    "pg_tls": ("TS-1", "PostgreSQL TLS settings", check_pg_tls),
    "backup_timer": ("CP-1", "Nightly backup timer", check_backup_timer),
    "backup_recent": ("CP-1", "Last backup less than 26 h old", check_backup_recent),
    "backup_password_file": ("CP-1", "Repository password file not readable by others", check_backup_password_file),
    "restore_drill": ("CP-2", "Restore drill passed recently", check_restore_drill),
    "odoo_sandbox": ("SH-1", "Odoo service sandbox exposure", check_odoo_sandbox),
    "service_sandbox": ("SH-1", "nginx, PostgreSQL, rsyslog and backup sandbox exposure", check_service_sandbox),
    "unattended_upgrades": ("SH-1", "Automatic security updates", check_unattended_upgrades),
    "time_sync": ("SH-1", "Time synchronised", check_time_sync),
}


def evaluate(ctx, checks, waivers=()):
    """Run the named checks and return their rows."""
    waived = dict((w["check"], w["reason"]) for w in waivers)
    rows = []
    for name in checks:
        control, title, fn = CHECKS[name]
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


# What the checks read from `settings` (DOCUMENTATION's suboptions; the code's
# defaults in ctx.s() are the same, tests/unit/test_hipaa_evidence.py holds them to it).
SETTINGS_SPEC = dict(
    public_listeners=dict(type="list", elements="str", default=[]),
    odoo_ports=dict(type="list", elements="int", default=[8069, 8072]),
    odoo_config=dict(type="str", default="/etc/odoo/odoo.conf"),
    odoo_service=dict(type="str", default="odoo.service"),
    odoo_database=dict(type="str", default="odoo"),
    odoo_idle_param=dict(type="str", default="odoo_hipaa.session_idle_timeout"),
    odoo_lifetime_param=dict(type="str", default="odoo_hipaa.session_absolute_lifetime"),
    odoo_mfa_policy=dict(type="str", default="all_required"),
    odoo_phi_models=dict(type="list", elements="str", default=[]),
    postgresql_os_user=dict(type="str", default="postgres"),
    postgresql_tcp=dict(type="bool", default=False),
    https_address=dict(type="str", default="127.0.0.1"),
    https_port=dict(type="int", default=443),
    http_port=dict(type="int", default=80),
    https_server_name=dict(type="str", default="localhost"),
    https_path=dict(type="str", default="/web/login"),
    nginx_access_log=dict(type="str", default="/var/log/nginx/odoo-access.json.log"),
    encrypted_paths=dict(type="list", elements="str", default=[]),
    backup_state_dir=dict(type="str", default="/var/lib/odoo-hipaa-backup"),
    backup_password_file=dict(type="str", default="/etc/odoo-hipaa-backup/restic.pass"),
    fail2ban_jails=dict(type="list", elements="str", default=["sshd", "odoo"]),
    auditd_keys=dict(type="list", elements="str", default=[], no_log=False),  # audit rule keys, not secrets
    aide_config=dict(type="str", default="/etc/aide/odoo-hipaa.conf"),
    aide_database=dict(type="str", default="/var/lib/aide/odoo-hipaa.db"),
    aide_timer=dict(type="str", default="odoo-hipaa-aide-check.timer"),
    log_shipping_config=dict(type="str", default="/etc/rsyslog.conf"),
    log_retention_file=dict(type="str", default="/etc/logrotate.d/odoo-hipaa-log-aggregator"),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type="list", elements="str", required=True),
            settings=dict(type="dict", default={}, options=SETTINGS_SPEC),
            waivers=dict(type="list", elements="dict", default=[], options=dict(
                check=dict(type="str", required=True), reason=dict(type="str", required=True))),
        ),
        supports_check_mode=True,
    )
    unknown = [c for c in module.params["checks"] + [w["check"] for w in module.params["waivers"]]
               if c not in CHECKS]
    if unknown:
        module.fail_json(msg="unknown checks: %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(CHECKS))))
    if any(not w["reason"].strip() for w in module.params["waivers"]):
        module.fail_json(msg="every waiver needs a written reason")

    def run(argv):
        try:
            return module.run_command(argv, environ_update={"LC_ALL": "C"}, handle_exceptions=False)
        except OSError as exc:  # the tool is not installed: no proof, the check fails
            return 127, "", "%s: %s" % (argv[0], exc.strerror)

    ctx = Context(run, module.params["settings"])
    module.exit_json(changed=False, rows=evaluate(ctx, module.params["checks"], module.params["waivers"]))


if __name__ == "__main__":
    main()
