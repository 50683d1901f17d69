"""pitr-d12's pgBackRest repository is on a backup server (pitr-repo-d12):
WAL and backups travel over pgBackRest's TLS with the lab CA's certificates,
each end authorised for the stanza only; the repository host runs the backups
(pulling from the database host's TLS server, which cannot write the data
directory) and verify. §164.308(a)(7)(ii)(A), §164.312(e)(1), §164.312(d)."""

import base64
import json
import os

import pytest

DB, REPO_HOST = "pitr-d12", "pitr-repo-d12"
STANZA = "odoo"
PGDATA = "/var/lib/postgresql/15/main"
AS_POSTGRES = "setpriv --reuid=postgres --regid=postgres --init-groups -- "
AS_PGBACKREST = "setpriv --reuid=pgbackrest --regid=pgbackrest --init-groups -- "


@pytest.fixture(scope="module")
def db(lab_host):
    return lab_host(DB)


@pytest.fixture(scope="module")
def repo(lab_host):
    return lab_host(REPO_HOST)


def place(host, name, owner):
    """Copy a certificate and key of the lab PKI (controller) to a host, readable by owner only."""
    pki = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki")
    for ext in ("crt", "key"):
        with open(os.path.join(pki, f"{name}.{ext}"), "rb") as fh:
            data = base64.b64encode(fh.read()).decode()
        dest = f"/run/odoo-hipaa-test-pki/{os.path.basename(name)}.{ext}"
        host.check_output(f"install -d -m 0755 /run/odoo-hipaa-test-pki && rm -f {dest} && "
                          f"echo {data} | base64 -d > {dest} && chown {owner}: {dest} && chmod 0600 {dest}")
    return f"/run/odoo-hipaa-test-pki/{os.path.basename(name)}"


def test_the_repository_host_holds_the_backups_and_runs_them(db, repo):
    stanza = json.loads(db.check_output(AS_POSTGRES + f"pgbackrest --stanza={STANZA} --output=json info"))[0]
    assert stanza["status"]["code"] == 0 and stanza["cipher"] == "aes-256-cbc", stanza
    assert [b for b in stanza["backup"] if b["type"] == "full"]
    # the backups and verify run on the repository host, one instance per stanza
    for timer in ("full", "diff", "verify"):
        assert repo.service(f"odoo-hipaa-pgbackrest-{timer}@{STANZA}.timer").is_enabled
        assert not db.file(f"/etc/systemd/system/odoo-hipaa-pgbackrest-{timer}.timer").exists
    assert repo.run(f"systemctl start odoo-hipaa-pgbackrest-verify@{STANZA}.service").rc == 0
    assert json.loads(repo.file(f"/var/lib/odoo-hipaa-pitr/{STANZA}/last-verify.json").content_string)["result"] == "ok"
    # both TLS servers listen only on their backup-network address, as their accounts
    for host, user in ((db, "postgres"), (repo, "pgbackrest")):
        assert host.service("odoo-hipaa-pgbackrest-server.service").is_running
        assert host.check_output("systemctl show -p User --value odoo-hipaa-pgbackrest-server.service") == user
        listen = host.check_output("ss -Htlnp 'sport = :8432'")
        assert "0.0.0.0:8432" not in listen and "*:8432" not in listen and ":8432" in listen, listen


def test_the_database_hosts_tls_server_cannot_write_the_data_directory(db):
    pid = db.check_output("systemctl show -p MainPID --value odoo-hipaa-pgbackrest-server.service")
    assert pid != "0"
    # inside the service's own mount namespace, as its user: the data directory is read-only
    r = db.run(f"nsenter -t {pid} -m -- {AS_POSTGRES} touch {PGDATA}/odoo-hipaa-probe")
    assert r.rc != 0 and "Read-only file system" in r.stderr, r
    assert not db.file(f"{PGDATA}/odoo-hipaa-probe").exists
    # while postgres itself, outside it, could (so the sandbox is what stops it)
    assert db.run(f"{AS_POSTGRES} test -w {PGDATA}").rc == 0


@pytest.mark.parametrize("case", ["genuine", "another stanza", "a certificate nobody authorised", "another CA"])
def test_the_repository_hosts_tls_server_serves_only_the_authorised_certificate_and_stanza(case, db):
    cert = {"genuine": "pitr-d12", "another stanza": "pitr-d12", "a certificate nobody authorised": "stranger",
            "another CA": "foreign/intruder"}[case]
    path = place(db, cert, "postgres")
    stanza = "billing" if case == "another stanza" else STANZA
    r = db.run(AS_POSTGRES + f"pgbackrest --stanza={stanza} --repo1-host-cert-file={path}.crt "
               f"--repo1-host-key-file={path}.key --log-level-console=warn --output=json info")
    print(f"{case}: rc {r.rc}: {(r.stderr or r.stdout).strip()[:300]}")
    # info answers (exit 0) with the repository's refusal in its status
    status = json.loads(r.stdout)[0]["status"] if r.rc == 0 else {"code": r.rc, "message": r.stderr}
    if case == "genuine":
        assert status["code"] == 0, status
    else:
        refusal = "unknown ca" if case == "another CA" else "access denied"
        assert status["code"] != 0 and refusal in r.stdout + r.stderr, r.stdout


@pytest.mark.parametrize("case", ["genuine", "a certificate nobody authorised", "another CA"])
def test_the_database_hosts_tls_server_serves_only_the_repository_host(case, repo):
    cert = {"genuine": "pitr-repo-d12", "a certificate nobody authorised": "stranger", "another CA": "foreign/intruder"}[case]
    path = place(repo, cert, "pgbackrest")
    r = repo.run(AS_PGBACKREST + f"pgbackrest --stanza={STANZA} --pg1-host-cert-file={path}.crt "
                 f"--pg1-host-key-file={path}.key --log-level-console=warn check")
    print(f"{case}: rc {r.rc}: {(r.stderr or r.stdout).strip()[:300]}")
    assert (r.rc == 0) == (case == "genuine"), r
    if case != "genuine":
        assert ("unknown ca" if case == "another CA" else "access denied") in r.stdout + r.stderr, r
