"""The whole cluster restored to a point in time (playbooks/ha_restore.yml,
role pgbackrest's entry point restore_cluster), from outside. Last of the
scenario on purpose (the zz): it rewinds every member, Odoo's data included.

- refused before anything stops: no cluster named, a cluster no host has,
  `latest`, a member left out by --limit, and no pgbackrest_restore_replace;
  the leader keeps running and nothing moves;
- a row committed before the target is there afterwards and one committed
  after it is gone, on the leader and on every replica (which copied the
  restored leader anew); the cluster is healthy again, with a synchronous
  standby, on a new timeline; the other cluster of the inventory (ha-solo)
  is left alone; the WAL of the new timeline reaches the stanza and a full
  backup of the restored cluster is in it; every member's previous data
  directory is kept aside. The restore's duration is recorded, not asserted."""

from __future__ import annotations

import json
import time

import pytest
from test_cluster import DB, PSQL, SCOPE, healthy, leader, record, run_playbook, wait_for
from test_pitr import REPO_INFO, REPO

SOLO = "ha-solo-d12"
UP_SINCE = "systemctl show -p ActiveEnterTimestamp --value patroni@17-main.service"
RUN = f"run{int(time.time())}"
KEPT = "ls -d /var/lib/postgresql/17/main.pre-restore-* 2>/dev/null || true"


def restore(*extra: str) -> subprocess.CompletedProcess:
    """playbooks/ha_restore.yml."""
    return run_playbook("ha_restore.yml", *extra, timeout=900)


@pytest.fixture(scope="module")
def cluster(lab_host):
    wait_for("a healthy cluster", lambda: healthy(lab_host))
    return lab_host


@pytest.fixture(scope="module")
def marked(cluster):
    """A row before the target, the target (the server's clock), a row after."""
    primary = cluster(leader(cluster))
    sql = primary.check_output
    sql(PSQL + "'CREATE TABLE IF NOT EXISTS cluster_restore_probe (run text, tag text, at timestamptz DEFAULT clock_timestamp())'")
    sql(PSQL + f"\"INSERT INTO cluster_restore_probe (run, tag) VALUES ('{RUN}', 'before')\"")
    time.sleep(1.5)
    target = sql(PSQL + "\"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'\"")
    time.sleep(1.5)
    sql(PSQL + f"\"INSERT INTO cluster_restore_probe (run, tag) VALUES ('{RUN}', 'after')\"")
    return target


REFUSALS = {
    "no cluster named": ([], "pgbackrest_restore_cluster"),
    "a cluster no host has": (["-e", "pgbackrest_restore_cluster=ha-lab2"], "pgbackrest_restore_cluster is 'ha-lab2'"),
    "latest": (["-e", f"pgbackrest_restore_cluster={SCOPE}", "-e", "pgbackrest_restore_target=latest",
                "-e", "pgbackrest_restore_replace=true"], "a running cluster is already at its latest point"),
    "a member left out": (["-e", f"pgbackrest_restore_cluster={SCOPE}", "-e", "pgbackrest_restore_replace=true",
                           "--limit", "ha-db1-d13,ha-db2-d13"], "The play lacks ha-db3-d13"),
    "no replace": (["-e", f"pgbackrest_restore_cluster={SCOPE}"], "Set pgbackrest_restore_replace=true"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_restore_is_refused_before_anything_stops(cluster, marked, case):
    args, message = REFUSALS[case]
    if "latest" not in case:
        args = args + ["-e", f"pgbackrest_restore_target='{marked}'"]
    before = {n: (cluster(n).check_output(UP_SINCE), cluster(n).check_output(KEPT)) for n in DB}
    old = leader(cluster)
    done = restore(*args)
    assert done.returncode != 0 and message in done.stdout, done.stdout[-3000:]
    after = {n: (cluster(n).check_output(UP_SINCE), cluster(n).check_output(KEPT)) for n in DB}
    assert after == before, "a member was stopped or a data directory moved"
    assert leader(cluster) == old


def test_the_cluster_is_restored_to_the_target(cluster, marked):
    solo_since = cluster(SOLO).check_output("systemctl show -p ActiveEnterTimestamp --value patroni@15-main.service")
    timeline = int(cluster(leader(cluster)).check_output(PSQL + "'SELECT timeline_id FROM pg_control_checkpoint()'"))
    backups = len(json.loads(cluster(REPO).check_output(REPO_INFO))[0]["backup"])
    started = time.monotonic()
    done = restore("-e", f"pgbackrest_restore_cluster={SCOPE}", "-e", f"pgbackrest_restore_target='{marked}'",
                   "-e", "pgbackrest_restore_replace=true")
    took = round(time.monotonic() - started, 1)
    assert done.returncode == 0, done.stdout[-4000:]
    record("cluster_restore", {"target": marked, "playbook_s": took})
    wait_for("a healthy cluster with a synchronous standby", lambda: healthy(cluster), timeout=120)
    new = leader(cluster)
    assert int(cluster(new).check_output(PSQL + "'SELECT timeline_id FROM pg_control_checkpoint()'")) > timeline
    for name in DB:
        tags = wait_for(f"the probe rows on {name}", lambda: cluster(name).run(
            PSQL + f"\"SELECT string_agg(tag, ',' ORDER BY tag) FROM cluster_restore_probe WHERE run = '{RUN}'\"").stdout.strip(),
            timeout=60)
        assert tags == "before", f"{name}: {tags}"
        assert cluster(name).check_output(KEPT), f"{name}: nothing kept aside"
    info = json.loads(cluster(REPO).check_output(REPO_INFO))[0]
    assert len(info["backup"]) == backups + 1 and info["backup"][-1]["type"] == "full", info["backup"][-1]
    assert info["status"]["code"] == 0
    # the other cluster of the inventory was left alone
    assert cluster(SOLO).check_output("systemctl show -p ActiveEnterTimestamp --value patroni@15-main.service") == solo_since
