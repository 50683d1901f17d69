# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx layer's evidence, asked of nginx itself: TLS protocols and ciphers,
HSTS, the session cookie, the HTTP redirect, the blocked database manager and
the access log.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import re
import ssl

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import _out
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


CHECKS = {
    "db_manager_blocked": ("AC-1", "Odoo database manager blocked at nginx", check_db_manager_blocked),
    "nginx_access_log": ("AU-1", "nginx access log", check_nginx_access_log),
    "tls_protocols": ("TS-1", "HTTPS protocol versions", check_tls_protocols),
    "tls_weak_cipher": ("TS-1", "Weak cipher suites refused", check_tls_weak_cipher),
    "hsts": ("TS-1", "HSTS header", check_hsts),
    "cookie_flags": ("TS-1", "session_id cookie flags", check_cookie_flags),
    "http_redirect": ("TS-1", "HTTP redirects to HTTPS", check_http_redirect),
}
