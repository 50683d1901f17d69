"""Unit tests for the evidence module's judgements (plugins/modules/hipaa_evidence.py,
its checks in plugins/module_utils/evidence_<layer>.py, the shared core in evidence_core.py):
a control passes only on the right observation and fails on the drifted one."""

import ast
import datetime as dt
import importlib
import importlib.util
import json
import os
import pathlib
import re
import ssl

import pytest
import yaml

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import access_matrix as am
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import evidence_core as core
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import evidence_odoo

_ROOT = pathlib.Path(__file__).resolve().parents[2]
_PATH = _ROOT / "plugins" / "modules" / "hipaa_evidence.py"
_spec = importlib.util.spec_from_file_location("hipaa_evidence", _PATH)
ev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ev)

# One file per layer, each exporting CHECKS = {name: (control, title, check)}.
LAYERS = ("baseline", "odoo", "postgresql", "nginx", "luks", "log_shipping", "backup", "privacy", "ha")
_UTILS = _ROOT / "plugins" / "module_utils"
_LAYER_PATHS = [_UTILS / ("evidence_%s.py" % layer) for layer in LAYERS]

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def make_ctx(outputs=None, files=None, settings=None, tls=None, http=None, stats=None):
    """A Context whose commands, files, TLS handshakes and HTTP answers are given."""
    outputs = outputs or {}

    def run(argv):
        for key, value in outputs.items():
            if " ".join(argv).startswith(key):
                return value if isinstance(value, tuple) else (0, value, "")
        return 127, "", "not found: " + " ".join(argv)

    def stat_file(path):
        if path not in (stats or {}):
            raise OSError(path)
        return os.stat_result((stats[path][1], 0, 0, 1, stats[path][0], 0, 0, 0, 0, 0))

    return core.Context(run, settings or {}, now=NOW, read=(files or {}).get,
                        tls_probe=tls, http_get=http, stat_file=stat_file)


def one(ctx, check, waivers=()):
    [row] = ev.evaluate(ev.CHECKS, ctx, [check], waivers)
    return row


SS = """LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=10,fd=6))
LISTEN 0 511 [::]:80 [::]:* users:(("nginx",pid=10,fd=7))
LISTEN 0 128 127.0.0.1:8069 0.0.0.0:* users:(("odoo-bin",pid=20,fd=3))
LISTEN 0 128 127.0.0.1:8072 0.0.0.0:* users:(("odoo-bin",pid=20,fd=4))
"""


def test_listeners_pass_and_an_unexpected_public_port_fails():
    settings = {"public_listeners": ["443/nginx", "80/nginx", "22/sshd"]}
    assert one(make_ctx({"ss": SS}, settings=settings), "listeners")["status"] == "pass"
    rogue = SS + 'LISTEN 0 244 0.0.0.0:5432 0.0.0.0:* users:(("postgres",pid=30,fd=5))\n'
    row = one(make_ctx({"ss": rogue}, settings=settings), "listeners")
    assert row["status"] == "fail" and row["observed"]["unexpected"] == ["5432/postgres"]


def test_odoo_on_all_interfaces_fails_loopback_check():
    assert one(make_ctx({"ss": SS}), "odoo_loopback")["status"] == "pass"
    public = SS.replace("127.0.0.1:8069", "0.0.0.0:8069")
    assert one(make_ctx({"ss": public}), "odoo_loopback")["status"] == "fail"
    assert one(make_ctx({"ss": SS.replace("8072", "9999")}), "odoo_loopback")["status"] == "fail"


@pytest.mark.parametrize("value,tcp,status", [
    ("", False, "pass"), ("*", False, "fail"), ("10.0.0.5", False, "fail"),
    ("10.0.0.5", True, "pass"), ("*", True, "fail"),
])
def test_pg_listen(value, tcp, status):
    ctx = make_ctx({"runuser": "listen_addresses\t%s\npassword_encryption\tscram-sha-256\n" % value},
                   settings={"postgresql_tcp": tcp})
    assert one(ctx, "pg_listen")["status"] == status


def test_pg_hba_rejects_trust_md5_and_plain_host():
    good = "1\tlocal\tpeer\t\n2\thostssl\tcert\t\n3\thost\treject\t\n"
    assert one(make_ctx({"runuser": good}), "pg_hba")["status"] == "pass"
    for bad in ("1\tlocal\ttrust\t\n", "1\thostssl\tmd5\t\n", "1\thost\tscram-sha-256\t\n"):
        assert one(make_ctx({"runuser": bad}), "pg_hba")["status"] == "fail"


def test_psql_error_is_a_failed_control_not_a_crash():
    row = one(make_ctx({"runuser": (2, "", "could not connect")}), "pg_scram")
    assert row["status"] == "fail" and "could not connect" in row["observed"]


def _headers(hsts):
    def http(scheme, host, port, name, path):
        if path == "/web/database/manager":
            return 403, []
        if scheme == "http":
            return 301, [("Location", "https://%s/web/login" % name)]
        h = [("Set-Cookie", "session_id=abc; HttpOnly; Path=/; Secure; SameSite=Lax")]
        return 200, h + ([("Strict-Transport-Security", hsts)] if hsts else [])
    return http


@pytest.mark.parametrize("hsts,status", [
    ("max-age=63072000; includeSubDomains", "pass"),
    ("max-age=600; includeSubDomains", "fail"),
    ("max-age=63072000", "fail"),
    (None, "fail"),
])
def test_hsts(hsts, status):
    assert one(make_ctx(http=_headers(hsts)), "hsts")["status"] == status


def test_cookie_redirect_and_database_manager():
    ctx = make_ctx(http=_headers("max-age=63072000; includeSubDomains"))
    assert [one(ctx, c)["status"] for c in ("cookie_flags", "http_redirect", "db_manager_blocked")] == ["pass"] * 3

    def insecure(scheme, host, port, name, path):
        return 200, [("Set-Cookie", "session_id=abc; HttpOnly; Path=/")]
    assert one(make_ctx(http=insecure), "cookie_flags")["status"] == "fail"
    assert one(make_ctx(http=insecure), "db_manager_blocked")["status"] == "fail"


def test_tls_protocols_and_weak_ciphers():
    def modern(host, port, name, version, ciphers=None):
        if version < ssl.TLSVersion.TLSv1_2 or (ciphers and "AES128-SHA" in ciphers):
            return False, "SSLError: handshake failure"
        return True, "%s ECDHE-RSA-AES128-GCM-SHA256" % version.name
    assert one(make_ctx(tls=modern), "tls_protocols")["status"] == "pass"
    assert one(make_ctx(tls=modern), "tls_weak_cipher")["status"] == "pass"

    def legacy(host, port, name, version, ciphers=None):
        return True, "%s AES128-SHA" % version.name
    assert one(make_ctx(tls=legacy), "tls_protocols")["status"] == "fail"
    assert one(make_ctx(tls=legacy), "tls_weak_cipher")["status"] == "fail"


def test_backup_age_and_drill():
    state = "/var/lib/odoo-hipaa-backup"
    fresh = json.dumps({"result": "ok", "time": "2026-11-22T01:30:00+00:00"})
    stale = json.dumps({"result": "ok", "time": "2026-11-20T01:30:00+00:00"})
    assert one(make_ctx(files={state + "/last-backup.json": fresh}), "backup_recent")["status"] == "pass"
    assert one(make_ctx(files={state + "/last-backup.json": stale}), "backup_recent")["status"] == "fail"
    assert one(make_ctx(), "backup_recent")["status"] == "fail"
    drill = json.dumps({"result": "ok", "time": "2026-11-20T06:00:00+00:00", "rows_restored": 10, "rto_seconds": 3})
    timers = {"systemctl is-active": "active\n", "systemctl is-enabled": "enabled\n"}
    assert one(make_ctx(timers, files={state + "/drill/last.json": drill}), "restore_drill")["status"] == "pass"
    failed = drill.replace('"ok"', '"mismatch"')
    assert one(make_ctx(timers, files={state + "/drill/last.json": failed}), "restore_drill")["status"] == "fail"
    # an app host whose database lives on the db host restores the filestore only
    files_only = json.dumps({"result": "ok", "time": "2026-11-20T06:00:00+00:00", "components": ["filestore"],
                             "filestore_restored": {"files": 40, "bytes": 4096}, "rto_seconds": 2})
    row = one(make_ctx(timers, files={state + "/drill/last.json": files_only}), "restore_drill")
    assert row["status"] == "pass" and "40 files" in row["observed"] and "None" not in row["observed"]


def test_a_standby_of_a_cluster_passes_with_a_recent_skip_only_while_it_is_a_standby():
    state = "/var/lib/odoo-hipaa-backup"
    skip = json.dumps({"result": "skipped", "cluster": "erp-rack1", "time": "2026-11-22T01:30:00+00:00",
                       "reason": "a standby of cluster erp-rack1: its primary backs the cluster up"})
    old_skip = skip.replace("2026-11-22T01:30", "2026-11-20T01:30")
    recovery = "runuser -u postgres -- psql -XAtq -F \t -d postgres -c SELECT pg_is_in_recovery()"
    timers = {"systemctl is-active": "active\n", "systemctl is-enabled": "enabled\n"}
    standby, primary = dict(timers, **{recovery: "t\n"}), dict(timers, **{recovery: "f\n"})
    for check, path in (("backup_recent", "/last-backup.json"), ("restore_drill", "/drill/last.json")):
        assert one(make_ctx(standby, files={state + path: skip}), check)["status"] == "pass"
        row = one(make_ctx(primary, files={state + path: skip}), check)
        assert row["status"] == "fail" and "the primary now" in row["observed"], row
    assert one(make_ctx(standby, files={state + "/last-backup.json": old_skip}), "backup_recent")["status"] == "fail"
    # a skip that names no cluster is no proof at all
    plain = json.dumps({"result": "skipped", "time": "2026-11-22T01:30:00+00:00"})
    assert one(make_ctx(standby, files={state + "/last-backup.json": plain}), "backup_recent")["status"] == "fail"


def test_password_file_mode():
    path = "/etc/odoo-hipaa-backup/restic.pass"
    assert one(make_ctx(stats={path: (0, 0o100600)}), "backup_password_file")["status"] == "pass"
    assert one(make_ctx(stats={path: (0, 0o100644)}), "backup_password_file")["status"] == "fail"


def test_odoo_conf_and_master_password():
    conf = ("[options]\nadmin_passwd = $pbkdf2-sha512$600000$c2FsdA$aGFzaA\nlist_db = False\n"
            "proxy_mode = True\nhttp_interface = 127.0.0.1\n")
    stats = {"/etc/odoo/odoo.conf": (0, 0o100640)}
    ctx = make_ctx(files={"/etc/odoo/odoo.conf": conf}, stats=stats)
    assert one(ctx, "odoo_conf")["status"] == "pass"
    assert one(ctx, "odoo_master_password")["status"] == "pass"
    weak = conf.replace("600000", "29000").replace("list_db = False", "list_db = True")
    ctx = make_ctx(files={"/etc/odoo/odoo.conf": weak}, stats=stats)
    assert one(ctx, "odoo_conf")["status"] == "fail"
    assert one(ctx, "odoo_master_password")["status"] == "fail"
    plain = make_ctx(files={"/etc/odoo/odoo.conf": conf.replace("$pbkdf2-sha512$600000$c2FsdA$aGFzaA", "admin")})
    assert one(plain, "odoo_master_password")["status"] == "fail"


def test_luks_volume_checks_luksdump():
    outputs = {
        "findmnt": "/dev/mapper/pgdata\n",
        "lsblk": "crypt /dev/mapper/pgdata\ndisk /dev/vdb\n",
        "cryptsetup luksDump": "LUKS header information\nVersion:       \t2\nData segments:\n  0: crypt\n"
                               "\tcipher: aes-xts-plain64\nKeyslots:\n  0: luks2\n\tKey:        512 bits\n"
                               "\tCipher key: 512 bits\n\tPBKDF:      argon2id\n",
    }
    settings = {"encrypted_paths": ["/var/lib/postgresql"]}
    assert one(make_ctx(outputs, settings=settings), "luks_volumes")["status"] == "pass"
    luks1 = dict(outputs, **{"cryptsetup luksDump": outputs["cryptsetup luksDump"].replace("\t2\n", "\t1\n")})
    assert one(make_ctx(luks1, settings=settings), "luks_volumes")["status"] == "fail"
    overlay = {"findmnt": "overlay\n"}
    row = one(make_ctx(overlay, settings=settings), "luks_volumes")
    assert row["status"] == "fail" and "not on a dm-crypt volume" in row["observed"]["/var/lib/postgresql"]


def test_waiver_turns_a_failure_into_waived_with_its_reason_but_not_a_pass():
    overlay = {"findmnt": "overlay\n"}
    settings = {"encrypted_paths": ["/var/lib/odoo"]}
    row = one(make_ctx(overlay, settings=settings), "luks_volumes",
              [{"check": "luks_volumes", "reason": "lab container"}])
    assert row["status"] == "waived" and row["waiver"] == "lab container"


def test_sshd_and_nftables():
    sshd = ("permitrootlogin no\npasswordauthentication no\nkbdinteractiveauthentication no\n"
            "pubkeyauthentication yes\nallowgroups sshusers\n")
    assert one(make_ctx({"sshd -T": sshd}), "sshd")["status"] == "pass"
    assert one(make_ctx({"sshd -T": sshd.replace("passwordauthentication no", "passwordauthentication yes")}),
               "sshd")["status"] == "fail"
    ruleset = {"nftables": [{"chain": {"family": "inet", "name": "input", "hook": "input", "policy": "drop"}}]}
    assert one(make_ctx({"nft": json.dumps(ruleset)}), "nftables")["status"] == "pass"
    ruleset["nftables"][0]["chain"]["policy"] = "accept"
    assert one(make_ctx({"nft": json.dumps(ruleset)}), "nftables")["status"] == "fail"


def test_every_check_belongs_to_a_known_control():
    assert all(control in core.CONTROLS for control, _title, _fn in ev.CHECKS.values())
    assert set(core.CONTROLS) == {c for c, _title, _fn in ev.CHECKS.values()}


def test_aide_check_clean_and_drifted():
    stats = {"/var/lib/aide/odoo-hipaa.db": (0, 0o100600)}
    timers = {"systemctl is-active": "active\n", "systemctl is-enabled": "enabled\n"}
    clean = dict(timers, aide=(0, "AIDE found NO differences between database and filesystem.", ""))
    assert one(make_ctx(clean, stats=stats), "aide")["status"] == "pass"
    drift = dict(timers, aide=(4, "Summary:\n  Added entries:\t0\n  Changed entries:\t1\n\n"
                                  "f = ... mc..      : /etc/issue.net\nf+++++++++++++++++: /etc/new\n", ""))
    row = one(make_ctx(drift, stats=stats), "aide")
    assert row["status"] == "fail" and row["observed"]["differences"] == [
        "f = ... mc..      : /etc/issue.net", "f+++++++++++++++++: /etc/new"]
    assert row["observed"]["entries"] == {"added": 0, "changed": 1}
    assert one(make_ctx(clean), "aide")["status"] == "fail"  # no baseline database


RSYSLOG = """main_queue(queue.filename="main" queue.saveOnShutdown="on")
module(load="omrelp" tls.tlslib="openssl")
ruleset(name="fwd") {
  action(type="omrelp" name="to_aggregator"
         target="logs1" port="2514"
         tls="on"
         tls.authmode="name"
         tls.permittedpeer=["logs1"]
         queue.type="LinkedList"
         queue.filename="odoo_hipaa_forward"
         queue.saveOnShutdown="on"
         action.resumeRetryCount="-1")
}
"""


def test_log_forwarding_needs_tls_name_check_and_disk_queue_on_the_action():
    ok = make_ctx(files={"/etc/rsyslog.conf": RSYSLOG})
    assert one(ok, "log_forwarding")["status"] == "pass"
    plain = make_ctx(files={"/etc/rsyslog.conf": RSYSLOG.replace('tls="on"', 'tls="off"')})
    assert one(plain, "log_forwarding")["observed"]["missing"] == ["TLS"]
    # the main queue's disk settings do not count for the forwarding action
    memory = RSYSLOG.replace('         queue.filename="odoo_hipaa_forward"\n', "")
    assert one(make_ctx(files={"/etc/rsyslog.conf": memory}), "log_forwarding")["status"] == "fail"


SEAL_CONF = "/etc/odoo-hipaa-log-seal/seal.json"
ROTATE_CONF = "/var/log/remote/*/*.log {\n\tdaily\n\trotate -1\n\tdateext\n\tnocompress\n}\n"


def test_log_retention_six_years_in_the_seal_and_logrotate_removes_nothing():
    path = "/etc/logrotate.d/odoo-hipaa-log-aggregator"
    files = {path: ROTATE_CONF, SEAL_CONF: '{"retention_days": 2190}'}
    assert one(make_ctx(files=files), "log_retention")["status"] == "pass"
    short = dict(files, **{SEAL_CONF: '{"retention_days": 365}'})
    assert one(make_ctx(files=short), "log_retention")["status"] == "fail"
    # logrotate removing or compressing (the seal's files are immutable; it would fail or delete)
    old = dict(files, **{path: "/var/log/remote/*/*.log {\n\trotate 2190\n\tmaxage 2190\n\tcompress\n}\n"})
    row = one(make_ctx(files=old), "log_retention")
    assert row["status"] == "fail" and row["observed"]["logrotate_removes_or_rewrites"] == ["maxage", "compress", "rotate 2190"]
    assert one(make_ctx(files={path: ROTATE_CONF}), "log_retention")["status"] == "fail"


def _seal_ctx(quick, full, anchors=()):
    files = {} if full is None else {"/var/lib/odoo-hipaa-log-seal/last-full-verify.json": json.dumps(full)}
    settings = {"log_seal_anchors": list(anchors)}
    cmd = "/usr/local/sbin/odoo-hipaa-log-seal verify --config " + SEAL_CONF
    return make_ctx({cmd: (0 if quick.get("ok") else 1, json.dumps(quick), "")}, files=files, settings=settings)


GOOD = {"ok": True, "head": "sha256:" + "a" * 64, "seq": 3, "files": 4, "hashed": 4, "pending": 0, "expired": 0,
        "anchors": 0, "pinned": True, "key": "ssh-ed25519 AAAA", "problems": [], "notes": []}


def test_log_seal_passes_with_a_good_chain_and_a_recent_full_verify():
    row = one(_seal_ctx(GOOD, {"ok": True, "time": "2026-11-29T04:00:00Z"}), "log_seal")
    assert row["status"] == "pass" and row["observed"]["head"] == GOOD["head"]
    assert row["control"] == "IN-1"


@pytest.mark.parametrize("quick,full,why", [
    (dict(GOOD, ok=False, problems=["/var/log/remote/a/m.log-1.gz is sealed but missing"]),
     {"ok": True, "time": "2026-11-29T04:00:00Z"}, "missing"),
    (GOOD, {"ok": True, "time": "2026-11-01T04:00:00Z"}, "stale full verify"),
    (GOOD, {"ok": False, "time": "2026-11-29T04:00:00Z", "problems": ["x"]}, "full verify failed"),
    (GOOD, None, "no full verify"),
])
def test_log_seal_fails(quick, full, why):
    assert one(_seal_ctx(quick, full), "log_seal")["status"] == "fail", why


def test_log_seal_passes_the_anchors_to_the_tool():
    seen = []
    ctx = _seal_ctx(GOOD, {"ok": True, "time": "2026-11-29T04:00:00Z"}, anchors=["sha256:" + "b" * 64])
    run = ctx.run
    ctx.run = lambda argv: (seen.append(argv), run(argv))[1]
    one(ctx, "log_seal")
    assert seen[0][-2:] == ["--anchor", "sha256:" + "b" * 64]


def test_log_seal_without_the_tool_fails_with_its_reason():
    row = one(make_ctx(), "log_seal")
    assert row["status"] == "fail" and "gave no result" in str(row["observed"])


def _odoo_ctx(params):
    psql = "runuser -u postgres -- psql -XAtq -F \t -d odoo -c "
    return make_ctx({psql + "SELECT to_regclass": "t\n",
                     psql + "SELECT key, value": "".join("%s\t%s\n" % kv for kv in params.items())})


@pytest.mark.parametrize("idle,absolute,status", [
    ("600", "28800", "pass"), ("900", "900", "pass"), ("901", "28800", "fail"),
    ("600", "28801", "fail"), ("600", "300", "fail"), (None, "28800", "fail"),
])
def test_odoo_session_limits_follow_the_collections_limits(idle, absolute, status):
    params = {"odoo_hipaa.session_absolute_lifetime": absolute}
    if idle is not None:
        params["odoo_hipaa.session_idle_timeout"] = idle
    assert one(_odoo_ctx(params), "odoo_session_limits")["status"] == status


@pytest.mark.parametrize("policy,days,status", [
    ("all_required", "0", "pass"), ("all_required", "1", "pass"), ("all_required", "90", "fail"),
    ("employee_required", "0", "fail"), ("all_required", None, "pass"), ("all_required", "x", "fail"),
])
def test_odoo_mfa_needs_the_policy_and_no_long_trusted_devices(policy, days, status):
    params = {"auth_totp.policy": policy}
    if days is not None:
        params["odoo_hipaa.mfa_trusted_device_days"] = days
    assert one(_odoo_ctx(params), "odoo_mfa")["status"] == status


def test_the_evidence_and_the_roles_read_one_set_of_limits():
    """The role validation reads the same module through the lookup plugin."""
    from ansible_collections.onprem.odoo_hipaa.plugins.lookup.hipaa_limit import LookupModule
    from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS
    layers = [importlib.import_module("ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_" + layer)
              for layer in LAYERS]
    readers = [m for m in layers if hasattr(m, "LIMITS")]
    assert readers and all(m.LIMITS is LIMITS for m in readers)
    assert LookupModule().run(["odoo_session_absolute_lifetime_max", "hsts_min_age"]) == [28800, 31536000]


def _analyze(figure, unit):
    return "...\n→ Overall exposure level for %s: %s OK 🙂\n" % (unit, figure)


@pytest.mark.parametrize("nginx, pg, backup, status", [
    (2.6, 2.1, 2.6, "pass"),
    (9.6, 2.1, 2.6, "fail"),   # Debian's own nginx unit, no drop-in
    (2.6, 2.1, 6.0, "fail"),   # the backup unit above its limit
])
def test_service_sandbox_judges_every_present_unit_by_its_limit(nginx, pg, backup, status):
    ctx = make_ctx(outputs={
        "systemctl list-units --all --plain --no-legend postgresql@*.service":
            "postgresql@15-main.service loaded active running PostgreSQL Cluster 15-main\n",
        "systemctl show -p LoadState --value nginx.service": "loaded\n",
        "systemctl show -p LoadState --value odoo-hipaa-backup.service": "loaded\n",
        "systemctl show -p LoadState --value odoo-hipaa-backup-check.service": "not-found\n",
        "systemctl show -p LoadState --value odoo-hipaa-restore-drill.service": "not-found\n",
        "systemd-analyze security --no-pager nginx.service": _analyze(nginx, "nginx.service"),
        "systemd-analyze security --no-pager postgresql@15-main.service": _analyze(pg, "postgresql@15-main.service"),
        "systemd-analyze security --no-pager odoo-hipaa-backup.service": _analyze(backup, "odoo-hipaa-backup.service"),
    })
    row = one(ctx, "service_sandbox")
    assert row["status"] == status, row
    assert set(row["observed"]) == {"nginx.service", "postgresql@15-main.service",
                                    "odoo-hipaa-backup.service", "over the limit"}


def test_service_sandbox_without_any_known_service_is_no_proof():
    row = one(make_ctx(outputs={}), "service_sandbox")
    assert row["status"] == "fail" and "no proof" in row["observed"]


@pytest.mark.parametrize("after, duration, status", [
    ("5", "60", "pass"),
    ("0", "60", "fail"),     # Odoo's switch for "no cooldown"
    ("50", "60", "fail"),    # fifty guesses per address before any pause
    ("5", "5", "fail"),
])
def test_odoo_login_cooldown_follows_the_collections_limits(after, duration, status, monkeypatch):
    monkeypatch.setattr(evidence_odoo, "_odoo_params", lambda ctx, names: {
        "base.login_cooldown_after": after, "base.login_cooldown_duration": duration})
    assert one(make_ctx(), "odoo_login_cooldown")["status"] == status


# --- the module's documentation (ansible-doc, Galaxy) says what the code does ---

def _doc():
    return yaml.safe_load(ev.DOCUMENTATION)


def _settings_read_by_the_checks():
    """{key: default} of every ctx.s(key, default) call in the module, its core and its layers."""
    read = {}
    sources = [_PATH, _UTILS / "evidence_core.py"] + _LAYER_PATHS
    for node in (n for p in sources for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "s"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "ctx"):
            key = ast.literal_eval(node.args[0])
            default = ast.literal_eval(node.args[1]) if len(node.args) > 1 else None
            assert read.setdefault(key, default) == default, f"settings key {key} read with two defaults"
    return read


def test_the_documentation_lists_every_check_with_its_control():
    text = "\n".join(_doc()["options"]["checks"]["description"])
    documented = re.findall(r"^C\((\w+)\) \(([A-Z]{2}-\d)\) - ", text, re.M)
    # listed once each, grouped by control in the control list's order (the registry's
    # order follows the layers, so the pairs are compared as a mapping)
    assert len(documented) == len(dict(documented))
    assert [c for _name, c in documented] == sorted((c for _name, c in documented), key=list(core.CONTROLS).index)
    assert dict(documented) == dict((name, control) for name, (control, _title, _fn) in ev.CHECKS.items())


def test_the_merged_checks_hold_every_documented_check_and_no_layer_duplicates_one():
    text = "\n".join(_doc()["options"]["checks"]["description"])
    documented = re.findall(r"^C\((\w+)\) \(", text, re.M)
    layers = dict((layer, importlib.import_module(
        "ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_" + layer).CHECKS) for layer in LAYERS)
    names = [name for checks in layers.values() for name in checks]
    assert len(names) == len(set(names)), "a check name defined by two layers"
    assert set(documented) <= set(ev.CHECKS)
    assert sorted(ev.CHECKS) == sorted(names) == sorted(documented)
    for checks in layers.values():
        for name, entry in checks.items():
            assert ev.CHECKS[name] is entry
            control, title, fn = entry
            assert control in core.CONTROLS and title and callable(fn)
    # every layer file is merged, and the merge refuses a name two layers define
    assert sorted(p.stem for p in _UTILS.glob("evidence_*.py")) == sorted(
        ["evidence_core"] + ["evidence_" + layer for layer in LAYERS])
    with pytest.raises(ValueError, match="time_sync .*evidence_baseline and evidence_odoo"):
        core.merge_checks([("baseline", layers["baseline"]), ("odoo", {"time_sync": layers["baseline"]["time_sync"]})])


def test_the_documentation_lists_every_setting_the_checks_read_with_its_default():
    read = _settings_read_by_the_checks()
    documented = _doc()["options"]["settings"]["suboptions"]
    assert sorted(documented) == sorted(read) == sorted(ev.SETTINGS_SPEC)
    for key, default in read.items():
        assert documented[key].get("default") == default == ev.SETTINGS_SPEC[key].get("default"), key
        assert documented[key]["type"] == ev.SETTINGS_SPEC[key]["type"], key


# --- off-site copies (append-only) --------------------------------------------

_BACKUP_CFG = json.dumps({"repositories": [
    {"name": "local", "type": "local", "url": "/srv/backup/restic", "args": ["--repo", "/srv/backup/restic"]},
    {"name": "offsite", "type": "rest", "append_only": True, "url": "rest:https://backup1:8101/restic-erp-app-01/repo/"}]})
_REST_URL = "rest:https://restic-erp-app-01:p%40ss@backup1:8101/restic-erp-app-01/repo/\n"


def _offsite_ctx(status, cfg=_BACKUP_CFG):
    asked = []

    def rest_delete(url, cafile, certfile):
        asked.append((url, cafile, certfile))
        if isinstance(status, Exception):
            raise status
        return status

    ctx = make_ctx(files={"/etc/odoo-hipaa-backup/config.json": cfg,
                          "/etc/odoo-hipaa-backup/offsite.repository": _REST_URL})
    ctx.rest_delete = rest_delete
    return ctx, asked


def test_offsite_append_only_passes_on_403_and_asks_a_snapshot_nobody_has():
    ctx, asked = _offsite_ctx(403)
    row = one(ctx, "offsite_append_only")
    assert row["status"] == "pass", row
    assert asked == [("https://restic-erp-app-01:p%40ss@backup1:8101/restic-erp-app-01/repo/snapshots/" + "0" * 64,
                      "/etc/odoo-hipaa-backup/offsite.ca.crt", "/etc/odoo-hipaa-backup/offsite.client.pem")]


@pytest.mark.parametrize("status", [404, 200, 204, 401])
def test_offsite_append_only_fails_when_the_service_would_delete_or_refuses_the_client(status):
    row = one(_offsite_ctx(status)[0], "offsite_append_only")
    assert row["status"] == "fail" and str(status) in json.dumps(row["observed"])


def test_offsite_append_only_fails_on_an_sftp_copy_or_none_or_an_unreachable_service():
    sftp = json.dumps({"repositories": [{"name": "local", "url": "/srv"},
                                        {"name": "offsite", "url": "sftp:u@h:/repo", "sftp_command": "ssh ..."}]})
    row = one(_offsite_ctx(403, sftp)[0], "offsite_append_only")
    assert row["status"] == "fail" and "can delete" in json.dumps(row["observed"])
    row = one(_offsite_ctx(403, json.dumps({"repositories": [{"name": "local", "type": "local", "url": "/srv"}]}))[0],
              "offsite_append_only")
    assert row["status"] == "fail" and "no off-site repository" in json.dumps(row["observed"])
    row = one(_offsite_ctx(ssl.SSLError("handshake"))[0], "offsite_append_only")
    assert row["status"] == "fail"


_REST_UNITS = "odoo-hipaa-restic-rest@erp-app-01.service loaded active running x\n"
_EXEC = ("{ path=/usr/bin/rclone ; argv[]=/usr/bin/rclone serve restic --config /dev/null -v --stats 0 --addr :8101 "
         "--append-only --private-repos --cache-objects=false --htpasswd /etc/h --cert /etc/c --key /etc/k "
         "--client-ca /etc/ca --min-tls-version tls1.2 /srv/restic ; }")


def _server_ctx(exec_start=_EXEC, state="active", keys="", files=None):
    return make_ctx(outputs={
        "systemctl list-units --all --plain --no-legend odoo-hipaa-restic-rest@*.service": _REST_UNITS,
        "systemctl show -p ActiveState --value odoo-hipaa-restic-rest@erp-app-01.service": state + "\n",
        "systemctl show -p ExecStart --value odoo-hipaa-restic-rest@erp-app-01.service": exec_start,
        "find /etc/ssh/authorized_keys": keys,
        "systemctl is-active odoo-hipaa-offsite-retention@erp-app-01.timer": "active\n",
        "systemctl is-enabled odoo-hipaa-offsite-retention@erp-app-01.timer": "enabled\n",
    }, files=files)


def test_offsite_server_append_only_needs_every_flag_an_active_service_and_no_sftp_key():
    assert one(_server_ctx(), "offsite_server_append_only")["status"] == "pass"
    row = one(_server_ctx(exec_start=_EXEC.replace("--append-only ", "")), "offsite_server_append_only")
    assert row["status"] == "fail" and "missing --append-only" in json.dumps(row["observed"])
    assert one(_server_ctx(state="failed"), "offsite_server_append_only")["status"] == "fail"
    row = one(_server_ctx(keys="restic-erp-db-01\n"), "offsite_server_append_only")
    assert row["status"] == "fail" and "restic-erp-db-01" in json.dumps(row["observed"])


def _retention(result="ok", hours_ago=24):
    t = (NOW - dt.timedelta(hours=hours_ago)).isoformat()
    return {"/var/lib/odoo-hipaa-backup-server/retention/erp-app-01/last.json":
            json.dumps({"result": result, "time": t, "kept": 30, "removed": 2})}


def test_offsite_retention_passes_within_the_limit_and_fails_when_old_refused_or_missing():
    assert one(_server_ctx(files=_retention()), "offsite_retention")["status"] == "pass"
    assert one(_server_ctx(files=_retention(hours_ago=24 * 8 + 1)), "offsite_retention")["status"] == "fail"
    assert one(_server_ctx(files=_retention(result="refused")), "offsite_retention")["status"] == "fail"
    assert one(_server_ctx(files={}), "offsite_retention")["status"] == "fail"


# --- point-in-time recovery (pgBackRest) -----------------------------------------

_ARCHIVER = "runuser -u postgres -- psql -XAtq -F \t -d postgres -c SELECT current_setting('archive_mode')"


def _wal_ctx(mode="on", command="pgbackrest --stanza=odoo archive-push %p", failing="false", waiting=""):
    return make_ctx(outputs={
        _ARCHIVER: "\t".join([mode, command, "/var/lib/postgresql/15/main", "000000010000000000000007", "12", "0",
                              failing]) + "\n",
        "find /var/lib/postgresql/15/main/pg_wal/archive_status": waiting,
    })


def test_wal_archiving_passes_when_archiving_into_pgbackrest_with_nothing_waiting():
    assert one(_wal_ctx(), "wal_archiving")["status"] == "pass"


@pytest.mark.parametrize("kwargs", [{"mode": "off"}, {"command": "cp %p /mnt/wal/%f"}, {"failing": "true"},
                                    {"waiting": "000000010000000000000005.ready\n"}])
def test_wal_archiving_fails_when_off_elsewhere_failing_or_behind(kwargs):
    assert one(_wal_ctx(**kwargs), "wal_archiving")["status"] == "fail"


_INFO = "setpriv --reuid=postgres --regid=postgres --init-groups -- pgbackrest --stanza=odoo --output=json info"
_CONF = "[global]\nrepo1-host=backup\n\n[global:archive-push]\nprocess-max=2\n\n[odoo]\npg1-path=/var/lib/postgresql/17/main\n"


def _br_ctx(cipher="aes-256-cbc", code=0, mode=0o100640, conf=_CONF):
    stanza = [{"name": "odoo", "cipher": cipher, "status": {"code": code, "message": "ok"}, "backup": [{"type": "full"}]}]
    return make_ctx(outputs={_INFO: json.dumps(stanza)}, stats={"/etc/pgbackrest/pgbackrest.conf": (0, mode)},
                    files={"/etc/pgbackrest/pgbackrest.conf": conf})


def test_pgbackrest_encrypted_needs_the_cipher_a_healthy_stanza_and_a_private_configuration():
    assert one(_br_ctx(), "pgbackrest_encrypted")["status"] == "pass"
    assert one(_br_ctx(cipher="none"), "pgbackrest_encrypted")["status"] == "fail"
    assert one(_br_ctx(code=1), "pgbackrest_encrypted")["status"] == "fail"
    assert one(_br_ctx(mode=0o100644), "pgbackrest_encrypted")["status"] == "fail"
    # asked by the stanza's name (a repository host answers for that stanza only); none named is no proof
    assert one(_br_ctx(conf="[global]\nrepo1-host=backup\n"), "pgbackrest_encrypted")["status"] == "fail"


def _drill(hours_ago=24, result="ok", before=True):
    t = (NOW - dt.timedelta(hours=hours_ago)).isoformat()
    return make_ctx(files={"/var/lib/odoo-hipaa-pitr/drill/last.json": json.dumps(
        {"result": result, "time": t, "marker_present_after": True, "sentinel_absent_after": True,
         "marker_absent_before": before, "rpo_seconds": 14.2, "rto_seconds": 6.3})},
        outputs={"systemctl is-active odoo-hipaa-pitr-drill.timer": "active\n",
                 "systemctl is-enabled odoo-hipaa-pitr-drill.timer": "enabled\n"})


def test_pitr_drill_passes_recent_and_proven_and_fails_otherwise():
    assert one(_drill(), "pitr_drill")["status"] == "pass"
    assert one(_drill(hours_ago=24 * 8 + 1), "pitr_drill")["status"] == "fail"
    assert one(_drill(result="failed"), "pitr_drill")["status"] == "fail"
    assert one(_drill(before=False), "pitr_drill")["status"] == "fail"


def test_a_cluster_standby_s_pitr_drill_skip_passes_only_while_it_is_a_standby():
    path = "/var/lib/odoo-hipaa-pitr/drill/last.json"
    recovery = "runuser -u postgres -- psql -XAtq -F \t -d postgres -c SELECT pg_is_in_recovery()"
    timers = {"systemctl is-active odoo-hipaa-pitr-drill.timer": "active\n",
              "systemctl is-enabled odoo-hipaa-pitr-drill.timer": "enabled\n"}
    skip = json.dumps({"result": "skipped", "cluster": "erp-rack1", "time": (NOW - dt.timedelta(days=2)).isoformat(),
                       "reason": "not the primary of the cluster erp-rack1: the primary drills"})
    assert one(make_ctx(files={path: skip}, outputs=dict(timers, **{recovery: "t\n"})), "pitr_drill")["status"] == "pass"
    row = one(make_ctx(files={path: skip}, outputs=dict(timers, **{recovery: "f\n"})), "pitr_drill")
    assert row["status"] == "fail" and "the primary now" in row["observed"], row
    old = skip.replace((NOW - dt.timedelta(days=2)).isoformat(), (NOW - dt.timedelta(days=9)).isoformat())
    assert one(make_ctx(files={path: old}, outputs=dict(timers, **{recovery: "t\n"})), "pitr_drill")["status"] == "fail"


# --- the audit-log review (evidence_privacy.py) -----------------------------------------------

REVIEW_CONF = json.dumps({"period": "monthly", "timezone": "America/New_York",
                          "business_hours": {"days": ["mon", "fri"], "start": "07:00", "end": "19:00"},
                          "bulk_reads_per_day": 200, "export_records": 50, "failed_logins_per_login": 5,
                          "failed_logins_per_ip": 10, "max_findings_per_kind": 200})


def _review_ctx(last=None, installed="2026-06-01T00:00:00+00:00", timer=("active", "enabled"),
                name="last.json", unit="odoo-hipaa-privacy-review"):
    files = {"/etc/odoo-hipaa-privacy-review/review.json": REVIEW_CONF}
    if installed:
        files["/var/lib/odoo-hipaa-privacy/installed"] = installed + "\n"
    if last is not None:
        files["/var/lib/odoo-hipaa-privacy/" + name] = json.dumps(last)
    return make_ctx({f"systemctl is-active {unit}.timer": timer[0] + "\n",
                     f"systemctl is-enabled {unit}.timer": timer[1] + "\n"}, files=files)


@pytest.mark.parametrize("last, installed, timer, status", [
    # NOW is 2026-11-22: October's review is due (November has not ended)
    ({"period": "2026-10", "result": "complete", "total": 3}, "2026-06-01T00:00:00+00:00", ("active", "enabled"), "pass"),
    ({"period": "2026-11", "result": "complete", "total": 0}, "2026-06-01T00:00:00+00:00", ("active", "enabled"), "pass"),
    ({"period": "2026-10", "result": "incomplete", "total": 3}, "2026-06-01T00:00:00+00:00", ("active", "enabled"), "fail"),
    ({"period": "2026-09", "result": "complete", "total": 3}, "2026-06-01T00:00:00+00:00", ("active", "enabled"), "fail"),
    (None, "2026-10-15T00:00:00+00:00", ("active", "enabled"), "fail"),      # owed for October, never ran
    (None, "2026-11-10T00:00:00+00:00", ("active", "enabled"), "pass"),      # installed after October ended
    (None, "2026-11-10T00:00:00+00:00", ("inactive", "enabled"), "fail"),
    ({"period": "2026-10", "result": "complete", "total": 3}, "2026-06-01T00:00:00+00:00", ("active", "disabled"), "fail"),
    (None, None, ("active", "enabled"), "fail"),                              # no install mark: owed
])
def test_privacy_review_wants_a_complete_review_of_the_period_due(last, installed, timer, status):
    row = one(_review_ctx(last, installed, timer), "privacy_review")
    assert row["status"] == status, row
    assert row["observed"]["due"] == "2026-10"


def test_privacy_review_db_wants_the_database_half_of_the_period_due():
    done = {"period": "2026-10", "result": "done", "counts": {}}
    assert one(_review_ctx(done, name="db-last.json", unit="odoo-hipaa-privacy-review-db"),
               "privacy_review_db")["status"] == "pass"
    assert one(_review_ctx(dict(done, period="2026-09"), name="db-last.json", unit="odoo-hipaa-privacy-review-db"),
               "privacy_review_db")["status"] == "fail"


def test_privacy_review_without_the_role_is_no_proof():
    row = one(make_ctx(), "privacy_review")
    assert row["status"] == "fail" and "role privacy_review is not applied here" in json.dumps(row)


# --- odoo_access_matrix: the written matrix from the live security tables -----

MATRIX_PHI = ["res.partner"]
MATRIX_DOMAINS = {"res.partner": "[('is_company', '=', True)]"}
MATRIX_ROLES = [{"key": "nurse", "name": "Nurse", "groups": ["base.group_user"], "phi": {"res.partner": "rw"}},
                {"key": "it_admin", "name": "IT Admin", "groups": ["base.group_user", "base.group_system"], "phi": {}}]


def _matrix_ctx(doc, roles=None):
    roles = MATRIX_ROLES if roles is None else roles
    psql = "runuser -u postgres -- psql -XAtq -F \t -d odoo -c "
    settings = {"odoo_phi_models": MATRIX_PHI, "odoo_access_roles": roles, "odoo_access_role_conflicts": [],
                "odoo_access_no_phi_domains": MATRIX_DOMAINS}
    return make_ctx({psql + "SELECT to_regclass('public.ir_rule')": "t\n",
                     psql + "BEGIN READ ONLY;": json.dumps(doc) + "\n"}, settings=settings)


def _matrix_doc():
    """What the policy step makes over Odoo's base (every employee reads, writes, creates contacts)."""
    ref = "odoo_hipaa_roles.role_".__add__
    rules = [dict({"model": r["model"], "groups": [ref(r["role"])], "domain": r["domain"]},
                  **{am.PERM[x]: x in r["letters"] for x in am.LETTERS})
             for r in am.rule_plan(MATRIX_ROLES, MATRIX_PHI, MATRIX_DOMAINS)]
    acl = [dict({"model": a["model"], "group": ref(a["role"])}, **{am.PERM[x]: True for x in a["letters"]})
           for a in am.acl_plan(MATRIX_ROLES, MATRIX_PHI)]
    acl.append({"model": "res.partner", "group": "base.group_user", "perm_read": True, "perm_write": True,
                "perm_create": True, "perm_unlink": False})
    return {"groups": ["base.group_user", "base.group_system"] + [ref(r["key"]) for r in MATRIX_ROLES],
            "implied": {ref(r["key"]): r["groups"] for r in MATRIX_ROLES}, "acl": acl, "rules": rules,
            "builtin_admin_active": False,
            "users": [{"login": "nurse.jane", "active": True, "groups": [ref("nurse"), "base.group_user"]}]}


def test_odoo_access_matrix_passes_when_live_equals_declared_and_names_drift():
    doc = _matrix_doc()
    row = one(_matrix_ctx(doc), "odoo_access_matrix")
    assert row["status"] == "pass", row["observed"]
    assert row["control"] == "AC-1" and row["observed"]["matrix"]["it_admin"]["res.partner"]["live"] == ""
    doc["users"][0]["groups"].append("base.group_partner_manager")
    doc["builtin_admin_active"] = True
    row = one(_matrix_ctx(doc), "odoo_access_matrix")
    assert row["status"] == "fail" and row["observed"]["differences"] == [
        "user nurse.jane: groups beyond their roles: base.group_partner_manager",
        "the built-in administrator (base.user_admin) is active"]


def test_odoo_access_matrix_refuses_a_declaration_it_cannot_judge():
    bad = [{"key": "it_admin", "name": "IT Admin", "groups": ["base.group_system"], "phi": {"res.partner": "r"}}]
    row = one(_matrix_ctx({}, roles=bad), "odoo_access_matrix")
    assert row["status"] == "fail" and "an administrator reads no ePHI" in str(row["observed"])


def _passkey_ctx(rows, installed=True):
    psql = "runuser -u postgres -- psql -XAtq -F \t -d odoo -c "
    roles = MATRIX_ROLES[:1] + [dict(MATRIX_ROLES[1], privileged=True)]
    return make_ctx({psql + "SELECT to_regclass('public.auth_passkey_key')": "t\n" if installed else "f\n",
                     psql + "SELECT u.login, count(DISTINCT k.id)": "".join("%s\t%d\n" % r for r in rows)},
                    settings={"odoo_access_roles": roles})


def test_odoo_privileged_passkey_names_the_privileged_users_without_one():
    row = one(_passkey_ctx([("it.bob", 1), ("it.eve", 0)]), "odoo_privileged_passkey")
    assert row["status"] == "fail" and row["observed"]["without_passkey"] == ["it.eve"], row
    assert row["observed"]["privileged_roles"] == ["it_admin"] and row["control"] == "IA-1"
    assert one(_passkey_ctx([("it.bob", 2)]), "odoo_privileged_passkey")["status"] == "pass"
    row = one(_passkey_ctx([], installed=False), "odoo_privileged_passkey")
    assert row["status"] == "fail" and "auth_passkey is not installed" in str(row["observed"])
