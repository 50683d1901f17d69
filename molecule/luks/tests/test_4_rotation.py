"""Keyfile rotation: afterwards exactly the new key (and the recovery
passphrase) opens the volume; the old key opens neither the volume nor the
refreshed header backup; the volume stayed mounted throughout."""

import pytest

from luks_helpers import PGDATA_DEV, VM, keyslots, opens, recovery, tang_servers  # noqa: F401 (fixtures)

testinfra_hosts = ["luks"]

KEYFILE = "/etc/luks-keys/pgdata.key"
BACKUP = "/var/backups/luks-headers/pgdata.luksheader"


@pytest.fixture(scope="module")
def rotated(host, role_runner, tang_servers):
    host.check_output(f"cp -p {KEYFILE} /root/old-pgdata.key")
    old_sum = host.check_output(f"sha256sum < {KEYFILE}")
    run = role_runner(VM, "luks", {"luks_keyfile_rotate": ["pgdata"], "luks_tang_servers": tang_servers})
    assert run.rc == 0, run.output[-3000:]
    assert run.changed(VM) > 0
    return old_sum


def test_only_the_new_key_opens(host, rotated, recovery):
    assert host.check_output(f"sha256sum < {KEYFILE}") != rotated
    assert opens(host, PGDATA_DEV, f"--key-file {KEYFILE}")
    assert not opens(host, PGDATA_DEV, "--key-file /root/old-pgdata.key")
    assert opens(host, PGDATA_DEV, "--key-file -", stdin=recovery)
    assert len(keyslots(host, PGDATA_DEV)) == 2  # the new key and the recovery passphrase
    assert not host.file(KEYFILE + ".new").exists
    f = host.file(KEYFILE)
    assert (f.user, f.mode, f.size) == ("root", 0o400, 512)


def test_header_backup_follows_the_rotation(host, rotated):
    assert opens(host, PGDATA_DEV, f"--key-file {KEYFILE}", header=BACKUP)
    assert not opens(host, PGDATA_DEV, "--key-file /root/old-pgdata.key", header=BACKUP)


def test_volume_stayed_mounted(host, rotated):
    assert host.check_output("findmnt --noheadings --output SOURCE /srv/postgresql") == "/dev/mapper/pgdata"
