"""Bad input is refused before any change, with a message that says what is
allowed; a device holding a filesystem is left byte-for-byte unchanged; check
mode reports and changes nothing.

Each case runs the role again on the VM with one bad input and checks: the
run fails, the message names the problem, the recap shows no change, and
crypttab, fstab, the LUKS header and the first 8 MiB of the foreign disk are
identical before and after."""

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


REFUSED = {
    "LUKS1": ({"luks_type": "luks1"}, "LUKS1 is refused"),
    "a weak cipher": ({"luks_cipher": "aes-cbc-essiv:sha256"}, "Refused LUKS format"),
    "an empty recovery passphrase": ({"luks_recovery_passphrase": ""}, "luks_recovery_passphrase is missing, empty"),
    "a device that does not exist": (one_volume(device="/dev/disk/by-id/virtio-no-such-disk"),
                                     "the device does not exist"),
    "a bare kernel device name": (one_volume(device="/dev/vdb"),
                                  "it is refused unless the volume sets allow_unstable_path: true"),
    "a world-readable keyfile": (one_volume(device=FOREIGN_DEV, keyfile="/root/exposed.key"),
                                 "keyfile /root/exposed.key has mode 0644"),
    "a device holding a filesystem": (one_volume(device=FOREIGN_DEV),
                                      "The role will not format it: set allow_format: true"),
}


@pytest.fixture(scope="module", autouse=True)
def exposed_keyfile(host):
    host.check_output("head -c 512 /dev/urandom > /root/exposed.key && chmod 0644 /root/exposed.key")
    yield
    host.run("rm -f /root/exposed.key")


@pytest.mark.parametrize("case", REFUSED)
def test_bad_input_is_refused_and_nothing_changes(assert_refused, case):
    extra_vars, message = REFUSED[case]
    assert_refused(VM, "luks", extra_vars, message, WATCHED_FILES, WATCHED_COMMANDS)


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
