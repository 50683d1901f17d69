"""After a reboot, with no one at the console, the volumes are unlocked (the
database volume by its keyfile, the filestore through Tang) and mounted, and
the data written before is there."""

import pytest

from luks_helpers import reboot

testinfra_hosts = ["luks"]

PROOF = {"/srv/postgresql/proof": "pgdata", "/srv/odoo-filestore/proof": "filestore"}


@pytest.fixture(scope="module")
def written_then_rebooted(host):
    sums = {}
    for path in PROOF:
        host.check_output(f"head -c 1M /dev/urandom > {path} && sync")
        sums[path] = host.check_output(f"sha256sum {path}")
    reboot(host)
    return sums


def test_volumes_unlocked_at_boot(host, written_then_rebooted):
    for name in PROOF.values():
        unit = host.service(f"systemd-cryptsetup@{name}")
        assert unit.is_running, name
        # nobody answered a password prompt: nothing is waiting either
        assert host.run("ls /run/systemd/ask-password/ask.* 2>/dev/null").stdout == ""


def test_volumes_mounted_at_boot(host, written_then_rebooted):
    for path, name in PROOF.items():
        mountpoint = path.rsplit("/", 1)[0]
        assert host.check_output(f"findmnt --noheadings --output SOURCE {mountpoint}") == f"/dev/mapper/{name}"


def test_data_survives_the_reboot(host, written_then_rebooted):
    for path, digest in written_then_rebooted.items():
        assert host.check_output(f"sha256sum {path}") == digest

