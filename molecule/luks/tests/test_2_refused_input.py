"""Bad input is refused before any change, with a message that names the
variable and says what is allowed; a device holding a filesystem is left
byte-for-byte unchanged; check mode reports and changes nothing.

The table runs as one playbook on the VM (molecule/conftest.py,
refused_batch); for each case: refused with the message, no task reported a
change, and crypttab, fstab, the LUKS header and the first 8 MiB of the
foreign disk are identical before and after."""

import pytest

from luks_helpers import FOREIGN_DEV, PGDATA_DEV, VM

testinfra_hosts = ["luks"]

WATCHED_FILES = ["/etc/crypttab", "/etc/fstab", "/etc/luks-keys/pgdata.key"]
WATCHED_COMMANDS = [
    f"head -c 8M {FOREIGN_DEV} | sha256sum",
    f"head -c 16M {PGDATA_DEV} | sha256sum",
    "lsblk --noheadings --output NAME,TYPE,FSTYPE,MOUNTPOINT",
]


def one_volume(**volume):
    return {"luks_volumes": [{"name": "scratch", "mountpoint": "/srv/scratch", **volume}]}


# "what a careless sysadmin did": ({variable: value}, "expected message")
REFUSED = {
    # the format (§164.312(a)(2)(iv))
    "LUKS1": ({"luks_type": "luks1"}, "luks_type is 'luks1'; allowed: luks2 (LUKS1 is refused)"),
    "a weak cipher": ({"luks_cipher": "aes-cbc-essiv:sha256"}, "luks_cipher is 'aes-cbc-essiv:sha256'; allowed:"),
    "a 256-bit key": ({"luks_key_size": 256}, "luks_key_size is '256'; allowed: 512"),
    "pbkdf2 instead of argon2id": ({"luks_pbkdf": "pbkdf2"}, "luks_pbkdf is 'pbkdf2'; allowed: argon2id"),
    # the recovery passphrase (shown never; the rule always)
    "an empty recovery passphrase": ({"luks_recovery_passphrase": ""}, "luks_recovery_passphrase (not shown) is missing or empty"),
    "a short recovery passphrase": ({"luks_recovery_passphrase": "hospital1"}, "luks_recovery_passphrase (not shown) has 9 characters; at least 16 are required"),
    "a placeholder recovery passphrase": ({"luks_recovery_passphrase": "CHANGEME-recovery-passphrase"}, "luks_recovery_passphrase (not shown) looks like a placeholder"),
    "the previous passphrase again": ({"luks_recovery_passphrase_previous": "{{ luks_recovery_passphrase }}"}, "luks_recovery_passphrase equals luks_recovery_passphrase_previous"),
    # volumes
    "a device that does not exist": (one_volume(device="/dev/disk/by-id/virtio-no-such-disk"), "the device does not exist"),
    "a bare kernel device name": (one_volume(device="/dev/vdb"), "luks_volumes scratch: device '/dev/vdb' is not a stable path"),
    "a world-readable keyfile": (one_volume(device=FOREIGN_DEV, keyfile="/root/exposed.key"), "keyfile /root/exposed.key has mode 0644"),
    "a device holding a filesystem": (one_volume(device=FOREIGN_DEV), "The role will not format it: set allow_format: true"),
    "a mount point with a space": (one_volume(device=FOREIGN_DEV, mountpoint="/srv/pg data"), "luks_volumes scratch: mountpoint '/srv/pg data' contains whitespace"),
    "the root filesystem as a mount point": (one_volume(device=FOREIGN_DEV, mountpoint="/"), "luks_volumes scratch: mountpoint '/' is a system directory"),
    "/var as a mount point": (one_volume(device=FOREIGN_DEV, mountpoint="/var"), "mountpoint '/var' is a system directory"),
    "a relative mount point": (one_volume(device=FOREIGN_DEV, mountpoint="srv/scratch"), "mountpoint 'srv/scratch' is not an absolute path"),
    "a volume name with a dash and capitals": (one_volume(device=FOREIGN_DEV, name="PG-Data"), "luks_volumes name 'PG-Data': 1 to 32 of a-z, 0-9 and _"),
    "no unlock method": (one_volume(device=FOREIGN_DEV, unlock=[]), "luks_volumes scratch: unlock is []"),
    "Tang without Tang servers": (one_volume(device=FOREIGN_DEV, unlock=["tang"]), "and tang needs luks_tang_servers"),
    "a relative keyfile": (one_volume(device=FOREIGN_DEV, keyfile="keys/scratch.key"), "keyfile 'keys/scratch.key' is not an absolute path"),
    "two volumes on one device": ({"luks_volumes": [{"name": "a", "mountpoint": "/srv/a", "device": FOREIGN_DEV},
                                                    {"name": "b", "mountpoint": "/srv/b", "device": FOREIGN_DEV}]},
                                  "Every entry of luks_volumes needs its own name, device and mount point"),
    "keyfiles to rotate as a string": ({"luks_keyfile_rotate": "pgdata"}, "luks_keyfile_rotate must be a YAML list (e.g. [a, b]), got the string 'pgdata'"),
    "a volume without a device": ({"luks_volumes": [{"name": "scratch", "mountpoint": "/srv/scratch"}]}, "missing required arguments: device"),
}


@pytest.fixture(scope="module", autouse=True)
def exposed_keyfile(host):
    host.check_output("head -c 512 /dev/urandom > /root/exposed.key && chmod 0644 /root/exposed.key")
    yield
    host.run("rm -f /root/exposed.key")


@pytest.fixture(scope="module")
def refused(refused_batch, exposed_keyfile):
    return refused_batch("luks", REFUSED, [VM], WATCHED_FILES, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", REFUSED)
def test_bad_input_is_refused_and_nothing_changes(refused, case):
    refused.check(case)


def test_the_foreign_filesystem_is_intact(host):
    assert host.check_output(f"blkid -p -o value -s LABEL {FOREIGN_DEV}") == "precious"


def test_check_mode_reports_a_format_and_changes_nothing(host, role_runner, fingerprint):
    before = fingerprint(host, WATCHED_FILES, WATCHED_COMMANDS)
    run = role_runner(VM, "luks", one_volume(device=FOREIGN_DEV, allow_format=True), check=True)
    assert run.rc == 0, run.output[-3000:]
    text = " ".join(run.output.split())
    assert f"Would wipe ext4 and create a luks2 container (aes-xts-plain64, 512-bit key, argon2id) on {FOREIGN_DEV}" \
        in text, run.output[-3000:]
    assert fingerprint(host, WATCHED_FILES, WATCHED_COMMANDS) == before
    assert not host.file("/etc/luks-keys/scratch.key").exists
