"""Backups from the rack's cluster (#18, design note 4.6), from outside.

Every database member runs the nightly backup and the weekly drill (role
backup, backup_cluster_name = the scope, from playbooks/backup.yml), but only
the primary dumps and restores: a standby records "skipped" and touches no
repository. The runs carry the cluster's name as their host. After a
switchover the new primary backs up and the old one leaves it to it, and the
evidence rows pass on every member throughout (a standby's skip counts only
while it is a standby)."""

from __future__ import annotations

import json

import pytest
from lab_evidence import evidence_rows
from test_cluster import DB, SCOPE, healthy, leader, switchover, wait_for

STATE = "/var/lib/odoo-hipaa-backup"
RESTIC = ("restic -r /srv/backup/restic --password-file /etc/odoo-hipaa-backup/restic.pass --no-cache"
          " snapshots --json")


@pytest.fixture(scope="module")
def cluster(lab_host):
    wait_for("a healthy cluster", lambda: healthy(lab_host))
    return lab_host


def run_everywhere(cluster, unit: str, record: str, state: str = STATE) -> dict:
    """Start the job on every member (a oneshot: start returns when it ends)
    and read each member's record of it (under the job's state directory)."""
    seen = {}
    for name in DB:
        host = cluster(name)
        started = host.run(f"systemctl start {unit}")
        assert started.rc == 0, f"{unit} failed on {name}: {host.run(f'journalctl -u {unit} -n 30 --no-pager').stdout}"
        seen[name] = json.loads(host.check_output(f"cat {state}/{record}"))
    return seen


def rows(name: str) -> dict:
    return evidence_rows(name, ["backup_recent", "restore_drill", "backup_timer", "backup_password_file"], {})


def test_only_the_primary_backs_up_and_drills(cluster):
    primary = leader(cluster)
    backups = run_everywhere(cluster, "odoo-hipaa-backup.service", "last-backup.json")
    for name, data in backups.items():
        if name == primary:
            assert data["result"] == "ok" and data["tables"] > 0 and data["components"] == ["database"], data
        else:
            assert data["result"] == "skipped" and f"a standby of cluster {SCOPE}" in data["reason"], data
            assert cluster(name).check_output(RESTIC) in ("[]", "null"), f"the standby {name} wrote to its repository"
    hosts = {s["hostname"] for s in json.loads(cluster(primary).check_output(RESTIC))}
    assert hosts == {SCOPE}, f"the runs carry {hosts}, not the cluster's name"
    drills = run_everywhere(cluster, "odoo-hipaa-restore-drill.service", "drill/last.json")
    assert drills[primary]["result"] == "ok" and drills[primary]["rows_restored"] > 0, drills[primary]
    assert all(d["result"] == "skipped" for n, d in drills.items() if n != primary), drills
    for name in DB:
        failed = {k: r["observed"] for k, r in rows(name).items() if r["status"] != "pass"}
        assert not failed, f"{name}: {failed}"


def test_after_a_switchover_the_new_primary_backs_up(cluster):
    old = leader(cluster)
    done = switchover()
    assert done.returncode == 0, done.stdout[-3000:]
    new = leader(cluster)
    assert new != old
    wait_for("the old primary streaming again", lambda: healthy(cluster), timeout=120)
    # promoted since its last run: its skip no longer counts
    stale = rows(new)["backup_recent"]
    assert stale["status"] == "fail" and "the primary now" in stale["observed"], stale
    backups = run_everywhere(cluster, "odoo-hipaa-backup.service", "last-backup.json")
    assert backups[new]["result"] == "ok", backups[new]
    assert backups[old]["result"] == "skipped", backups[old]
    assert rows(new)["backup_recent"]["status"] == "pass"
    assert rows(old)["backup_recent"]["status"] == "pass"
    # The leader stays where the switchover put it: the tests that follow find
    # it (leader()), and the switchover playbook would refuse the old leader
    # while it is not the synchronous standby.
