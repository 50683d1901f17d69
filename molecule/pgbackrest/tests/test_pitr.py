"""Role pgbackrest, proven from outside on Debian 12 and 13: WAL reaches the
encrypted repository within archive_timeout, the passphrase is on no command
line, the weekly drill restores to a point in time (marker present just after
it, absent just before), verify catches a tampered file, and killed backups
or archive pushes leave nothing broken. §164.308(a)(7)(ii)(A),(B),(D),
§164.312(a)(2)(iv), §164.312(c)(1)."""

import json
import time

import pytest

testinfra_hosts = ["db"]

PASSPHRASE = "lab-only-pgbackrest-cipher-passphrase"
STANZA = "odoo"
REPO = "/srv/backup/pgbackrest"
STATE = "/var/lib/odoo-hipaa-pitr"
ARCHIVE_TIMEOUT = 15
# pitr-d12's repository is on a backup server; pitr-d13's is local.
REPOSITORY_HOST = {"pitr-d12": "pitr-repo-d12"}


def repository(host, lab_host):
    """(the host holding the repository, the account running its backups, the diff backup's unit)."""
    name = REPOSITORY_HOST.get(host.backend.get_hostname())
    if name:
        return lab_host(name), "pgbackrest", f"odoo-hipaa-pgbackrest-diff@{STANZA}.service"
    return host, "postgres", "odoo-hipaa-pgbackrest-diff.service"


def sql(host, query, db="postgres"):
    return host.check_output(f"runuser -u postgres -- psql -XAtq -d {db} -c {query!r}")


def pgbackrest(host, *args):
    return host.run("setpriv --reuid=postgres --regid=postgres --init-groups -- pgbackrest --stanza=odoo " + " ".join(args))


def info(host):
    r = pgbackrest(host, "--output=json", "info")
    assert r.rc == 0, r.stderr
    return json.loads(r.stdout)[0]


def wait_archived(host, walfile, timeout=ARCHIVE_TIMEOUT * 2 + 45):
    deadline = time.time() + timeout
    while time.time() < deadline:
        last = sql(host, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        if len(last) == 24 and last >= walfile:
            return time.time()
        time.sleep(1)
    raise AssertionError(f"{walfile} not archived within {timeout} s: {sql(host, 'SELECT * FROM pg_stat_archiver')}")


def test_archiving_is_on_and_the_repository_is_encrypted(host, lab_host):
    assert sql(host, "SHOW archive_mode") == "on"
    assert sql(host, "SHOW archive_command") == f"pgbackrest --stanza={STANZA} archive-push %p"
    assert sql(host, "SHOW archive_timeout") == f"{ARCHIVE_TIMEOUT}s"
    stanza = info(host)
    assert stanza["cipher"] == "aes-256-cbc" and stanza["status"]["code"] == 0, stanza
    assert [b for b in stanza["backup"] if b["type"] == "full"], "no full backup"
    conf = host.file("/etc/pgbackrest/pgbackrest.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "postgres", 0o640)
    repo_host, owner, _unit = repository(host, lab_host)
    assert repo_host.file(REPO).user == owner and repo_host.file(REPO).mode == 0o750
    if repo_host is not host:  # the database host holds neither the repository nor its passphrase
        assert PASSPHRASE not in conf.content_string and not host.file(REPO).exists
        repo_conf = repo_host.file("/etc/pgbackrest/pgbackrest.conf")
        assert (repo_conf.user, repo_conf.group, repo_conf.mode) == ("root", "pgbackrest", 0o640)
    # the passphrase is in no file of the repository and in no journal line
    assert repo_host.run(f"grep -rqs {PASSPHRASE} {REPO}").rc == 1
    for h in {host, repo_host}:
        assert PASSPHRASE not in h.check_output("journalctl --no-pager -q")


def test_a_commit_reaches_the_repository_within_the_archive_timeout(host):
    sql(host, "CREATE TABLE IF NOT EXISTS archived_probe (at timestamptz DEFAULT clock_timestamp())")
    sql(host, "INSERT INTO archived_probe DEFAULT VALUES")
    walfile = sql(host, "SELECT pg_walfile_name(pg_current_wal_lsn())")
    started = time.time()
    wait_archived(host, walfile)
    print(f"{host.backend.get_hostname()}: archived {time.time() - started:.1f} s after the commit")
    assert sql(host, "SELECT failed_count FROM pg_stat_archiver") == "0"


def test_no_process_argument_holds_the_passphrase_during_a_backup(host, lab_host, secret_never_in_argv):
    repo_host, _owner, unit = repository(host, lab_host)
    secret_never_in_argv(repo_host, unit, PASSPHRASE, "pgbackrest", timeout=180)


def test_the_drill_restores_to_a_point_in_time(host):
    r = host.run("systemctl start odoo-hipaa-pitr-drill.service")
    assert r.rc == 0, host.run("journalctl -u odoo-hipaa-pitr-drill -n 40 --no-pager").stdout
    last = json.loads(host.file(f"{STATE}/drill/last.json").content_string)
    assert last["result"] == "ok", last
    assert last["marker_present_after"] and last["sentinel_absent_after"] and last["marker_absent_before"]
    assert 0 < last["rpo_seconds"] <= ARCHIVE_TIMEOUT + 30, last
    assert last["rto_seconds"] > 0
    print(f"{host.backend.get_hostname()}: drill RPO {last['rpo_seconds']} s, RTO {last['rto_seconds']} s")
    # nothing of the scratch instance is left
    assert host.run("ls -A /srv/backup/pitr-drill").stdout.strip() == ""
    assert host.run("pgrep -f '^/usr/lib/postgresql/.*pitr-drill'").rc == 1  # anchored: never this shell itself
    log = host.check_output("journalctl -u odoo-hipaa-pitr-drill --no-pager -q -n 20")
    assert "PITR drill passed" in log


def test_verify_is_clean_and_catches_a_tampered_file(host, journal_since):
    if host.backend.get_hostname() != "pitr-d13":
        pytest.skip("one release is enough for the tamper test (pgBackRest's verify is the same code)")
    assert host.run("systemctl start odoo-hipaa-pgbackrest-verify.service").rc == 0
    wal = host.check_output(f"find {REPO}/archive -name '0000000*-*' -size +1k | sort | head -n 1")
    assert wal
    host.check_output(f"cp -p {wal} /root/wal.orig")
    try:
        host.check_output(f"printf 'tampered-tampered' | dd of={wal} bs=1 seek=200 conv=notrunc status=none")
        since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
        assert host.run("systemctl start odoo-hipaa-pgbackrest-verify.service").rc != 0
        log = journal_since(host, since, ["BACKUP JOB FAILED: odoo-hipaa-pgbackrest-verify.service"])
        assert "PGBACKREST VERIFY FAILED" in log and "BACKUP JOB FAILED: odoo-hipaa-pgbackrest-verify.service" in log
        assert json.loads(host.file(f"{STATE}/last-verify.json").content_string)["result"] == "failed"
    finally:
        host.check_output(f"cp -p /root/wal.orig {wal} && rm -f /root/wal.orig")
    assert host.run("systemctl start odoo-hipaa-pgbackrest-verify.service").rc == 0


def test_a_killed_backup_and_killed_archive_pushes_leave_nothing_broken(host):
    if host.backend.get_hostname() != "pitr-d13":
        pytest.skip("one release is enough (the same pgBackRest code paths)")
    # a backup killed mid-run
    host.check_output("systemctl start --no-block odoo-hipaa-pgbackrest-full.service")
    deadline = time.time() + 60
    while time.time() < deadline and host.run("pgrep -x pgbackrest").rc != 0:
        time.sleep(0.05)
    host.check_output("systemctl kill -s SIGKILL odoo-hipaa-pgbackrest-full.service")
    while host.run("systemctl is-active odoo-hipaa-pgbackrest-full.service").stdout.strip() in ("active", "activating",
                                                                                                 "deactivating"):
        time.sleep(0.2)
    # archive pushes killed while WAL is switched
    # (the pattern is anchored so that pkill never matches this shell's own command line)
    sql(host, "CREATE TABLE IF NOT EXISTS kill_probe (i int)")
    killed = host.run("for i in $(seq 1 30); do pkill -9 -f '^pgbackrest .*archive-push' && echo killed; sleep 0.1; done & "
                      "for i in $(seq 1 6); do runuser -u postgres -- psql -XAtq -c 'INSERT INTO kill_probe VALUES (1)' "
                      "-c 'SELECT pg_switch_wal()' >/dev/null; sleep 0.4; done; wait")
    print(f"archive pushes killed: {killed.stdout.count('killed')}")
    sql(host, "INSERT INTO kill_probe VALUES (2)")
    walfile = sql(host, "SELECT pg_walfile_name(pg_current_wal_lsn())")
    sql(host, "SELECT pg_switch_wal()")
    wait_archived(host, walfile, timeout=120)
    assert pgbackrest(host, "check").rc == 0
    assert host.run("systemctl start odoo-hipaa-pgbackrest-full.service").rc == 0
    assert host.run("systemctl start odoo-hipaa-pgbackrest-verify.service").rc == 0
