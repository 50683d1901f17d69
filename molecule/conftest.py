"""Shared helpers for the Molecule/testinfra suites of every role.

Loaded by pytest for every scenario under molecule/ (pytest.ini at the
repository root makes it the rootdir). Fixtures here drive the lab from the
outside: run a role again with other inputs, run a command on another lab
host, compare a host's state before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import testinfra


@dataclass
class PlaybookRun:
    rc: int
    output: str

    def changed(self, host: str) -> int:
        """The 'changed=' count of host in the PLAY RECAP."""
        m = re.search(rf"^{re.escape(host)}\s+:.*?changed=(\d+)", self.output, re.M)
        assert m, f"no PLAY RECAP line for {host}:\n{self.output[-3000:]}"
        return int(m.group(1))


def _inventory_dir() -> str:
    return str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)


def run_role(host: str, role: str, extra_vars: dict | None = None, check: bool = False) -> PlaybookRun:
    """Run onprem.odoo_hipaa.<role> on one lab host, with the scenario's
    inventory plus extra_vars (which win), and return rc and output."""
    play = [{
        "name": f"Apply {role} with test inputs",
        "hosts": host,
        "tasks": [{
            "name": f"Apply onprem.odoo_hipaa.{role}",
            "ansible.builtin.include_role": {"name": f"onprem.odoo_hipaa.{role}"},
        }],
    }]
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp, "play.yml")
        playbook.write_text(json.dumps(play))
        varsfile = Path(tmp, "vars.json")
        varsfile.write_text(json.dumps(extra_vars or {}))
        cmd = ["ansible-playbook", "-i", _inventory_dir(), str(playbook), "-e", f"@{varsfile}"]
        if check:
            cmd.append("--check")
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1")
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=900)
    return PlaybookRun(proc.returncode, proc.stdout)


@pytest.fixture(scope="session")
def role_runner():
    return run_role


def _podman_host(name: str):
    # Lab hosts are podman containers. testinfra's podman backend runs
    # `podman exec` directly, about twenty times faster than a command sent
    # through Ansible, with the same result.
    return testinfra.get_host(f"podman://{name}")


def _is_podman_host(testinfra_host) -> bool:
    backend = testinfra_host.backend
    if backend.NAME != "ansible":
        return False
    connection = backend.get_variables().get("ansible_connection", "ssh")
    return connection in ("podman", "containers.podman.podman")


def _lab_host(name: str):
    """testinfra host for a lab host of the scenario's inventory: podman exec
    for a container, testinfra's own backend (ssh) for anything else."""
    if "MOLECULE_INVENTORY_FILE" in os.environ:
        candidate = testinfra.get_host(f"ansible://{name}", ansible_inventory=_inventory_dir())
        if not _is_podman_host(candidate):
            return candidate
    return _podman_host(name)


@pytest.fixture(scope="module")
def host(_testinfra_host):
    """The host under test (selected from the Molecule inventory by testinfra,
    e.g. testinfra_hosts = ["postgresql_tls"]). Lab containers are reached
    with podman exec; other hosts (the lab VMs of molecule/luks) with
    testinfra's own backend, which for an SSH host runs plain ssh commands
    with the address, port, user and key of the Molecule inventory."""
    if _is_podman_host(_testinfra_host):
        return _podman_host(_testinfra_host.backend.host)
    return _testinfra_host


@pytest.fixture(scope="session")
def lab_host():
    """testinfra host for any lab host by name: lab_host('pg-tls-d12')."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = _lab_host(name)
        return cache[name]

    return get


def fingerprint(host, paths: list[str], commands: list[str] = ()) -> dict[str, str]:
    """A comparable snapshot of files (sha256, or 'absent') and command outputs."""
    snap = {}
    for p in paths:
        f = host.file(p)
        snap[p] = hashlib.sha256(f.content).hexdigest() if f.exists else "absent"
    for c in commands:
        snap[c] = host.check_output(c)
    return snap


@pytest.fixture(name="fingerprint", scope="session")
def fingerprint_fixture():
    return fingerprint


@pytest.fixture(scope="session")
def assert_refused():
    """assert_refused(host, role, extra_vars, message, files, commands=()):
    the role, run again on host with one bad input, fails with message,
    reports no change, and leaves files and command outputs identical."""

    def check(host_name: str, role: str, extra_vars: dict, message: str,
              files: list[str], commands: list[str] = ()) -> None:
        host = _lab_host(host_name)
        before = fingerprint(host, files, commands)
        run = run_role(host_name, role, extra_vars)
        assert run.rc != 0, run.output[-3000:]
        assert message in " ".join(run.output.split()), run.output[-3000:]
        assert run.changed(host_name) == 0
        assert fingerprint(host, files, commands) == before

    return check
