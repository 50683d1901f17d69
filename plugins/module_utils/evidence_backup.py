# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup layer's evidence: the nightly timer, the last backup, the password
file, restic check and the restore drill (the job's state files); on a client,
that its off-site copy is append-only; on the backup host, that every client's
service is append-only and its retention ran.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import base64
import http.client
import json
import re
import ssl
import stat
from urllib.parse import unquote, urlsplit

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import (
    Fail, _age_hours, _json_file, _out, _psql, _text, _unit_active)
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS

# A snapshot id no repository holds: deleting it changes nothing anywhere.
_NO_SNAPSHOT = "0" * 64
_REST_FLAGS = ("--append-only", "--private-repos", "--client-ca", "--htpasswd")


def check_backup_timer(ctx):
    ok, observed = _unit_active(ctx, "odoo-hipaa-backup.timer")
    return ok, observed, "timer active and enabled"


def _standby_skip(ctx, data):
    """A Patroni member's job that left the work to the primary counts only
    while the member is still a standby: a member promoted since must have
    made its own run (None when the record is no such skip)."""
    if data.get("result") != "skipped" or not data.get("cluster"):
        return None
    return _psql(ctx, "SELECT pg_is_in_recovery()") == [["t"]]


def _standby_skip_row(ctx, data, age, max_hours, what, timer=None):
    """The row of a standby's recent skip (None when the record is no such
    skip): it passes while the member is still a standby, the skip is less
    than max_hours old and the job's timer (if any) is active."""
    standby = _standby_skip(ctx, data)
    if standby is None:
        return None
    ok = standby and age < max_hours and (timer is None or _unit_active(ctx, timer)[0])
    return ok, "last %s at %s (%.1f h ago) skipped: %s%s" % (
        what, data["time"], age, data.get("reason"), "" if standby else "; but this member is the primary now"), \
        "a standby of the cluster: its last %s (less than %d h old) left the work to the primary%s" % (
            what, max_hours, "; timer active" if timer else "")


def check_backup_recent(ctx):
    data = _json_file(ctx, ctx.s("backup_state_dir", "/var/lib/odoo-hipaa-backup") + "/last-backup.json")
    age = _age_hours(ctx, data["time"])
    skipped = _standby_skip_row(ctx, data, age, 26, "run")
    if skipped:
        return skipped
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
    skipped = _standby_skip_row(ctx, data, age, 24 * 8, "drill", "odoo-hipaa-restore-drill.timer")
    if skipped:
        return skipped
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


def _rest_delete(url, cafile, certfile, timeout=20):
    """Status of DELETE <url> over TLS with the site CA and the client's
    certificate (cert and key in one PEM), the URL's user:password as basic auth."""
    parts = urlsplit(url)
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.load_cert_chain(certfile)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout, context=ctx)
    auth = base64.b64encode(("%s:%s" % (unquote(parts.username or ""), unquote(parts.password or ""))).encode()).decode()
    try:
        conn.request("DELETE", parts.path, headers={"Authorization": "Basic " + auth, "User-Agent": "odoo-hipaa-evidence"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def check_offsite_append_only(ctx):
    """The client asks its own off-site service, with its own credentials, to
    delete a snapshot that does not exist: an append-only service refuses
    (403) before looking; one that would delete answers 404."""
    etc = ctx.s("backup_etc", "/etc/odoo-hipaa-backup")
    cfg = _json_file(ctx, etc + "/config.json")
    offsite = [r for r in cfg.get("repositories", [])
               if r.get("type", "sftp" if r.get("sftp_command") else "local") != "local"]
    if not offsite:
        return False, "no off-site repository in %s/config.json" % etc, "an append-only (rest) off-site repository"
    observed, ok = {}, True
    for repo in offsite:
        name = repo.get("name")
        if repo.get("type", "sftp") != "rest":
            observed[name] = "sftp: this host's SSH key can delete every off-site backup"
            ok = False
            continue
        url = (ctx.read("%s/%s.repository" % (etc, name)) or "").strip()
        if not url.startswith("rest:https://"):
            raise Fail("%s/%s.repository holds no rest:https:// URL" % (etc, name))
        target = url[len("rest:"):].rstrip("/") + "/snapshots/" + _NO_SNAPSHOT
        try:
            status = (getattr(ctx, "rest_delete", None) or _rest_delete)(target, "%s/%s.ca.crt" % (etc, name), "%s/%s.client.pem" % (etc, name))
        except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
            raise Fail("%s (%s): %s: %s" % (name, repo.get("url"), exc.__class__.__name__, str(exc)[:160]))
        if status == 403:
            observed[name] = "DELETE of a snapshot refused (403): append-only"
        else:
            observed[name] = "DELETE of a snapshot answered %s: not append-only" % status
            ok = False
    return ok, observed, "every off-site repository is rest and refuses a DELETE with this host's own credentials (403)"


def _rest_units(ctx):
    rc, out, _err = ctx.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", "odoo-hipaa-restic-rest@*.service"])
    return [line.split()[0] for line in out.splitlines() if rc == 0 and line.strip()]


def _client_of(unit):
    return unit[len("odoo-hipaa-restic-rest@"):-len(".service")]


def check_offsite_server_append_only(ctx):
    units = _rest_units(ctx)
    keys_dir = ctx.s("backup_server_authorized_keys", "/etc/ssh/authorized_keys")
    rc, out, _err = ctx.run(["find", keys_dir, "-maxdepth", "1", "-name", "restic-*", "-type", "f", "-printf", "%f\n"])
    sftp = sorted(out.split()) if rc == 0 else []
    if not units and not sftp:
        raise Fail("no odoo-hipaa-restic-rest@ service and no SFTP client key: no off-site repository is served here")
    observed, ok = {}, not sftp
    for unit in units:
        state = _out(ctx, ["systemctl", "show", "-p", "ActiveState", "--value", unit]).strip()
        argv = _out(ctx, ["systemctl", "show", "-p", "ExecStart", "--value", unit])
        missing = [f for f in _REST_FLAGS if not re.search(r"(^|\s)%s(\s|$)" % re.escape(f), argv)]
        detail = (", missing " + " ".join(missing)) if missing else (", " + " ".join(_REST_FLAGS))
        observed[_client_of(unit)] = state + detail
        ok = ok and state == "active" and not missing
    if sftp:
        observed["sftp clients (can delete)"] = sftp
    return ok, observed, "every client's REST service active with " + " ".join(_REST_FLAGS) + "; no SFTP client key"


def check_offsite_retention(ctx):
    units = _rest_units(ctx)
    if not units:
        raise Fail("no odoo-hipaa-restic-rest@ service here: no append-only repository to apply retention to")
    max_days = LIMITS["offsite_retention_max_age_days"]
    state_dir = ctx.s("backup_server_state_dir", "/var/lib/odoo-hipaa-backup-server")
    observed, ok = {}, True
    for unit in units:
        client = _client_of(unit)
        timer_ok = _unit_active(ctx, "odoo-hipaa-offsite-retention@%s.timer" % client)[0]
        try:
            data = _json_file(ctx, "%s/retention/%s/last.json" % (state_dir, client))
        except Fail as exc:
            observed[client] = str(exc)
            ok = False
            continue
        age = _age_hours(ctx, data["time"])
        fresh = data.get("result") == "ok" and age < 24 * max_days
        observed[client] = "%s at %s (%.1f h ago), kept %s, removed %s; timer %s" % (
            data.get("result"), data["time"], age, data.get("kept"), data.get("removed"), "active" if timer_ok else "INACTIVE")
        ok = ok and fresh and timer_ok
    return ok, observed, "each client's off-site retention ok within %d days; its timer active" % max_days


def check_wal_archiving(ctx):
    """WAL goes to pgBackRest, and none waits longer than the RPO target: a
    segment's .ready file in pg_wal/archive_status is one not yet archived.
    An idle database (nothing waiting) passes."""
    rows = _psql(ctx, "SELECT current_setting('archive_mode'), current_setting('archive_command'), "
                      "current_setting('data_directory'), coalesce(last_archived_wal, ''), "
                      "coalesce(extract(epoch FROM now() - last_archived_time)::int::text, ''), failed_count, "
                      "coalesce((last_failed_time > coalesce(last_archived_time, 'epoch'))::text, 'false') "
                      "FROM pg_stat_archiver")
    mode, command, data_dir, last_wal, last_age, failed, failing = rows[0]
    target = LIMITS["pitr_rpo_target_max"]
    rc, out, _err = ctx.run(["find", data_dir + "/pg_wal/archive_status", "-name", "*.ready", "-mmin",
                             "+%d" % max(1, target // 60), "-printf", "%f\n"])
    waiting = sorted(out.split()) if rc == 0 else ["(pg_wal/archive_status unreadable)"]
    ok = mode == "on" and "pgbackrest" in command and not waiting and failing != "true"
    observed = {"archive_mode": mode, "archive_command": command, "last archived": last_wal or "none yet",
                "seconds since": last_age or "-", "failed_count": failed, "failing now": failing == "true",
                "segments waiting longer than %d s" % target: waiting}
    return ok, observed, "archive_mode on into pgBackRest; no segment waiting longer than %d s; not failing" % target


def check_pgbackrest_encrypted(ctx):
    conf = ctx.s("pgbackrest_config", "/etc/pgbackrest/pgbackrest.conf")
    try:
        st = ctx.stat(conf)
    except OSError:
        raise Fail("%s is missing: pgBackRest is not configured here" % conf)
    mode = stat.S_IMODE(st.st_mode)
    # Each stanza this host's configuration names, asked by name: a repository
    # host's TLS server answers a database host for its own stanza only.
    names = [n for n in re.findall(r"^\[([^\]:]+)\]\s*$", _text(ctx, conf), re.M)
             if not n.startswith("global")]
    if not names:
        raise Fail("%s names no stanza" % conf)
    stanzas = []
    for name in names:
        out = _out(ctx, ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", "pgbackrest",
                         "--stanza=" + name, "--output=json", "info"], "pgbackrest info")
        try:
            stanzas += json.loads(out)
        except ValueError:
            raise Fail("pgbackrest info did not answer JSON for the stanza %s" % name)
    observed = {s.get("name"): "cipher %s, status %s, %d backup(s)" % (
        s.get("cipher"), (s.get("status") or {}).get("message"), len(s.get("backup") or [])) for s in stanzas}
    observed[conf] = "mode %04o" % mode
    ok = bool(stanzas) and all(s.get("cipher") == "aes-256-cbc" and (s.get("status") or {}).get("code") == 0
                               for s in stanzas) and not mode & 0o007
    return ok, observed, "every stanza encrypted (aes-256-cbc) and healthy; its configuration not world-readable"


def check_pitr_drill(ctx):
    data = _json_file(ctx, ctx.s("pitr_state_dir", "/var/lib/odoo-hipaa-pitr") + "/drill/last.json")
    age = _age_hours(ctx, data["time"])
    skipped = _standby_skip_row(ctx, data, age, 24 * LIMITS["pitr_drill_max_age_days"], "PITR drill",
                                "odoo-hipaa-pitr-drill.timer")
    if skipped:
        return skipped
    proven = bool(data.get("marker_present_after") and data.get("sentinel_absent_after") and data.get("marker_absent_before"))
    timer_ok = _unit_active(ctx, "odoo-hipaa-pitr-drill.timer")[0]
    ok = data.get("result") == "ok" and proven and age < 24 * LIMITS["pitr_drill_max_age_days"] and timer_ok
    return ok, "last PITR drill %s at %s (%.1f h ago): marker %s, RPO %s s, RTO %s s; timer %s" % (
        data.get("result"), data["time"], age, "present after, absent before" if proven else "NOT as expected",
        data.get("rpo_seconds"), data.get("rto_seconds"), "active" if timer_ok else "INACTIVE"), \
        "ok within %d days (marker present just after the target, absent just before); weekly timer active" % (
            LIMITS["pitr_drill_max_age_days"])


CHECKS = {
    "restic_check": ("IN-1", "Backup repository verified (restic check)", check_restic_check),
    "backup_timer": ("CP-1", "Nightly backup timer", check_backup_timer),
    "backup_recent": ("CP-1", "Last backup less than 26 h old", check_backup_recent),
    "backup_password_file": ("CP-1", "Repository password file not readable by others", check_backup_password_file),
    "restore_drill": ("CP-2", "Restore drill passed recently", check_restore_drill),
    "offsite_append_only": ("CP-1", "Off-site copy cannot be erased from this host (append-only)", check_offsite_append_only),
    "offsite_server_append_only": ("CP-1", "Backup host serves every client append-only", check_offsite_server_append_only),
    "offsite_retention": ("AU-2", "Off-site retention applied by the backup host", check_offsite_retention),
    "wal_archiving": ("CP-1", "WAL archived continuously for point-in-time recovery", check_wal_archiving),
    "pgbackrest_encrypted": ("AC-4", "Point-in-time recovery repository encrypted", check_pgbackrest_encrypted),
    "pitr_drill": ("CP-2", "Point-in-time recovery drill passed recently", check_pitr_drill),
}
