"""Shared helpers for the Molecule/testinfra suites of every role.

Loaded by pytest for every scenario under molecule/ (pytest.ini at the
repository root makes it the rootdir). Fixtures here drive the lab from the
outside: run a role again with other inputs, run a command on another lab
host, compare a host's state before and after.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import testinfra
import testinfra.host
from testinfra.backend.podman import PodmanBackend

# The collection's limits (plugins/module_utils/hipaa_limits.py), the same the
# roles validate against and the evidence report judges by.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collections"))
# Helpers the scenarios' tests share (lab_evidence.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS  # noqa: E402


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


def run_role(host: str, role: str, extra_vars: dict | None = None, check: bool = False,
             tasks_from: str = "main") -> PlaybookRun:
    """Run onprem.odoo_hipaa.<role> (its entry point tasks_from) on one lab
    host, with the scenario's inventory plus extra_vars (which win), and
    return rc and output."""
    play = [{
        "name": f"Apply {role} with test inputs",
        "hosts": host,
        "tasks": [{
            "name": f"Apply onprem.odoo_hipaa.{role}",
            "ansible.builtin.include_role": {"name": f"onprem.odoo_hipaa.{role}", "tasks_from": tasks_from},
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


# The lab's connection plugin enters a container with nsenter where it can
# (see there); testinfra's commands take the same way.
_plugin_spec = importlib.util.spec_from_file_location(
    "odoo_hipaa_lab_podman", Path(__file__).resolve().parents[1] / "lab" / "connection_plugins" / "podman.py")
_lab_podman = importlib.util.module_from_spec(_plugin_spec)
_plugin_spec.loader.exec_module(_lab_podman)


class _LabPodmanBackend(PodmanBackend):
    """testinfra's podman backend, through nsenter when the plugin can use it."""

    def run(self, command, *args, **kwargs):
        pid = None if self.user is not None else _lab_podman.container_pid(self.name)
        if pid is None:
            return super().run(command, *args, **kwargs)
        cmd = self.get_command(command, *args)
        enter = _lab_podman.nsenter_argv(pid)
        out = self.run_local(" ".join(["%s"] * len(enter)) + " /bin/sh -c %s", *enter, cmd)
        out.command = self.encode(cmd)
        return out


def _podman_host(name: str):
    # Lab hosts are podman containers. A command is run in the container
    # directly (nsenter, else `podman exec`), far faster than one sent
    # through Ansible, with the same result.
    return testinfra.host.Host(_LabPodmanBackend(name))


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


# --- tables of bad inputs, run as one playbook -----------------------------
#
# A table lists one bad input per line:
#     "what a careless sysadmin did": ({"variable": value, ...}, "expected message"),
# optionally with the hosts it applies to as a third element (default: every
# host the table is run on, i.e. both Debian releases).
#
# All cases of a table run in ONE ansible-playbook run: a play per case,
# the case's inputs as play vars (which win over the scenario's inventory),
# the role inside block/rescue, so a refusal is recorded and the next case
# runs. Around every case a snapshot (sha256 of the watched files, output of
# the watched commands) is taken by the same run, so a case that changed
# anything is named, not just "something changed". Far cheaper than a run
# per case (start-up, facts, connection once), so the tables can be long.

ABSENT = "__odoo_hipaa_test_absent__"   # a case's value for "leave this input out"


def _leaves(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaves(v)]
    return [str(value)]


def _messages(value) -> list[str]:
    """The msg strings of a failed result (a loop's items included): what the
    user reads, without the failed condition's text."""
    if isinstance(value, dict):
        return [str(v) for k, v in value.items() if k == "msg" and not isinstance(v, (dict, list))] + [
            m for k, v in value.items() for m in _messages(v) if isinstance(v, (dict, list))]
    if isinstance(value, list):
        return [m for v in value for m in _messages(v)]
    return []


def _normal(text: str) -> str:
    return " ".join(text.split())


@dataclass
class CaseOutcome:
    host: str
    refused: bool = False
    failed_task: str = ""
    failure: str = ""               # every string of the failed result, whitespace-normalised
    message: str = ""               # its msg strings only (what the user reads)
    changed_tasks: list = field(default_factory=list)
    before: str | None = None       # the host's snapshot before and after the case
    after: str | None = None


@dataclass
class RefusedBatch:
    role: str
    cases: dict
    outcomes: dict                  # case name -> {host: CaseOutcome}
    output: str

    def check(self, case: str) -> None:
        """The case was refused on each of its hosts, with its message, and
        nothing changed there (no changed task, identical snapshot)."""
        message = _normal(self.cases[case][1])
        per_host = self.outcomes.get(case, {})
        assert per_host, f"case {case!r} never ran (a host failed for good earlier?):\n{self.output[-3000:]}"
        for host, out in sorted(per_host.items()):
            where = f"{self.role} on {host}, case {case!r}"
            assert out.refused, f"{where}: the bad input was ACCEPTED (the role ran to its end)"
            assert message in out.failure, (
                f"{where}: refused by task {out.failed_task!r}, but without the expected message\n"
                f"  expected: {message}\n  got:      {out.failure[:2000]}")
            names = [v for v in self.cases[case][0]]
            assert any(v in out.message for v in names), (
                f"{where}: the message does not name the variable ({', '.join(names)}): {out.message[:500]}")
            assert not out.changed_tasks, f"{where}: changed the host before refusing: {out.changed_tasks}"
            assert out.before is not None and out.after is not None, f"{where}: no snapshot around the case"
            assert out.after == out.before, f"{where}: watched files/commands differ after the case:\n" + "\n".join(
                line for line in _diff(out.before, out.after))


def _diff(a: str, b: str) -> list[str]:
    import difflib
    return list(difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", lineterm="", n=0))[:60]


# Watched on every host of every table, besides the table's own files and
# commands: the installed packages, and the unit files, drop-ins and
# enablement links under /etc/systemd/system (a case must not install or
# enable anything before it is refused). Read from the file system, not over
# D-Bus: systemctl's answers time out on a loaded machine.
EVERY_HOST = [
    # dpkg rewrites its status file on every install, removal or configuration
    # (one file read: cheaper than dpkg-query, which matters on the TCG VM)
    "sha256sum /var/lib/dpkg/status",
    "find /etc/systemd/system -printf '%p %m %s\\n' | sort | sha256sum",
]


def _snapshot_script(files: list[str], commands: list[str]) -> str:
    lines = []
    for f in files:
        q = shlex.quote(f)
        lines.append(f"if [ -e {q} ]; then sha256sum {q}; else echo absent {q}; fi")
    for c in commands:
        lines.append(f"printf '## %s\\n' {shlex.quote(c)}; ( {c} ) 2>&1; echo \"rc=$?\"")
    return "\n".join(lines)


def run_refused_batch(role: str, cases: dict, hosts: list[str], files: list[str],
                      commands: list[str] = (), common_vars: dict | None = None,
                      tasks_from: str = "main") -> RefusedBatch:
    """Run every case of the table `cases` (see above) against `hosts` in one
    playbook, through the role's entry point tasks_from; common_vars go into
    every case (a case's own inputs win)."""
    snapshot = {
        "name": "Snapshot the watched files and commands",
        "ansible.builtin.shell": {"cmd": _snapshot_script(files, list(commands) + EVERY_HOST), "executable": "/bin/bash"},
        "register": "odoo_hipaa_test_snapshot",
        "changed_when": False,
        "check_mode": False,
    }
    plays = [{"name": "baseline", "hosts": ",".join(hosts), "gather_facts": True, "tasks": [snapshot]}]
    names = list(cases)
    for i, name in enumerate(names):
        spec = cases[name]
        case_hosts = spec[2] if len(spec) > 2 else hosts
        plays.append({
            "name": f"case {i}",
            "hosts": ",".join(case_hosts),
            "gather_facts": False,
            # a case leaves an input out with the value ABSENT
            "vars": {k: v for k, v in dict(common_vars or {}, **spec[0]).items() if v != ABSENT},
            "tasks": [
                {"name": "Run the role with the bad input",
                 "block": [
                     {"name": f"Apply onprem.odoo_hipaa.{role}",
                      "ansible.builtin.include_role": {"name": f"onprem.odoo_hipaa.{role}", "tasks_from": tasks_from}},
                     {"name": "ODOO_HIPAA_ACCEPTED", "ansible.builtin.debug": {"msg": "accepted"}},
                 ],
                 "rescue": [
                     {"name": "ODOO_HIPAA_REFUSED",
                      "ansible.builtin.debug": {"msg": {
                          "task": "{{ ansible_failed_task.name | default('') }}",
                          "result": "{{ ansible_failed_result | default({}) }}"}}},
                 ]},
                snapshot,
            ],
        })
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp, "refused.yml")
        playbook.write_text(json.dumps(plays))
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1")
        proc = subprocess.run(["ansible-playbook", "-i", _inventory_dir(), str(playbook)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60 * (5 + len(names)))
    output = proc.stdout + proc.stderr
    try:  # the JSON document starts on a line of its own; other callbacks may print around it
        start = re.search(r"^\{$", proc.stdout, re.M)
        report, _ = json.JSONDecoder().raw_decode(proc.stdout[start.start():] if start else "")
    except ValueError as exc:
        raise AssertionError(f"no JSON from the batch run ({exc}):\n{output[-3000:]}") from exc

    # A task may come as one entry per host (under Mitogen, lab/strategy_plugins):
    # read every entry of a task, not the first or the last.
    last: dict = {}
    for task in report["plays"][0]["tasks"]:
        if task["task"]["name"] == snapshot["name"]:
            for host, res in task["hosts"].items():
                last[host] = res.get("stdout")
    outcomes: dict = {}
    for name, play in zip(names, report["plays"][1:]):
        per_host: dict = {}
        for task in play["tasks"]:
            tname = task["task"]["name"]
            for host, res in task["hosts"].items():
                out = per_host.setdefault(host, CaseOutcome(host=host, before=last.get(host)))
                if tname == "ODOO_HIPAA_REFUSED":
                    out.refused = True
                    msg = res.get("msg") or {}
                    out.failed_task = msg.get("task", "") if isinstance(msg, dict) else ""
                    result = msg.get("result", msg) if isinstance(msg, dict) else msg
                    out.failure = _normal(" ".join(_leaves(result)))
                    out.message = _normal(" ".join(_messages(result)))
                elif tname == "Snapshot the watched files and commands":
                    out.after = res.get("stdout")
                    last[host] = out.after
                elif res.get("changed") and not out.refused:
                    out.changed_tasks.append(tname)
        outcomes[name] = per_host
    return RefusedBatch(role=role, cases=cases, outcomes=outcomes, output=output)


@pytest.fixture(scope="session")
def refused_batch():
    """refused_batch(role, cases, hosts, files, commands=(), common_vars=None, tasks_from="main")
    -> RefusedBatch; call .check(case) in a test parametrized over the table."""
    return run_refused_batch


# --- secrets on command lines -------------------------------------------------

def secret_never_in_argv(host, unit: str, secret: str, program: str, timeout: int = 300) -> None:
    """Start `unit` on `host` and sample every process's argv until it ends:
    the secret must never appear, `program` must have been seen running at
    least once (else the scan proved nothing), and the unit must succeed."""
    host.check_output(f"systemctl start --no-block {unit}")
    seen = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        argv = host.run("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done").stdout
        assert secret not in argv, f"a process argument holds the secret while {unit} runs"
        seen = seen or program in argv
        if host.run(f"systemctl is-active {unit}").stdout.strip() not in ("active", "activating"):
            break
        time.sleep(0.1)
    assert seen, f"the scan never saw {program} running"
    assert host.run(f"systemctl show -p Result --value {unit}").stdout.strip() == "success"


@pytest.fixture(name="secret_never_in_argv", scope="session")
def secret_never_in_argv_fixture():
    return secret_never_in_argv


# --- the journal -----------------------------------------------------------

def journal_since(host, since: str, wait_for=(), timeout: int = 60) -> str:
    """The host's journal since `since` ("YYYY-MM-DD HH:MM:SS"), read again
    until every string of wait_for is in it or `timeout` s have passed. A
    unit's OnFailure= alert is started after `systemctl start` has already
    returned: reading the journal once at that moment races with it."""
    deadline = time.time() + timeout
    while True:
        log = host.check_output(f"journalctl --no-pager -q --since '{since}'")
        if all(text in log for text in wait_for) or time.time() > deadline:
            return log
        time.sleep(1)


@pytest.fixture(name="journal_since", scope="session")
def journal_since_fixture():
    return journal_since


# --- sandboxes ---------------------------------------------------------------

def sandbox_exposure(host, unit: str) -> tuple[float, float]:
    """(systemd-analyze security exposure of unit on host, the collection's
    limit for it); postgresql@<cluster>.service uses the postgresql@ limit."""
    out = host.check_output(f"systemd-analyze security --no-pager {unit}")
    figure = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out).group(1))
    key = unit if unit in LIMITS["sandbox_exposure_max"] else unit.split("@")[0] + "@"
    return figure, LIMITS["sandbox_exposure_max"][key]


@pytest.fixture(name="sandbox_exposure", scope="session")
def sandbox_exposure_fixture():
    return sandbox_exposure
