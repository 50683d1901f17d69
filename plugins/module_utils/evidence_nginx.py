# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx layer's evidence, asked of nginx itself: TLS protocols and ciphers,
HSTS, the session cookie, the HTTP redirect, the blocked database manager, the
access log, the served certificate and its renewal by ACME (certbot).

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import re
import socket
import ssl

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import (
    Fail, _age_hours, _out, _unit_active)
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS


def _https_target(ctx):
    return ctx.s("https_address", "127.0.0.1"), int(ctx.s("https_port", 443)), ctx.s("https_server_name", "localhost")


# --- checks: each returns (passed, observed, expected) --------------------------

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


# --- certificates (stdlib only: the module runs on the managed host) -----------

def _tlv(der, pos):
    """(tag, start of the content, end of the content) of the DER element at pos."""
    tag, length = der[pos], der[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(der[pos:pos + count], "big")
        pos += count
    if pos + length > len(der):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _asn1_time(tag, raw):
    text = raw.decode("ascii").rstrip("Z")
    fmt = "%y%m%d%H%M%S" if tag == 0x17 else "%Y%m%d%H%M%S"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)


_SAN_OID = bytes([0x06, 0x03, 0x55, 0x1D, 0x11])   # 2.5.29.17 subjectAltName


def parse_certificate(der):
    """{serial, not_before, not_after, dns, ip} of an X.509 certificate (DER)."""
    _t, start, _end = _tlv(der, 0)                  # Certificate
    _t, pos, tbs_end = _tlv(der, start)             # TBSCertificate
    tag, vstart, vend = _tlv(der, pos)
    if tag == 0xA0:                                 # [0] version
        pos = vend
        tag, vstart, vend = _tlv(der, pos)
    serial = int.from_bytes(der[vstart:vend], "big")
    pos = vend
    for _skip in ("signature", "issuer"):
        pos = _tlv(der, pos)[2]
    _t, vstart, pos = _tlv(der, pos)                # validity
    t1, a, b = _tlv(der, vstart)
    t2, c, d = _tlv(der, b)
    cert = {"serial": serial, "not_before": _asn1_time(t1, der[a:b]), "not_after": _asn1_time(t2, der[c:d]),
            "dns": [], "ip": []}
    for _skip in ("subject", "subjectPublicKeyInfo"):
        pos = _tlv(der, pos)[2]
    while pos < tbs_end:
        tag, start, pos = _tlv(der, pos)
        if tag != 0xA3:                             # [3] extensions
            continue
        _t, epos, eend = _tlv(der, start)
        while epos < eend:
            _t, xstart, epos = _tlv(der, epos)      # Extension
            if der[xstart:xstart + len(_SAN_OID)] != _SAN_OID:
                continue
            inner = xstart + len(_SAN_OID)
            tag, vstart, vend = _tlv(der, inner)
            if tag == 0x01:                         # critical BOOLEAN
                tag, vstart, vend = _tlv(der, vend)
            _t, npos, nend = _tlv(der, vstart)      # GeneralNames
            while npos < nend:
                tag, nstart, npos = _tlv(der, npos)
                if tag == 0x82:
                    cert["dns"].append(der[nstart:npos].decode("ascii").lower())
                elif tag == 0x87:
                    cert["ip"].append(str(ipaddress.ip_address(der[nstart:npos])))
    return cert


def _pem_certificates(text):
    return [base64.b64decode("".join(m.split()))
            for m in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text or "", re.S)]


def _served_certificate(host, port, server_name, timeout=10):
    """The leaf certificate (DER) nginx serves for server_name, unverified."""
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls_ctx.check_hostname = False
    tls_ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with tls_ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.getpeercert(binary_form=True)


def _covers(cert, name):
    name = name.lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name)) in cert["ip"]
    except ValueError:
        pass
    wildcard = "*." + name.split(".", 1)[1] if "." in name else None
    return name in cert["dns"] or (wildcard is not None and wildcard in cert["dns"])


def serial_hex(serial):
    """A serial number as `openssl x509 -serial` prints it (upper case, whole bytes)."""
    text = "%X" % serial
    return "0" + text if len(text) % 2 else text


def required_days_left(lifetime_days):
    """tls_cert_min_days_left, or a third of a lifetime shorter than three times that."""
    minimum = LIMITS["tls_cert_min_days_left"]
    return minimum if lifetime_days >= 3 * minimum else lifetime_days / 3.0


def _configured_certificate(ctx):
    """(path, text) of the certificate file nginx's configuration names (ssl_certificate)."""
    conf = _out(ctx, ["nginx", "-T"], "nginx -T")
    m = re.search(r"^\s*ssl_certificate\s+([^;\s]+)\s*;", conf, re.M)
    if not m:
        raise Fail("nginx -T names no ssl_certificate")
    path = m.group(1).strip("'\"")
    if not path.startswith("/"):
        path = "/etc/nginx/" + path
    return path, ctx.read(path)


def check_tls_certificate(ctx):
    host, port, name = _https_target(ctx)
    fetch = getattr(ctx, "served_certificate", None) or _served_certificate
    served = parse_certificate(fetch(host, port, name))
    days_left = (served["not_after"] - ctx.now).total_seconds() / 86400.0
    lifetime = (served["not_after"] - served["not_before"]).total_seconds() / 86400.0
    need = required_days_left(lifetime)
    problems = []
    if days_left < need:
        problems.append("%.1f days left, %.1f required" % (days_left, need))
    if not _covers(served, name):
        problems.append("does not cover %s" % name)
    try:
        path, text = _configured_certificate(ctx)
    except Fail as exc:   # e.g. a broken file on disk: nginx still serves what it loaded before
        path = "(unknown)"
        problems.append("cannot tell which certificate nginx's configuration names: %s" % exc)
    else:
        files = _pem_certificates(text)
        configured = parse_certificate(files[0]) if files else None
        if configured is None:
            problems.append("%s is missing or holds no certificate" % path)
        elif configured["serial"] != served["serial"]:
            problems.append("serves serial %s but %s holds serial %s (not reloaded since the renewal?)" % (
                serial_hex(served["serial"]), path, serial_hex(configured["serial"])))
    observed = {
        "serial": serial_hex(served["serial"]),
        "not_after": served["not_after"].isoformat(),
        "days_left": round(days_left, 1),
        "lifetime_days": round(lifetime, 1),
        "names": served["dns"] + served["ip"],
        "configured_file": path,
        "problems": problems or "none",
    }
    return not problems, observed, (
        "the served certificate covers %s, has >= %d days left (a third of a lifetime under %d days) and is the "
        "one nginx's configuration names" % (name, LIMITS["tls_cert_min_days_left"], 3 * LIMITS["tls_cert_min_days_left"]))


def _renewal_params(text):
    """key = value lines of certbot's renewal configuration (the last one of a key wins)."""
    params = {}
    for line in (text or "").splitlines():
        m = re.match(r"^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$", line)
        if m:
            params[m.group(1)] = m.group(2)
    return params


def _json_or_none(ctx, path):
    text = ctx.read(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise Fail("%s is not JSON" % path)


def check_acme_renewal(ctx):
    cert_name = ctx.s("acme_cert_name", "odoo-hipaa")
    server = ctx.s("acme_server", "")
    hook = ctx.s("acme_deploy_hook", "/usr/local/sbin/odoo-hipaa-acme-deploy")
    state = ctx.s("acme_state_dir", "/var/lib/odoo-hipaa-acme")
    problems = []
    timer_ok, timer = _unit_active(ctx, "certbot.timer")
    if not timer_ok:
        problems.append("certbot.timer is not active and enabled")
    conf_path = "/etc/letsencrypt/renewal/%s.conf" % cert_name
    conf_text = ctx.read(conf_path)
    params = _renewal_params(conf_text)
    if conf_text is None:
        problems.append("%s is missing (never issued)" % conf_path)
    elif not server or params.get("server") != server:
        problems.append("renews from %s, configured %s" % (params.get("server", "(none)"), server or "(none)"))
    if params.get("renew_hook") != hook:
        problems.append("deploy hook is %s, expected %s" % (params.get("renew_hook", "(none)"), hook))
    else:
        try:
            st = ctx.stat(hook)
            if st.st_uid != 0 or not st.st_mode & 0o100 or st.st_mode & 0o022:
                problems.append("%s is not a root-owned executable only root may change" % hook)
        except OSError:
            problems.append("%s is missing" % hook)
    last = _json_or_none(ctx, state + "/last-renewal.json")
    failure = _json_or_none(ctx, state + "/last-failure.json")
    if last is None:
        problems.append("no renewal recorded (%s/last-renewal.json)" % state)
    elif last.get("result") != "ok":
        problems.append("last renewal: %s" % last.get("result"))
    if failure is not None and (last is None or _age_hours(ctx, failure.get("time", "")) < _age_hours(
            ctx, last.get("time", ""))):
        problems.append("renewal failed at %s, after the last successful one" % failure.get("time"))
    observed = {
        "timer": timer,
        "server": params.get("server", "(none)"),
        "deploy_hook": params.get("renew_hook", "(none)"),
        "last_renewal": last or "(none)",
        "last_failure": failure or "(none)",
        "problems": problems or "none",
    }
    return not problems, observed, (
        "certbot.timer active and enabled; the last renewal succeeded (nginx reloaded) with no failure since; renews "
        "from %s with the deploy hook %s" % (server or "(the configured server)", hook))


CHECKS = {
    "db_manager_blocked": ("AC-1", "Odoo database manager blocked at nginx", check_db_manager_blocked),
    "nginx_access_log": ("AU-1", "nginx access log", check_nginx_access_log),
    "tls_protocols": ("TS-1", "HTTPS protocol versions", check_tls_protocols),
    "tls_weak_cipher": ("TS-1", "Weak cipher suites refused", check_tls_weak_cipher),
    "hsts": ("TS-1", "HSTS header", check_hsts),
    "cookie_flags": ("TS-1", "session_id cookie flags", check_cookie_flags),
    "http_redirect": ("TS-1", "HTTP redirects to HTTPS", check_http_redirect),
    "tls_certificate": ("TS-1", "Served TLS certificate valid, current and covering the name", check_tls_certificate),
    "acme_renewal": ("TS-1", "TLS certificate renewed by ACME (certbot)", check_acme_renewal),
}
