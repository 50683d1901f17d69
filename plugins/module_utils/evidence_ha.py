# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HA database tier's evidence (#18): the Patroni cluster as its members
see it, replication over TLS, etcd's TLS and client certificates, and the
Patroni REST API's client-certificate requirement.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import json
import re
import ssl

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import Fail, _out, _psql, _text

PATRONI_DIR = "/etc/patroni"
ETCD_DEFAULTS = "/etc/default/etcd"
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")
# Nothing listens or answers: no proof either way (a refused handshake is an SSL error or a reset).
UNREACHABLE = (ConnectionRefusedError, TimeoutError)


def _patroni_config(ctx):
    """(path, text) of this member's Patroni configuration (/etc/patroni/<version>-main.yml)."""
    def gather():
        found = [p for p in _out(ctx, ["find", PATRONI_DIR, "-maxdepth", "1", "-name", "*-main.yml"],
                                 "find %s" % PATRONI_DIR).split() if p]
        if len(found) != 1:
            raise Fail("expected one Patroni configuration in %s, found %s" % (PATRONI_DIR, found or "none"))
        return found[0], _text(ctx, found[0])
    return ctx.cached("patroni_config", gather)


def _section(text, key):
    """The lines of one top-level section of a YAML file (no YAML parser on the host)."""
    lines, inside = [], False
    for line in text.splitlines():
        if re.match(r"^\S", line):
            inside = line.split("#")[0].strip() == key + ":"
            continue
        if inside:
            lines.append(line.split("#")[0].rstrip())
    return [line for line in lines if line.strip()]


def _value(lines, key):
    for line in lines:
        m = re.match(r"^\s+%s:\s*(.*)$" % re.escape(key), line)
        if m:
            return m.group(1).strip().strip("\"'")
    return None


def _members(ctx):
    def gather():
        path, _text_ = _patroni_config(ctx)
        try:
            return json.loads(_out(ctx, ["patronictl", "-c", path, "list", "-f", "json"], "patronictl list"))
        except ValueError:
            raise Fail("patronictl list did not print JSON")
    return ctx.cached("patroni_members", gather)


# --- checks: each returns (passed, observed, expected) --------------------------

def check_cluster_sync_standby(ctx):
    members = _members(ctx)
    declared = sorted(ctx.s("patroni_members", []))
    seen = sorted(m.get("Member", "") for m in members)
    roles = [m.get("Role", "") for m in members]
    problems = []
    if roles.count("Leader") != 1:
        problems.append("%d leaders" % roles.count("Leader"))
    if ctx.s("patroni_synchronous_mode", True) and "Sync Standby" not in roles:
        problems.append("no synchronous standby: a failover now could lose acknowledged commits")
    down = ["%s %s" % (m.get("Member"), m.get("State")) for m in members
            if m.get("State") not in ("running", "streaming")]
    if down:
        problems.append("not running or streaming: " + ", ".join(down))
    if declared and seen != declared:
        problems.append("members %s, the inventory declares %s" % (seen, declared))
    listing = ["%s %s %s (lag %s MB)" % (m.get("Member"), m.get("Role"), m.get("State"), m.get("Lag in MB", 0))
               for m in members]
    observed = {"members": listing, "problems": problems}
    expected = "one leader, %severy declared member running or streaming" % (
        "a synchronous standby, " if ctx.s("patroni_synchronous_mode", True) else "")
    return not problems, observed, expected


def check_pg_replication_tls(ctx):
    user = ctx.s("patroni_replication_user", "replicator")
    if _psql(ctx, "SELECT pg_is_in_recovery()") == [["f"]]:
        rows = _psql(ctx, "SELECT r.application_name, CASE WHEN s.ssl THEN 't' ELSE 'f' END, coalesce(s.version, ''),"
                          " coalesce(s.client_dn, '') FROM pg_stat_replication r LEFT JOIN pg_stat_ssl s USING (pid)"
                          " ORDER BY 1")
        rows = [(r + [""] * 4)[:4] for r in rows]
        want = max(len(ctx.s("patroni_members", [])) - 1, 1)
        bad = ["%s: ssl %s %s, client %s" % tuple(r) for r in rows
               if r[1] != "t" or r[2] not in TLS_VERSIONS or not r[3].endswith("CN=" + user)]
        if len(rows) < want:
            bad.append("%d standby connection(s), %d expected" % (len(rows), want))
        observed = {"role": "primary", "standbys": ["%s %s %s" % (r[0], r[2], r[3]) for r in rows], "problems": bad}
        return not bad, observed, "every standby streams over TLS 1.2+ with the certificate CN=%s" % user
    rows = _psql(ctx, "SELECT status, conninfo FROM pg_stat_wal_receiver")
    status, conninfo = (rows[0] + ["", ""])[:2] if rows else ("", "")
    ok = status == "streaming" and "sslmode=verify-full" in conninfo and "sslcert=" in conninfo
    return ok, {"role": "replica", "wal_receiver": status or "none",
                "tls": re.findall(r"ssl\w+=\S+", conninfo)}, \
        "streaming from the primary with sslmode=verify-full and a client certificate"


def check_etcd_tls(ctx):
    conf = dict(line.split("=", 1) for line in _text(ctx, ETCD_DEFAULTS).splitlines()
                if "=" in line and not line.lstrip().startswith("#"))
    urls = [u for k in ("ETCD_LISTEN_CLIENT_URLS", "ETCD_LISTEN_PEER_URLS") for u in conf.get(k, "").split(",") if u]
    problems = ["%s is not https" % u for u in urls if not u.startswith("https://")]
    for key in ("ETCD_CLIENT_CERT_AUTH", "ETCD_PEER_CLIENT_CERT_AUTH"):
        if conf.get(key) != "true":
            problems.append("%s=%s" % (key, conf.get(key, "")))
    for key in ("ETCD_AUTO_TLS", "ETCD_PEER_AUTO_TLS", "ETCD_ENABLE_V2"):
        if conf.get(key, "false") != "false":
            problems.append("%s=%s" % (key, conf.get(key)))
    if not urls:
        problems.append("no listen URLs in %s" % ETCD_DEFAULTS)
    # live: a handshake without a client certificate must fail on the client port
    client = conf.get("ETCD_LISTEN_CLIENT_URLS", "").split(",")[0]
    m = re.match(r"^https://\[?([^\]]+?)\]?:(\d+)$", client)
    probe = "not probed"
    if m:
        accepted, detail = ctx.tls_probe(m.group(1), int(m.group(2)), m.group(1), ssl.TLSVersion.TLSv1_2)
        probe = "TLS 1.2 without a client certificate: %s" % ("ACCEPTED " + detail if accepted else "refused")
        if accepted:
            problems.append("the client port completed a handshake without a client certificate")
        elif detail.startswith(tuple(cls.__name__ for cls in UNREACHABLE)):
            probe = "TLS 1.2 without a client certificate: not reachable (%s)" % detail
            problems.append("etcd's client port %s is not reachable" % client)
    return not problems, {"listen": urls, "probe": probe, "problems": problems}, \
        "client and peer URLs https only, client certificates required on both, no auto TLS, no v2 API"


def check_patroni_api_auth(ctx):
    _path, text = _patroni_config(ctx)
    api = _section(text, "restapi")
    problems = []
    if _value(api, "verify_client") != "required":
        problems.append("verify_client is %s" % _value(api, "verify_client"))
    if not _value(api, "certfile"):
        problems.append("no certfile (plain HTTP)")
    if not _value(api, "username") or not _value(api, "password"):
        problems.append("no authentication (username and password) for state-changing calls")
    listen = _value(api, "listen") or ""
    host, _sep, port = listen.rpartition(":")
    probe = "not probed"
    if host and port.isdigit():
        try:
            status, _headers = ctx.http_get("https", host.strip("[]"), int(port), host.strip("[]"), "/patroni")
            probe = "GET /patroni without a client certificate: HTTP %s" % status
            problems.append("the REST API answered without a client certificate")
        except UNREACHABLE as exc:
            probe = "GET /patroni: not reachable (%s)" % exc.__class__.__name__
            problems.append("the REST API at %s is not reachable" % listen)
        except Exception as exc:  # a refused handshake: the proof
            probe = "GET /patroni without a client certificate: refused (%s)" % exc.__class__.__name__
    else:
        problems.append("restapi.listen '%s' unreadable" % listen)
    return not problems, {"listen": listen, "probe": probe, "problems": problems}, \
        "HTTPS, a client certificate of the site CA for every call, a password for every change"


def check_odoo_shared_state(ctx):
    """Several Odoo nodes on this cluster's database share everything through
    it: attachments in the database (none left in a node's filestore) and the
    sessions in their own database (session_db's table present)."""
    nodes = sorted(ctx.s("odoo_nodes", []))
    if len(nodes) <= 1:
        return True, {"odoo_nodes": nodes}, "one Odoo node: node-local sessions and attachments are allowed"
    db = ctx.s("odoo_database", "odoo")
    sessions_db = ctx.s("odoo_session_database", "") or ""
    problems = []
    location = _psql(ctx, "SELECT value FROM ir_config_parameter WHERE key = 'ir_attachment.location'", db)
    location = location[0][0] if location and location[0] else "file (unset)"
    if location != "db":
        problems.append("ir_attachment.location is %s: attachments live on one node's disk" % location)
    on_disk = _psql(ctx, "SELECT count(*) FROM ir_attachment WHERE type = 'binary' AND store_fname IS NOT NULL", db)
    on_disk = int(on_disk[0][0]) if on_disk and on_disk[0] and on_disk[0][0].isdigit() else -1
    if on_disk != 0:
        problems.append("%s binary attachment(s) point into a node's filestore" % (on_disk if on_disk >= 0 else "?"))
    if not sessions_db:
        problems.append("no session database declared (odoo_session_store db, postgresql_odoo_session_database)")
    else:
        try:
            table = _psql(ctx, "SELECT to_regclass('public.http_sessions') IS NOT NULL", sessions_db) == [["t"]]
        except Fail as exc:
            table, problems = False, problems + [str(exc)[:160]]
        if not table:
            problems.append("no http_sessions table in %s: the nodes do not share their sessions" % sessions_db)
    observed = {"odoo_nodes": nodes, "attachment_location": location, "attachments_on_disk": on_disk,
                "session_database": sessions_db, "problems": problems}
    return not problems, observed, \
        "attachments in the database (none in a filestore) and sessions in %s, shared by every Odoo node" % (
            sessions_db or "a session database")


CHECKS = {
    "cluster_sync_standby": ("CP-2", "The Patroni cluster has one leader and a synchronous standby",
                             check_cluster_sync_standby),
    "pg_replication_tls": ("TS-1", "Streaming replication over TLS with the replication certificate",
                           check_pg_replication_tls),
    "etcd_tls": ("TS-1", "etcd speaks TLS only and requires client certificates", check_etcd_tls),
    "patroni_api_auth": ("IA-1", "Patroni's REST API requires a client certificate and a password for changes",
                         check_patroni_api_auth),
    "odoo_shared_state": ("CP-2", "Several Odoo nodes share sessions and attachments through the cluster",
                          check_odoo_shared_state),
}
