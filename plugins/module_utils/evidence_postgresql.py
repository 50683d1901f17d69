# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL layer's evidence: listen addresses, authentication, TLS, pgaudit.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import _psql


WEAK_PG_AUTH = {"trust", "md5", "password", "ident"}


def _pg_settings(ctx):
    names = ("listen_addresses", "password_encryption", "shared_preload_libraries", "pgaudit.log",
             "ssl", "ssl_min_protocol_version", "log_connections", "log_disconnections")

    def gather():
        sql = "SELECT name, setting FROM pg_settings WHERE name IN (%s)" % ",".join("'%s'" % n for n in names)
        return dict((r[0], r[1] if len(r) > 1 else "") for r in _psql(ctx, sql))
    return ctx.cached("pg_settings", gather)


# --- checks: each returns (passed, observed, expected) --------------------------

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


CHECKS = {
    "pg_listen": ("AC-1", "PostgreSQL listens on the unix socket only (or TLS hosts)", check_pg_listen),
    "pgaudit": ("AU-1", "pgaudit loaded on PostgreSQL", check_pgaudit),
    "pg_scram": ("IA-1", "PostgreSQL password_encryption", check_pg_scram),
    "pg_hba": ("IA-1", "pg_hba.conf without trust/md5", check_pg_hba),
    "pg_tls": ("TS-1", "PostgreSQL TLS settings", check_pg_tls),
}
