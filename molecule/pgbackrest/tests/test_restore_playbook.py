"""playbooks/restore.yml to a point in time: rows written continuously, a time
T noted on the server, the table dropped; the restore brings back every row
committed up to T and none after it. Bad targets and a cluster with data are
refused before anything stops. §164.308(a)(7)(ii)(B)."""

import os
import subprocess
import time

import pytest

HOST = "pitr-d12"


def sql(host, query, db="odoo"):
    return host.check_output(f"runuser -u postgres -- psql -XAtq -d {db} -c {query!r}")


def restore(*extra):
    playbook = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "restore.yml")
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    return subprocess.run(["ansible-playbook", "-i", inventory, playbook, "--limit", HOST] + list(extra),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)


@pytest.fixture(scope="module")
def host(lab_host):
    return lab_host(HOST)


@pytest.fixture(scope="module")
def written(host):
    """A writer commits one row every 100 ms; T is read from the server's clock
    in the middle; then the table is dropped, as a careless or hostile user would."""
    sql(host, "DROP TABLE IF EXISTS pitr_writer")
    sql(host, "CREATE TABLE pitr_writer (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
    host.check_output("nohup bash -c 'for i in $(seq 1 80); do runuser -u postgres -- psql -XAtq -d odoo "
                      "-c \"INSERT INTO pitr_writer DEFAULT VALUES\"; sleep 0.1; done' >/dev/null 2>&1 &")
    time.sleep(4)
    target = sql(host, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
    time.sleep(3)
    host.run("pkill -f 'seq 1 80'")
    before = int(sql(host, f"SELECT count(*) FROM pitr_writer WHERE at <= '{target}'"))
    after = int(sql(host, f"SELECT count(*) FROM pitr_writer WHERE at > '{target}'"))
    assert before > 5 and after > 5, (before, after)
    sql(host, "DROP TABLE pitr_writer")
    # the WAL up to now must be in the repository before it can be restored
    walfile = sql(host, "SELECT pg_walfile_name(pg_current_wal_lsn())", "postgres")
    sql(host, "SELECT pg_switch_wal()", "postgres")
    deadline = time.time() + 90
    while time.time() < deadline:
        last = sql(host, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver", "postgres")
        if len(last) == 24 and last >= walfile:
            break
        time.sleep(1)
    return {"target": target, "before": before, "after": after}


@pytest.mark.parametrize("target, message, first", [
    # (first: refused before any role of the restore runs; the oldest
    # backup is known only once the repository can be read)
    ("2026-12-02 10:41:00", "give the time to restore to with its UTC offset", True),
    ("yesterday", "give the time to restore to with its UTC offset", True),
    ("2099-01-01 00:00:00+00", "it is in the future", True),
    ("2001-01-01 00:00:00+00", "it is before the oldest backup", False),
])
def test_a_bad_target_is_refused_before_anything_stops(target, message, first, host, written):
    pid = host.check_output("systemctl show -p MainPID --value postgresql@15-main.service")
    proc = restore("-e", f"pgbackrest_restore_target='{target}'", "-e", "pgbackrest_restore_replace=true")
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-3000:]
    assert host.check_output("systemctl show -p MainPID --value postgresql@15-main.service") == pid
    if first:
        assert "onprem.odoo_hipaa.postgresql :" not in proc.stdout, (
            "the postgresql role ran before the target was refused:\n" + proc.stdout[-3000:])


def test_a_cluster_with_databases_is_not_replaced_unless_asked(host, written):
    proc = restore("-e", f"pgbackrest_restore_target='{written['target']}'")
    assert proc.returncode != 0 and "Set pgbackrest_restore_replace=true" in proc.stdout, proc.stdout[-3000:]
    assert sql(host, "SELECT 1") == "1"


def test_restore_to_the_time_brings_back_exactly_the_rows_committed_before_it(host, written):
    proc = restore("-e", f"pgbackrest_restore_target='{written['target']}'", "-e", "pgbackrest_restore_replace=true")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert int(sql(host, f"SELECT count(*) FROM pitr_writer WHERE at <= '{written['target']}'")) == written["before"]
    assert sql(host, f"SELECT count(*) FROM pitr_writer WHERE at > '{written['target']}'") == "0"
    # the ids are contiguous: nothing committed before T is missing
    assert sql(host, "SELECT max(id) - min(id) + 1 = count(*) FROM pitr_writer") == "t"
    # the old data directory is kept aside; the restored cluster archives again
    assert host.run("ls -d /var/lib/postgresql/15/main.pre-restore-*").rc == 0
    assert sql(host, "SHOW archive_mode", "postgres") == "on"
    assert host.run("systemctl show -p Result --value odoo-hipaa-pgbackrest-full.service").stdout.strip() == "success"
