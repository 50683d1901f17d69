"""A rolling update of the Odoo nodes (#18, playbooks/ha_rolling_update.yml), from outside.

The playbook takes each node in turn out of every entry's rotation, applies
role odoo to it and restarts its Odoo, and takes it back once it answers
through its backend listener. Two users, one on each entry, write through the
whole run: no request may fail and both sessions go on.

Code that would change the shared database's modules is refused: here the
database says one module has another version than the code. The playbook
stops at the first node, which stays out of rotation while the other serves;
once the database and the code agree again, a second run takes it back."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from test_cluster import record
from test_nodes import APPS, Nodes, logged_in_on, nodes  # noqa: F401  (the fixture)

MODULE = "odoo_hipaa_session_policy"
SITE_CONF = "/etc/nginx/conf.d/odoo-hipaa.conf"


def rolling_update(log=None) -> subprocess.Popen | subprocess.CompletedProcess:
    """playbooks/ha_rolling_update.yml against the lab, as an operator runs it:
    to the end, or, given a file for its output, in the background (a pipe
    nobody reads while the test writes would fill up and stop the playbook)."""
    root = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."))
    argv = ["ansible-playbook", "-i", str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
            str(root / "playbooks" / "ha_rolling_update.yml")]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    if log is None:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900, env=env)
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)


def drained(nodes: Nodes) -> dict[str, list[str]]:
    """Per entry, the nodes its site configuration marks `down`."""
    found = {}
    for entry in APPS:
        lines = nodes.lab_host(entry).check_output(f"grep -h ' down;' {SITE_CONF} || true").splitlines()
        found[entry] = sorted({line.rsplit("#", 1)[-1].split()[0] for line in lines})
    return found


def invocation(nodes: Nodes, name: str) -> str:
    return nodes.lab_host(name).check_output("systemctl show -p InvocationID --value odoo.service")


def write_once(client) -> bool:
    try:
        return "result" in client.call_kw("res.partner", "create", [{"name": f"ha-rolling-{time.time():.3f}"}])
    except OSError:
        return False


def module_version(nodes: Nodes, version: str | None = None) -> str:
    if version is not None:
        nodes.sql("odoo", f"UPDATE ir_module_module SET latest_version = '{version}' WHERE name = '{MODULE}'")
    return nodes.sql("odoo", f"SELECT latest_version FROM ir_module_module WHERE name = '{MODULE}'")


def test_code_that_changes_the_database_s_modules_is_refused(nodes):
    """The first node is drained and updated, then refused: it stays out of
    rotation on both entries, and the other node serves every request."""
    real = module_version(nodes)
    module_version(nodes, "18.0.0.9")
    try:
        refused = rolling_update()
        kept_out = drained(nodes)
        client = logged_in_on(nodes, APPS[0], APPS[0])
        results = [write_once(client) for _ in range(10)]
    finally:
        module_version(nodes, real)
    assert refused.returncode != 0, refused.stdout[-3000:]
    assert f"{MODULE} is 18.0.0.9 in the database and {real} in this node's code" in refused.stdout, \
        refused.stdout[-3000:]
    assert kept_out == {entry: [APPS[0]] for entry in APPS}, kept_out
    assert results.count(False) == 0, f"{results.count(False)} of {len(results)} calls failed"


def test_a_rolling_update_costs_no_request(nodes):
    """Both nodes restart in turn while two users write, one through each
    entry: no request fails, both sessions survive, and both nodes end in
    rotation (the node the refused run left out is taken back)."""
    clients = [logged_in_on(nodes, name, name) for name in APPS]
    uids = [client.uid() for client in clients]
    before = {name: invocation(nodes, name) for name in APPS}
    results, started = [], time.monotonic()
    with tempfile.TemporaryFile("w+") as log:
        run = rolling_update(log)
        try:
            while run.poll() is None:
                results.extend(write_once(client) for client in clients)
                time.sleep(0.2)
                assert time.monotonic() - started < 900, "the rolling update hangs"
        finally:
            if run.poll() is None:
                run.kill()
        log.seek(0)
        output = log.read()
    record("rolling_update", {"seconds": round(time.monotonic() - started), "calls": len(results),
                              "failed": results.count(False)})
    assert run.returncode == 0, output[-3000:]
    assert all(invocation(nodes, name) != before[name] for name in APPS), "a node's Odoo was not restarted"
    assert drained(nodes) == {entry: [] for entry in APPS}
    assert [client.uid() for client in clients] == uids, "a session did not survive the update"
    assert len(results) > 0 and results.count(False) == 0, f"{results.count(False)} of {len(results)} calls failed"
