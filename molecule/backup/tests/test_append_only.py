"""A client taken over by an attacker cannot erase its off-site backups
(§164.308(a)(7)(ii)(A)): bk-app-d12, as root with its own credentials, tries
restic's own forget/prune/key remove and raw REST requests against its
repository on bk-srv-d13 (rclone serve restic --append-only). Every attempt
fails and the server's files are byte-for-byte unchanged. None of this relies
on restic's exit status (restic 0.18 exits 0 after a refused delete): the
server's files are the judge."""

import json
import os
import shlex

import pytest

CLIENT, SERVER = "bk-app-d12", "bk-srv-d13"
ETC = "/etc/odoo-hipaa-backup"
REPO_DIR = "/srv/restic/restic-bk-app-d12/repo"
BASE = "https://bk-srv-d13:8101/restic-bk-app-d12/repo"
ZEROS = "0" * 64
# Everything but the lock files, which a client may remove (its own locks).
FINGERPRINT = (f"cd {REPO_DIR} && find . -type f -not -path './locks/*' -printf '%P %s\\n' | sort && "
               "find . -type f -not -path './locks/*' -print0 | sort -z | xargs -0 sha256sum")


def offsite_args(host):
    repo = json.loads(host.file(f"{ETC}/config.json").content_string)["repositories"][1]
    assert repo["type"] == "rest" and repo["append_only"] is True
    return " ".join(shlex.quote(a) for a in repo["args"])


def restic(host, args, timeout=150):
    return host.run(f"RESTIC_PASSWORD_FILE={ETC}/restic.pass RESTIC_CACHE_DIR=/var/cache/odoo-hipaa-backup "
                    f"timeout {timeout} restic {offsite_args(host)} {args}")


def credentials(host):
    """user:password from the root-only repository file, as an attacker with root reads it."""
    url = host.file(f"{ETC}/offsite.repository").content_string.strip()
    return url.split("//", 1)[1].split("@", 1)[0]


def curl(host, method, path, cert=f"{ETC}/offsite.client.pem", auth=None, data=False):
    auth = auth or credentials(host)
    body = "--data-binary @/etc/hostname" if data else ""
    cert_opt = f"--cert {cert}" if cert else ""
    r = host.run(f"curl -s --path-as-is -o /dev/null -w '%{{http_code}}' --max-time 30 --cacert {ETC}/offsite.ca.crt {cert_opt} "
                 f"-u {shlex.quote(auth)} -X {method} {body} {shlex.quote(BASE + path)}")
    return r.stdout.strip(), r.rc


@pytest.fixture(scope="module")
def client(lab_host):
    host = lab_host(CLIENT)
    if not json.loads(restic(host, "snapshots --json").stdout or "[]"):
        assert host.run("systemctl start odoo-hipaa-backup.service").rc == 0
    return host


@pytest.fixture(scope="module")
def server(lab_host):
    return lab_host(SERVER)


@pytest.fixture(scope="module")
def files_before(server, client):
    return server.check_output(FINGERPRINT)


@pytest.fixture(scope="module")
def attack(client, server, files_before):
    """The attacker's restic commands, run side by side (restic 0.14 retries a
    refused request for about a minute)."""
    snaps = json.loads(restic(client, "snapshots --json").stdout)
    keys = json.loads(restic(client, "key list --json").stdout)
    retention = [k["id"] for k in keys if k["userName"] == "odoo-hipaa-retention"]
    assert retention, "the backup host's retention key is missing from the repository"
    prefix = (f"RESTIC_PASSWORD_FILE={ETC}/restic.pass RESTIC_CACHE_DIR=/var/cache/odoo-hipaa-backup "
              f"timeout 150 restic {offsite_args(client)}")
    out = client.run(
        f"({prefix} forget --prune {snaps[0]['id']} >/tmp/ao-forget.log 2>&1; echo $? >/tmp/ao-forget.rc) & "
        f"({prefix} forget --keep-last 1 --group-by '' --prune >/tmp/ao-policy.log 2>&1; echo $? >/tmp/ao-policy.rc) & "
        f"({prefix} key remove {retention[0]} >/tmp/ao-key.log 2>&1; echo $? >/tmp/ao-key.rc) & wait; "
        "cat /tmp/ao-forget.log /tmp/ao-policy.log /tmp/ao-key.log")
    return {"snapshots": snaps, "retention_key": retention[0], "log": out.stdout + out.stderr}


def test_restic_forget_prune_and_key_remove_change_nothing(attack, server, files_before):
    assert server.check_output(FINGERPRINT) == files_before, attack["log"][-3000:]


@pytest.mark.parametrize("method, kind", [
    ("DELETE", "data"), ("DELETE", "snapshots"), ("DELETE", "index"), ("DELETE", "keys"), ("DELETE", "config"),
    ("POST", "snapshots"), ("POST", "index"), ("POST", "config"),
])
def test_raw_delete_or_overwrite_is_refused(method, kind, client, server, files_before, attack):
    if kind == "config":
        path = "/config"
    else:
        listing = server.check_output(f"find {REPO_DIR}/{kind} -type f -printf '%P\\n' | head -n 1")
        assert listing, f"nothing in {kind}/ to try"
        path = f"/{kind}/{listing}"
    code, _rc = curl(client, method, path, data=(method == "POST"))
    assert code == "403", f"{method} {path} answered {code}"
    assert server.check_output(FINGERPRINT) == files_before


def test_a_path_that_climbs_out_of_locks_is_refused(client, server, files_before):
    snap = server.check_output(f"ls {REPO_DIR}/snapshots | head -n 1")
    for path in (f"/snapshots/{snap}/locks/..", f"/locks/..%2fsnapshots%2f{snap}", f"/locks/%2e%2e/snapshots/{snap}"):
        code, _rc = curl(client, "DELETE", path)
        # sent as is (--path-as-is): redirected to the cleaned path, refused or not found; never deleted
        assert code in ("301", "400", "403", "404", "405"), f"DELETE {path} answered {code}"
    assert server.check_output(FINGERPRINT) == files_before


def test_deleting_a_snapshot_that_does_not_exist_answers_403_not_404(client):
    """What the evidence row offsite_append_only asks: a normal server says 404."""
    assert curl(client, "DELETE", f"/snapshots/{ZEROS}")[0] == "403"


def test_credentials_certificates_and_tenants(client):
    assert curl(client, "GET", "/config")[0] == "200"
    assert curl(client, "GET", "/config", auth="restic-bk-app-d12:wrong-password")[0] == "401"
    # another client's repository, with this client's credentials
    code, _rc = client.run(
        f"curl -s -o /dev/null -w '%{{http_code}}' --cacert {ETC}/offsite.ca.crt --cert {ETC}/offsite.client.pem "
        f"-u {shlex.quote(credentials(client))} https://bk-srv-d13:8101/restic-bk-app-d13/repo/config").stdout, 0
    assert code == "403"
    # no client certificate: the TLS handshake itself fails (no HTTP status at all)
    code, rc = curl(client, "GET", "/config", cert=None)
    assert code == "000" and rc != 0


def test_a_certificate_from_another_ca_is_refused(client):
    foreign = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", "foreign")
    pem = open(f"{foreign}/intruder.crt").read() + open(f"{foreign}/intruder.key").read()
    client.run(f"install -m 0600 /dev/null /tmp/intruder.pem && printf %s {shlex.quote(pem)} > /tmp/intruder.pem")
    try:
        code, rc = curl(client, "GET", "/config", cert="/tmp/intruder.pem")
        assert code == "000" and rc != 0
    finally:
        client.run("rm -f /tmp/intruder.pem")


def test_unlock_and_reading_still_work(client):
    """Appending stays possible: removing its own stale locks, reading its snapshots."""
    assert restic(client, "unlock").rc == 0
    assert restic(client, "snapshots --json").rc == 0


def test_refused_handshakes_and_passwords_reach_the_servers_journal(client, server):
    """For the log shipper (§164.312(b)): a wrong password and a missing
    client certificate are each logged by the service."""
    since = server.check_output("date '+%Y-%m-%d %H:%M:%S'")
    curl(client, "GET", "/config", auth="restic-bk-app-d12:wrong-password")
    curl(client, "GET", "/config", cert=None)
    log = server.check_output(f"journalctl -u odoo-hipaa-restic-rest@bk-app-d12.service --no-pager -q --since '{since}'")
    assert "Unauthorized request from restic-bk-app-d12" in log, log[-2000:]
    assert "TLS handshake error" in log, log[-2000:]
