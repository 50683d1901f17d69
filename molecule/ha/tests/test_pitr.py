"""Point-in-time recovery from the rack's cluster (#18 with #17's pgBackRest,
design note 4.6), from outside.

- every member reads role pgbackrest's archiving settings through Patroni's
  custom_conf (conf.d, as on a single host): archive_mode on, the cluster's
  stanza (its scope); the primary archives, nothing fails;
- the repository host holds one encrypted stanza for the cluster, and its
  backups pull from whichever member is the primary, also with a standby down;
- after a switchover the new primary archives its new timeline into the same
  stanza: its drill restores the backup taken before the switchover to a time
  on the new timeline (marker present just after, absent just before), while
  the old primary, now a standby, records "skipped";
- the evidence rows wal_archiving, pgbackrest_encrypted and pitr_drill pass
  on every member;
- refused before any change: a member without a repository host, a scope
  pgBackRest cannot name a stanza by, and the single host's restore entry
  point on a member."""

from __future__ import annotations

import json

import pytest
from test_backup import run_everywhere
from test_cluster import DB, PSQL, SCOPE, evidence, healthy, leader, members, switchover, wait_for

REPO = "ha-backup-d13"
REPO_INFO = (f"setpriv --reuid=pgbackrest --regid=pgbackrest --init-groups -- pgbackrest --stanza={SCOPE}"
             " --output=json info")
STATE = "/var/lib/odoo-hipaa-pitr"
PITR_ROWS = ["wal_archiving", "pgbackrest_encrypted", "pitr_drill"]


@pytest.fixture(scope="module")
def cluster(lab_host):
    wait_for("a healthy cluster", lambda: healthy(lab_host))
    return lab_host


def stanza(cluster) -> dict:
    [info] = json.loads(cluster(REPO).check_output(REPO_INFO))
    return info


def timeline(wal: str) -> int:
    return int(wal[:8], 16)


def test_every_member_archives_into_the_cluster_s_stanza(cluster):
    for name in DB:
        settings = cluster(name).check_output(PSQL + "\"SELECT current_setting('archive_mode') || '|' || "
                                                     "current_setting('archive_command')\"")
        assert settings == f"on|pgbackrest --stanza={SCOPE} archive-push %p", f"{name}: {settings}"
    primary = cluster(leader(cluster))
    # a transaction first: with no WAL since the last switch, pg_switch_wal does nothing
    wal = primary.check_output("runuser -u postgres -- psql -XAtq -c 'SELECT txid_current()' "
                               "-c 'SELECT pg_walfile_name(pg_switch_wal())'").split()[-1]

    def archived():
        last = primary.check_output(PSQL + "\"SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver\"")
        return len(last) == 24 and last >= wal   # a .history or .partial name says nothing of segments
    wait_for(f"{wal} archived", archived, timeout=90)
    assert primary.check_output(PSQL + "'SELECT failed_count FROM pg_stat_archiver'") == "0"
    info = stanza(cluster)
    assert info["status"]["code"] == 0 and info["cipher"] == "aes-256-cbc", info["status"]
    assert [b["type"] for b in info["backup"]][:1] == ["full"], info["backup"]


def test_the_repository_host_backs_up_the_primary_with_a_standby_down(cluster):
    """The backup does not depend on any one member: pgBackRest asks each and
    copies the primary; a standby that is down is passed over."""
    primary = leader(cluster)
    # the asynchronous one, so that writes never wait meanwhile
    standby = next((m["Member"] for m in members(cluster) if m["Role"] == "Replica"),
                   next(n for n in DB if n != primary))
    before = len(stanza(cluster)["backup"])
    cluster(standby).check_output("systemctl stop patroni@17-main.service")
    try:
        done = cluster(REPO).run(f"systemctl start odoo-hipaa-pgbackrest-diff@{SCOPE}.service")
        log = cluster(REPO).run(f"journalctl -u odoo-hipaa-pgbackrest-diff@{SCOPE}.service -n 40 --no-pager").stdout
        assert done.rc == 0, log
    finally:
        cluster(standby).check_output("systemctl start patroni@17-main.service")
    backups = stanza(cluster)["backup"]
    assert len(backups) == before + 1 and backups[-1]["type"] == "diff", backups[-1]
    wait_for("the standby streaming again", lambda: healthy(cluster), timeout=180)


def test_after_a_switchover_the_new_primary_s_drill_recovers_across_the_timelines(cluster):
    old = leader(cluster)
    newest = stanza(cluster)["backup"][-1]
    done = switchover()
    assert done.returncode == 0, done.stdout[-3000:]
    new = leader(cluster)
    assert new != old
    wait_for("the old primary streaming again", lambda: healthy(cluster), timeout=180)
    now = int(cluster(new).check_output(PSQL + "'SELECT timeline_id FROM pg_control_checkpoint()'"))
    assert now > timeline(newest["archive"]["start"]), "the switchover started no new timeline"
    drills = run_everywhere(cluster, "odoo-hipaa-pitr-drill.service", "drill/last.json", STATE)
    proof = drills[new]
    # The restore starts from the backup taken before the switchover (the
    # newest one) and replays WAL through the timeline switch to the target.
    assert proof["result"] == "ok", proof
    assert proof["marker_present_after"] and proof["sentinel_absent_after"] and proof["marker_absent_before"], proof
    assert stanza(cluster)["backup"][-1]["label"] == newest["label"], "a backup was taken after the switchover"
    for name in (n for n in DB if n != new):
        assert drills[name]["result"] == "skipped" and drills[name]["cluster"] == SCOPE, drills[name]
    for name in DB:
        rows = evidence(name, PITR_ROWS)
        failed = {check: row["observed"] for check, row in rows.items() if row["status"] != "pass"}
        assert not failed, f"{name}: {failed}"
    # The new timeline's history file is in the stanza's archive.
    assert any(f"{now:08X}.history" in line for line in cluster(REPO).check_output(
        f"find /srv/backup/pgbackrest/archive/{SCOPE} -name '*.history*' -printf '%f\\n'").splitlines())


# --- refused input -------------------------------------------------------------

REFUSED = {
    "a member keeping its own repository": (
        {"pgbackrest_repository_host": ""}, "its point-in-time recovery repository must be on a repository host"),
    "a scope pgBackRest cannot name a stanza by": (
        {"patroni_scope": "HA_Lab"}, "patroni_scope (the stanza of a Patroni cluster) is 'HA_Lab'"),
}
REFUSED_RESTORE = {
    "the single host's restore on a member": (
        {"pgbackrest_restore_target": "latest"}, "this entry point restores a single host's PostgreSQL"),
}
WATCHED = ["sha256sum /etc/pgbackrest/pgbackrest.conf /etc/postgresql/17/main/conf.d/60-odoo-hipaa-pgbackrest.conf",
           "systemctl show -p ActiveEnterTimestamp patroni@17-main.service"]


@pytest.fixture(scope="module")
def refused(refused_batch, cluster):
    return refused_batch("pgbackrest", REFUSED, [DB[0]], [], WATCHED)


@pytest.fixture(scope="module")
def refused_restore(refused_batch, cluster):
    return refused_batch("pgbackrest", REFUSED_RESTORE, [DB[0]], [], WATCHED, tasks_from="restore")


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_input_is_refused_before_any_change(refused, case):
    refused.check(case)


@pytest.mark.parametrize("case", list(REFUSED_RESTORE))
def test_a_member_is_never_restored_as_a_single_host(refused_restore, case):
    refused_restore.check(case)
