"""Role backup, proven from outside on both app hosts: a real backup to a
local repository and an off-site one (append-only REST from bk-app-d12, SFTP
from bk-app-d13), the restore drill, tamper detection, a killed
run, an unreachable repository. (HIPAA §164.308(a)(7)(ii)(A),(B),(D))"""

import json
import shlex
import time

import pytest

testinfra_hosts = ["backup_app"]

PASSWORD = "lab-only-restic-repository-passw0rd"
ETC = "/etc/odoo-hipaa-backup"
STATE = "/var/lib/odoo-hipaa-backup"
LOCAL = "/srv/backup/restic"


def restic(host, *args, repo=LOCAL, check=True):
    cmd = f"RESTIC_PASSWORD_FILE={ETC}/restic.pass RESTIC_CACHE_DIR=/var/cache/odoo-hipaa-backup restic --repo {repo} " + " ".join(args)
    return host.check_output(cmd) if check else host.run(cmd)


def offsite(host, *args, check=True):
    """restic on the off-site repository, reached as the job reaches it (config.json's args)."""
    repo = json.loads(host.file(f"{ETC}/config.json").content_string)["repositories"][1]
    cmd = (f"RESTIC_PASSWORD_FILE={ETC}/restic.pass RESTIC_CACHE_DIR=/var/cache/odoo-hipaa-backup restic "
           + " ".join(shlex.quote(a) for a in repo["args"] + list(args)))
    return host.check_output(cmd) if check else host.run(cmd)


def sql(host, query):
    return host.check_output(f"runuser -u odoo -- psql -XAt -d odoo -c {query!r}")


def run_unit(host, unit):
    return host.run(f"systemctl start {unit}")


@pytest.fixture(scope="module", autouse=True)
def patient_rows(host):
    """A PHI-like table owned by Odoo's role, as Odoo would create."""
    sql(host, "CREATE TABLE IF NOT EXISTS patient (id serial PRIMARY KEY, name text, dob date)")
    sql(host, "TRUNCATE patient")
    sql(host, "INSERT INTO patient (name, dob) SELECT 'patient ' || g, date '1950-01-01' + g FROM generate_series(1, 500) g")
    return 500


def test_password_file_is_root_only(host):
    f = host.file(f"{ETC}/restic.pass")
    assert f.user == "root" and f.mode == 0o600
    assert host.file(ETC).mode == 0o700


def test_timers_are_scheduled(host):
    for timer in ("odoo-hipaa-backup.timer", "odoo-hipaa-backup-check.timer", "odoo-hipaa-restore-drill.timer"):
        assert host.service(timer).is_enabled and host.service(timer).is_running


def test_backup_makes_tagged_snapshots_locally_and_off_site(host):
    r = run_unit(host, "odoo-hipaa-backup.service")
    assert r.rc == 0, host.run("journalctl -u odoo-hipaa-backup -n 30 --no-pager").stdout
    snaps = json.loads(restic(host, "snapshots", "--json"))
    run = sorted({t for s in snaps for t in s["tags"] if t.startswith("run:")})[-1]
    latest = {k: s for s in snaps if run in s["tags"] for k in ("db", "filestore", "config") if k in s["tags"]}
    assert set(latest) == {"db", "filestore", "config"}
    assert latest["db"]["paths"] == ["/odoo-db-odoo.dump"]
    assert latest["filestore"]["paths"] == ["/var/lib/odoo/filestore"]
    assert "/etc/postgresql" in latest["config"]["paths"]
    assert f"{STATE}/manifest.json" in latest["config"]["paths"]
    # sessions are never backed up
    listing = restic(host, "ls", latest["filestore"]["short_id"])
    assert "attachment-40" in listing and "sessions" not in listing
    # the run was copied to the backup host (REST from bk-app-d12, SFTP from bk-app-d13)
    remote = offsite(host, "snapshots", "--json", "--tag", run)
    assert {t for s in json.loads(remote) for t in s["tags"]} >= {"db", "filestore", "config", run}


def test_no_process_argument_or_log_line_holds_the_password(host, secret_never_in_argv):
    secret_never_in_argv(host, "odoo-hipaa-backup.service", PASSWORD, "restic")
    assert PASSWORD not in host.check_output("journalctl --no-pager -q")


def test_restore_drill_passes_and_records_equal_row_counts(host, patient_rows):
    r = run_unit(host, "odoo-hipaa-restore-drill.service")
    assert r.rc == 0, host.run("journalctl -u odoo-hipaa-restore-drill -n 30 --no-pager").stdout
    last = json.loads(host.file(f"{STATE}/drill/last.json").content_string)
    assert last["result"] == "ok" and last["problems"] == []
    assert last["rows_in_dump"] == last["rows_restored"] and last["rows_in_dump"] >= patient_rows
    assert last["filestore_backed_up"] == last["filestore_restored"]
    assert last["filestore_restored"]["files"] == 40
    assert last["rto_seconds"] > 0
    # the temporary database and the scratch space are gone
    assert "odoo_hipaa_drill" not in host.check_output("runuser -u postgres -- psql -XAtc 'SELECT datname FROM pg_database'")
    assert host.run(f"ls -A {STATE}/drill-scratch").stdout.strip() == ""


def test_changed_row_then_backup_and_drill_still_pass(host, patient_rows):
    sql(host, "UPDATE patient SET name = 'changed' WHERE id = 1")
    sql(host, "INSERT INTO patient (name, dob) VALUES ('new patient', '2001-02-03')")
    assert run_unit(host, "odoo-hipaa-backup.service").rc == 0
    assert run_unit(host, "odoo-hipaa-restore-drill.service").rc == 0
    last = json.loads(host.file(f"{STATE}/drill/last.json").content_string)
    manifest = json.loads(host.file(f"{STATE}/manifest.json").content_string)
    assert last["result"] == "ok" and last["run"] == manifest["run"]
    assert manifest["tables"]["public.patient"] == patient_rows + 1


def test_tampered_pack_is_detected(host):
    host.check_output(f"rm -rf /srv/backup/tampered && cp -a {LOCAL} /srv/backup/tampered")
    pack = host.check_output("find /srv/backup/tampered/data -type f -size +20k | head -n 1")
    assert pack
    # flip 64 bytes in the middle of a pack file
    host.check_output(f"printf '%064d' 0 | dd of={pack} bs=1 seek=4096 conv=notrunc status=none")
    r = restic(host, "check", "--read-data", repo="/srv/backup/tampered", check=False)
    host.run("rm -rf /srv/backup/tampered")
    assert r.rc != 0
    assert "error" in (r.stdout + r.stderr).lower()


def test_backup_killed_mid_run_leaves_repository_consistent(host):
    host.check_output("systemctl start --no-block odoo-hipaa-backup.service")
    deadline = time.time() + 120
    while time.time() < deadline and host.run("pgrep -x restic").rc != 0:
        time.sleep(0.1)
    host.check_output("systemctl kill -s SIGKILL odoo-hipaa-backup.service")
    while host.run("systemctl is-active odoo-hipaa-backup.service").stdout.strip() in ("active", "activating", "deactivating"):
        time.sleep(0.2)
    assert host.run("systemctl show -p Result --value odoo-hipaa-backup.service").stdout.strip() == "signal"
    # the weekly check job (which clears stale locks only) finds the repositories clean
    r = run_unit(host, "odoo-hipaa-backup-check.service")
    assert r.rc == 0, host.run("journalctl -u odoo-hipaa-backup-check -n 30 --no-pager").stdout
    assert run_unit(host, "odoo-hipaa-backup.service").rc == 0


def test_unreachable_repository_fails_loudly(host, lab_host, journal_since):
    repo = json.loads(host.file(f"{ETC}/config.json").content_string)["repositories"][1]
    if repo["type"] == "rest":  # this client's REST service on its backup host
        server = repo["url"].split("//")[1].split(":")[0]
        unit = "odoo-hipaa-restic-rest@" + host.backend.get_hostname() + ".service"
    else:
        server, unit = repo["url"].split("@")[1].split(":")[0], "ssh"
    lab_host(server).check_output(f"systemctl stop ssh.socket 2>/dev/null; systemctl stop {unit}")
    try:
        since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
        r = run_unit(host, "odoo-hipaa-backup.service")
        assert r.rc != 0
        log = journal_since(host, since, ["BACKUP JOB FAILED: odoo-hipaa-backup.service"])
        assert "odoo-hipaa-backup backup FAILED" in log and "offsite" in log
        assert "BACKUP JOB FAILED: odoo-hipaa-backup.service" in log
        assert json.loads(host.file(f"{STATE}/last-backup.json").content_string)["result"] == "ok"  # the last good one
    finally:
        lab_host(server).check_output(f"systemctl start {unit}")
