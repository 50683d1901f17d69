"""Retention of an append-only repository runs on the backup host
(role backup_server): bk-srv-d13 forgets, prunes and checks bk-app-d12's
repository with its own key, and refuses to run while a snapshot is dated in
the future (a client could forge one to make every real snapshot "old").
§164.308(a)(7)(ii)(A), §164.316(b)(2)(i)."""

import json
import shlex

import pytest

CLIENT, SERVER, NAME = "bk-app-d12", "bk-srv-d13", "bk-app-d12"
ETC = "/etc/odoo-hipaa-backup"
UNIT = f"odoo-hipaa-offsite-retention@{NAME}.service"
STATE = f"/var/lib/odoo-hipaa-backup-server/retention/{NAME}/last.json"
REPO_DIR = f"/srv/restic/restic-{NAME}/repo"


def client_restic(host, args):
    repo = json.loads(host.file(f"{ETC}/config.json").content_string)["repositories"][1]
    return host.run(f"RESTIC_PASSWORD_FILE={ETC}/restic.pass RESTIC_CACHE_DIR=/var/cache/odoo-hipaa-backup restic "
                    + " ".join(shlex.quote(a) for a in repo["args"]) + " " + args)


def server_restic(host, args):
    """restic on the server's directory with the retention key, as the client's
    account (files keep their owner), the way an operator repairs by hand."""
    return host.run(f"runuser -u restic-{NAME} -- env RESTIC_CACHE_DIR=/tmp/retention-test-cache "
                    f"RESTIC_PASSWORD_FILE=/etc/odoo-hipaa-backup-server/retention/{NAME}.pass restic -r {REPO_DIR} {args}")


def snapshot_ids(server):
    return {s["id"] for s in json.loads(server_restic(server, "snapshots --json").stdout or "[]")}


def start(server, journal_since, wait_for=()):
    since = server.check_output("date '+%Y-%m-%d %H:%M:%S'")
    r = server.run(f"systemctl start {UNIT}")
    log = journal_since(server, since, wait_for)
    return r, log, json.loads(server.file(STATE).content_string)


@pytest.fixture(scope="module")
def client(lab_host):
    host = lab_host(CLIENT)
    if not json.loads(client_restic(host, "snapshots --json").stdout or "[]"):
        assert host.run("systemctl start odoo-hipaa-backup.service").rc == 0
    return host


@pytest.fixture(scope="module")
def server(lab_host):
    return lab_host(SERVER)


def test_the_timer_is_scheduled(server):
    timer = server.service(f"odoo-hipaa-offsite-retention@{NAME}.timer")
    assert timer.is_enabled and timer.is_running


def test_the_client_cannot_read_the_retention_password(server):
    f = server.file(f"/etc/odoo-hipaa-backup-server/retention/{NAME}.pass")
    assert f.user == f"restic-{NAME}" and f.mode == 0o400
    # the other client's account cannot read it either
    assert server.run(f"runuser -u restic-bk-app-d13 -- cat {f.path}").rc != 0


def test_retention_forgets_what_the_policy_no_longer_keeps(client, server, journal_since):
    """Two snapshots of one path, ten years apart: keep-within-yearly 6y keeps the
    newer and forgets the older; of the genuine backups, each path's newest is kept."""
    leftovers = [s["id"] for s in json.loads(server_restic(server, "snapshots --json").stdout or "[]")
                 if s["paths"] == ["/etc/hostname"]]
    if leftovers:  # from an interrupted earlier run of this test
        server_restic(server, "forget " + " ".join(leftovers))
    for when in ("2015-01-01 00:00:00", "2005-01-01 00:00:00"):
        r = client_restic(client, f"backup --tag odoo-hipaa --host {NAME} --time {shlex.quote(when)} /etc/hostname")
        assert r.rc == 0, r.stderr
    before = json.loads(server_restic(server, "snapshots --json").stdout)
    old = {s["time"][:4]: s["id"] for s in before if s["paths"] == ["/etc/hostname"]}
    r, log, state = start(server, journal_since)
    assert r.rc == 0, log[-3000:]
    assert state["result"] == "ok" and state["removed"] >= 1, state
    after = snapshot_ids(server)
    assert old["2005"] not in after and old["2015"] in after
    # of the real backups, the newest of each path stays (keep-within-daily
    # keeps the last snapshot of each day, like the client's keep_daily)
    newest = {}
    for snap in sorted(before, key=lambda s: s["time"]):
        if snap["paths"] != ["/etc/hostname"]:
            newest[tuple(snap["paths"])] = snap["id"]
    assert newest and set(newest.values()) <= after
    assert "OFFSITE RETENTION OK" in log
    server_restic(server, f"forget {old['2015']}")  # leave the repository as the other tests expect it


def test_a_snapshot_dated_in_the_future_stops_retention(client, server, journal_since):
    r = client_restic(client, f"backup --tag odoo-hipaa --host {NAME} --time '2100-01-01 00:00:00' /etc/hostname")
    assert r.rc == 0, r.stderr
    forged = [s["id"] for s in json.loads(server_restic(server, "snapshots --json").stdout)
              if s["time"].startswith("2100")]
    before = snapshot_ids(server)
    try:
        r, log, state = start(server, journal_since, wait_for=[f"BACKUP JOB FAILED: {UNIT}"])
        assert r.rc != 0
        assert state["result"] == "refused", state
        assert "OFFSITE RETENTION REFUSED" in log and "in the future" in log
        assert f"BACKUP JOB FAILED: {UNIT}" in log
        assert snapshot_ids(server) == before  # nothing forgotten
    finally:
        server_restic(server, "forget " + " ".join(forged))
    r, log, state = start(server, journal_since)
    assert r.rc == 0 and state["result"] == "ok", log[-3000:]
