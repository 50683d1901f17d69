"""Helpers of the luks scenario tests (a QEMU VM reached over SSH)."""

import os
import re
import shlex
import subprocess
import time

import pytest

PGDATA_DEV = "/dev/disk/by-id/virtio-odoo-hipaa-data1"
FOREIGN_DEV = "/dev/disk/by-id/virtio-odoo-hipaa-data2"
FILESTORE_DEV = "/dev/disk/by-id/virtio-odoo-hipaa-data3"
VM = "luks-vm-d12"


def keyslots(host, device):
    """Keyslot numbers of a LUKS2 header, from luksDump."""
    dump = host.check_output(f"cryptsetup luksDump {device}")
    section = dump.split("Keyslots:", 1)[1].split("Tokens:", 1)[0]
    return sorted(int(n) for n in re.findall(r"^  (\d+): luks2$", section, re.M))


def opens(host, device, key_args, stdin=None, header=None):
    """Whether cryptsetup accepts the key (tests only, opens nothing)."""
    cmd = f"cryptsetup open --test-passphrase {key_args} {device}"
    if header:
        cmd += f" --header {header}"
    if stdin is not None:
        cmd = f"printf %s {shlex.quote(stdin)} | {cmd}"
    return host.run(cmd).rc == 0


@pytest.fixture(scope="module")
def recovery(host):
    return host.ansible.get_variables()["luks_recovery_passphrase"]


@pytest.fixture(scope="module")
def tang_servers(host):
    """The VM's own Tang server, as converge.yml points the role at it."""
    return [{"url": "http://127.0.0.1", "thumbprint": host.check_output("tang-show-keys 80").strip()}]


def reboot(host, timeout=900):
    """Reboot the VM from inside and wait until it answers SSH again (up to
    900 s, as for its first boot: molecule/luks/create.yml)."""
    vm_dir = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "vm", VM)
    vm_sh = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "lab", "vm.sh")
    boot_id = host.check_output("cat /proc/sys/kernel/random/boot_id")
    host.run("systemd-run --on-active=2 systemctl reboot")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(5)
        subprocess.run([vm_sh, "wait", vm_dir, str(int(deadline - time.monotonic()) + 1)], check=True)
        try:
            new = host.run("cat /proc/sys/kernel/random/boot_id")
        except RuntimeError:   # ssh itself failed (255): the port answered before sshd could serve
            continue
        if new.rc == 0 and new.stdout.strip() != boot_id:
            # SSH answers before the boot has finished: under emulation on a
            # busy machine the Tang unlock of a non-root volume may still be
            # running. Wait (bounded) until systemd's start-up jobs are done,
            # so the tests see the boot's outcome, not a moment in it. A
            # prompt nobody answers keeps its job waiting: the tests catch it.
            host.run("timeout 300 systemctl is-system-running --wait")
            return
    raise AssertionError(f"{VM} did not come back within {timeout}s")
