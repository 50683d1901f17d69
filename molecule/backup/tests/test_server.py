"""The backup host's SFTP accounts (role backup_server, protocol sftp behind
its waiver), tried from a client with its own key: SFTP only, inside its own
chroot; no shell, no other client's repository. A REST client holds no SFTP
key at all."""

KEY = "/etc/odoo-hipaa-backup/offsite.key"
KNOWN = "/etc/odoo-hipaa-backup/known_hosts"
CLIENT, SERVER, OTHER = "bk-app-d13", "bk-srv-d12", "restic-bk-app-d12"


def ssh(host, *args):
    return host.run("ssh -i {} -o UserKnownHostsFile={} -o BatchMode=yes -o StrictHostKeyChecking=yes "
                    "restic-{}@{} {}".format(KEY, KNOWN, CLIENT, SERVER, " ".join(args)))


def sftp(host, commands):
    return host.run("printf '%s\\n' {} | sftp -b - -i {} -o UserKnownHostsFile={} -o BatchMode=yes "
                    "restic-{}@{}".format(" ".join(f"'{c}'" for c in commands), KEY, KNOWN, CLIENT, SERVER))


def test_a_client_gets_no_shell(lab_host):
    """The key runs no command: sshd forces internal-sftp whatever is asked."""
    r = ssh(lab_host(CLIENT), "id")
    assert "uid=" not in r.stdout, r.stdout


def test_a_client_sees_only_its_own_chroot(lab_host):
    r = sftp(lab_host(CLIENT), ["ls -1 /"])
    assert r.rc == 0, r.stderr
    entries = [line for line in r.stdout.splitlines() if not line.startswith("sftp>")]
    assert entries == ["/repo"], r.stdout
    assert sftp(lab_host(CLIENT), [f"ls /../{OTHER}"]).rc != 0
    assert sftp(lab_host(CLIENT), ["get /etc/shadow /tmp/shadow-probe"]).rc != 0


def test_a_client_cannot_replace_its_authorized_key(lab_host):
    r = sftp(lab_host(CLIENT), ["put /etc/hostname /.ssh/authorized_keys"])
    assert r.rc != 0, r.stdout


def test_a_rest_client_has_no_sftp_key_on_either_end(lab_host):
    """bk-app-d12 backs up through REST: no key on the client, none authorised
    on either backup host (a key could delete its off-site backups)."""
    assert not lab_host("bk-app-d12").file(KEY).exists
    for server in ("bk-srv-d12", "bk-srv-d13"):
        assert not lab_host(server).file("/etc/ssh/authorized_keys/restic-bk-app-d12").exists
