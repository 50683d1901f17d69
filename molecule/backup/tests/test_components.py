"""backup_components, for a separate database host: a host that holds only
the database backs up and drills only the database; an Odoo host whose
database lives elsewhere backs up and drills only its filestore, with no
PostgreSQL on it at all. (HIPAA §164.308(a)(7)(ii)(A),(B),(D))

Runs before test_restore_playbook.py (Molecule sorts the files), while the
fresh host has no PostgreSQL; it leaves both hosts as it found them."""

import json

import pytest

DB_HOST = "bk-app-d13"     # PostgreSQL runs here: the database host of the layout
APP_HOST = "bk-fresh-d12"  # no PostgreSQL: the Odoo host of the layout
ETC = "/etc/odoo-hipaa-backup"
STATE = "/var/lib/odoo-hipaa-backup"
UNITS = [f"/etc/systemd/system/{u}" for u in (
    "odoo-hipaa-backup.service", "odoo-hipaa-backup-check.service", "odoo-hipaa-restore-drill.service")]


def restic(host, repo, *args):
    return host.check_output(f"RESTIC_PASSWORD_FILE={ETC}/restic.pass RESTIC_CACHE_DIR=/var/cache/odoo-hipaa-backup "
                             f"restic --repo {repo} " + " ".join(args))


def latest_run(host, repo):
    snaps = json.loads(restic(host, repo, "snapshots", "--json"))
    run = sorted({t for s in snaps for t in s["tags"] if t.startswith("run:")})[-1]
    return {k: s for s in snaps if run in s["tags"] for k in ("db", "filestore", "config") if k in s["tags"]}


def start(host, unit):
    r = host.run(f"systemctl start {unit}")
    assert r.rc == 0, host.run(f"journalctl -u {unit} -n 30 --no-pager").stdout


@pytest.fixture(scope="module")
def db_host(lab_host, role_runner, fingerprint):
    """The database host's role run: [database], with backup_odoo_data_dir
    pointing nowhere (it must be ignored). Only config.json may change; it
    is put back afterwards."""
    host = lab_host(DB_HOST)
    units = fingerprint(host, UNITS)
    host.check_output(f"cp -p {ETC}/config.json {ETC}/config.json.before-components-test")
    try:
        run = role_runner(DB_HOST, "backup", {"backup_components": ["database"],
                                              "backup_odoo_data_dir": "/nonexistent/odoo"})
        assert run.rc == 0, run.output[-3000:]
        assert fingerprint(host, UNITS) == units  # the units do not depend on the components
        yield host
    finally:
        host.check_output(f"mv {ETC}/config.json.before-components-test {ETC}/config.json")


def test_database_only_backs_up_and_drills_the_database_alone(db_host):
    cfg = json.loads(db_host.file(f"{ETC}/config.json").content_string)
    assert cfg["components"] == ["database"] and cfg["filestore_paths"] == []
    start(db_host, "odoo-hipaa-backup.service")
    latest = latest_run(db_host, cfg["repositories"][0]["url"])
    assert set(latest) == {"db", "config"}
    assert latest["db"]["paths"] == ["/odoo-db-odoo.dump"]
    manifest = json.loads(db_host.file(f"{STATE}/manifest.json").content_string)
    assert manifest["components"] == ["database"] and manifest["tables"]["public.patient"] > 0
    assert "filestore_paths" not in manifest
    last_backup = json.loads(db_host.file(f"{STATE}/last-backup.json").content_string)
    assert last_backup["result"] == "ok" and last_backup["components"] == ["database"]

    start(db_host, "odoo-hipaa-restore-drill.service")
    last = json.loads(db_host.file(f"{STATE}/drill/last.json").content_string)
    assert last["result"] == "ok" and last["run"] == manifest["run"] and last["components"] == ["database"]
    assert last["rows_in_dump"] == last["rows_restored"] and last["tables_compared"] == len(manifest["tables"])
    assert "filestore_restored" not in last
    assert "odoo_hipaa_drill" not in db_host.check_output(
        "runuser -u postgres -- psql -XAtc 'SELECT datname FROM pg_database'")


@pytest.fixture(scope="module")
def app_host(lab_host, role_runner):
    """The Odoo host's role run: [filestore], into a local repository, on a
    host without PostgreSQL. Afterwards the host is made fresh again for
    test_restore_playbook.py: the role's files, and the packages it installed."""
    host = lab_host(APP_HOST)
    assert host.run("command -v psql || command -v pg_dump").rc != 0, "the fresh host must have no PostgreSQL"
    installed_before = {p for p in ("restic", "openssh-client") if host.package(p).is_installed}
    made = ["/srv/backup"] + (["/var/lib/odoo/filestore", "/var/lib/odoo/sessions"]
                              if host.file("/var/lib/odoo").exists else ["/var/lib/odoo"])
    host.check_output("set -e; for i in 1 2 3 4 5; do d=/var/lib/odoo/filestore/odoo/0$i; mkdir -p $d;"
                      " head -c $((i * 1000)) /dev/urandom > $d/attachment-$i; done;"
                      " mkdir -p /var/lib/odoo/sessions /srv/backup; echo s > /var/lib/odoo/sessions/werkzeug_session;"
                      " chown -R odoo: /var/lib/odoo")
    try:
        run = role_runner(APP_HOST, "backup", {
            "backup_components": ["filestore"],
            "backup_repositories": [{"name": "local", "type": "local", "path": "/srv/backup/restic-filestore"}]})
        assert run.rc == 0, run.output[-3000:]
        yield host
    finally:
        units = " ".join(f"odoo-hipaa-{u}" for u in ("backup.timer", "backup-check.timer", "restore-drill.timer"))
        host.run(f"systemctl disable --now {units}")
        host.check_output(f"rm -rf /etc/systemd/system/odoo-hipaa-* {ETC} {STATE} /var/cache/odoo-hipaa-backup"
                          " /usr/local/lib/odoo-hipaa-backup " + " ".join(made) + " && systemctl daemon-reload")
        added = {"restic", "openssh-client"} - installed_before
        if added:
            host.check_output("DEBIAN_FRONTEND=noninteractive apt-get purge -qq -y " + " ".join(sorted(added)))


def test_filestore_only_backs_up_and_drills_without_postgresql(app_host):
    cfg = json.loads(app_host.file(f"{ETC}/config.json").content_string)
    assert cfg["components"] == ["filestore"]
    start(app_host, "odoo-hipaa-backup.service")
    latest = latest_run(app_host, "/srv/backup/restic-filestore")
    assert set(latest) == {"filestore", "config"}
    assert latest["filestore"]["paths"] == ["/var/lib/odoo/filestore"]
    listing = restic(app_host, "/srv/backup/restic-filestore", "ls", latest["filestore"]["short_id"])
    assert "attachment-5" in listing and "sessions" not in listing
    manifest = json.loads(app_host.file(f"{STATE}/manifest.json").content_string)
    assert manifest["components"] == ["filestore"] and manifest["filestore"]["files"] == 5
    assert "tables" not in manifest and "dump_sha256" not in manifest

    start(app_host, "odoo-hipaa-restore-drill.service")
    last = json.loads(app_host.file(f"{STATE}/drill/last.json").content_string)
    assert last["result"] == "ok" and last["run"] == manifest["run"] and last["components"] == ["filestore"]
    assert last["filestore_restored"] == last["filestore_backed_up"] == manifest["filestore"]
    assert "rows_restored" not in last
    assert "5 files and" in app_host.check_output("journalctl -u odoo-hipaa-restore-drill -n 5 --no-pager -o cat")
    # still no PostgreSQL anywhere on the host: nothing needed it
    assert app_host.run("command -v psql || command -v pg_dump").rc != 0
