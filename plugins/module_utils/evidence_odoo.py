# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Odoo layer's evidence: its listeners, odoo.conf, and what its database says
(admin login, session limits, MFA, login cooldown, auditlog rules).

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import re
import stat

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import Fail, _is_loopback, _listeners, _psql, _text
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS


def _odoo_params(ctx, keys):
    db = ctx.s("odoo_database", "odoo")

    def gather():
        if not _psql(ctx, "SELECT to_regclass('public.ir_config_parameter') IS NOT NULL", db) == [["t"]]:
            raise Fail("database %s has no Odoo schema (ir_config_parameter missing)" % db)
        return dict((r[0], r[1] if len(r) > 1 else "") for r in
                    _psql(ctx, "SELECT key, value FROM ir_config_parameter", db))
    params = ctx.cached("odoo_params", gather)
    return dict((k, params.get(k)) for k in keys)


# --- checks: each returns (passed, observed, expected) --------------------------

def check_odoo_loopback(ctx):
    ports = [int(p) for p in ctx.s("odoo_ports", [8069, 8072])]
    seen = [(a, p, proc) for a, p, proc in _listeners(ctx) if p in ports]
    missing = [p for p in ports if not any(s[1] == p for s in seen)]
    public = ["%s:%s" % (a, p) for a, p, _proc in seen if not _is_loopback(a)]
    observed = {"listening": sorted("%s:%s %s" % s for s in seen), "missing": missing, "public": public}
    return not missing and not public, observed, "Odoo on 127.0.0.1:%s only" % "/".join(map(str, ports))


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


CHECKS = {
    "odoo_loopback": ("AC-1", "Odoo listens on 127.0.0.1 only", check_odoo_loopback),
    "odoo_conf": ("AC-1", "odoo.conf: no database list, proxy mode, loopback, not world-readable", check_odoo_conf),
    "odoo_admin_disabled": ("AC-2", "Built-in 'admin' login deactivated", check_odoo_admin_disabled),
    "odoo_session_limits": ("AC-3", "Idle timeout and absolute session lifetime", check_odoo_session_limits),
    "odoo_auditlog": ("AU-1", "Odoo auditlog rules incl. reads on PHI models", check_odoo_auditlog),
    "odoo_login_cooldown": ("AU-3", "Odoo login cooldown", check_odoo_login_cooldown),
    "odoo_mfa": ("IA-1", "Odoo MFA policy", check_odoo_mfa),
    "odoo_master_password": ("IA-1", "Odoo master password stored hashed", check_odoo_master_password),
}
