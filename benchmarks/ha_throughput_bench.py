#!/usr/bin/env python3
"""Benchmark (not a test) of the rack's Odoo tier (#18), on a converged `ha`
lab (`molecule converge -s ha`: three Debian 13 members under Patroni, two
Debian 12 Odoo nodes, each node's nginx an entry over both nodes' backend
listeners). Two ratios, each measured side by side on the same lab:

  nodes   requests/s through ha-app1-d12's entry with both Odoo nodes serving,
          vs with ha-app2-d12's Odoo stopped (the entry then sends everything
          to ha-app1-d12: the one-node case, with the same TLS hops);
  sync    partners created per second through Odoo with the cluster's
          synchronous replication on (role patroni's default: each commit
          waits for the sync standby's flush), vs off (asynchronous).

Each phase runs CLIENTS logged-in users (password + TOTP, the ha tests' writer
user) for SECONDS seconds; a read is one JSON-RPC search_read of 20 partners,
a write one create. Errors are counted, never hidden.

    benchmarks/ha_throughput_bench.py [SECONDS] [CLIENTS]

Results: stdout and benchmarks/results/ha_throughput.json.

What two shared cores can show: both Odoo nodes, the three members, etcd and
the client share 2 CPUs, so a second node adds no CPU: the nodes ratio shows
the cost of balancing (a second TLS hop, session_db's reads) rather than
scaling. On a rack each node brings its own cores: requests/s grow almost
linearly with the nodes until PostgreSQL's primary saturates. Likewise the
sync standby's fsync shares this machine's disk and cores with the primary,
so the sync ratio overstates the cost; a rack pays one LAN round trip plus
the standby's flush per commit.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "molecule" / "odoo" / "tests"))
sys.path.insert(0, str(ROOT / "molecule" / "ha" / "tests"))
sys.path.insert(0, str(ROOT / "molecule"))   # lab_evidence, which the ha tests import
from odoo_client import OdooClient, totp  # noqa: E402
from odoo_shell import command as odoo_shell_command  # noqa: E402
from test_odoo import CLUSTER_ENV, LOGIN, PASSWORD, SETUP, TOTP_SECRET  # noqa: E402

APPS = ["ha-app1-d12", "ha-app2-d12"]
DB = ["ha-db1-d13", "ha-db2-d13", "ha-db3-d13"]
CTL = ["patronictl", "-c", "/etc/patroni/17-main.yml"]
RESULT = ROOT / "benchmarks" / "results" / "ha_throughput.json"
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 4


def sh(host: str, command: str, check: bool = True) -> str:
    run = subprocess.run(["podman", "exec", host, "bash", "-c", command], capture_output=True, text=True)
    if check and run.returncode != 0:
        raise SystemExit(f"{host}: {command}: {run.stderr.strip()[-500:]}")
    return run.stdout.strip()


def address(host: str) -> str:
    return sh(host, "hostname -I").split()[0]


def ca_file() -> str:
    found = sorted(Path("/root/.ansible/tmp").glob("molecule.*.ha/pki/ca.crt"))
    if not found:
        raise SystemExit("no converged ha lab (molecule converge -s ha)")
    return str(found[-1])


def setup_user() -> None:
    script = SETUP.replace("__SPEC__", repr(json.dumps({"login": LOGIN, "password": PASSWORD, "totp": TOTP_SECRET})))
    encoded = base64.b64encode(script.encode()).decode()
    sh(APPS[0], f"echo {encoded} | base64 -d > /tmp/bench-setup.py && cd /var/lib/odoo && {odoo_shell_command(CLUSTER_ENV)} < /tmp/bench-setup.py"
                " >/dev/null; rc=$?; rm -f /tmp/bench-setup.py; exit $rc")


def login(entry: str, ca: str) -> OdooClient:
    for _ in range(3):
        client = OdooClient(address(entry), entry, ca, timeout=30, throttle_wait=60)
        if client.login("odoo", LOGIN, PASSWORD).mfa_required and client.submit_totp(totp(TOTP_SECRET)).logged_in:
            return client
        time.sleep(30 - time.time() % 30 + 1)   # a code refused at a 30-s boundary
    raise SystemExit("cannot log in the bench user")


def phase(clients: list[OdooClient], kind: str) -> dict:
    done, errors = [0] * len(clients), [0] * len(clients)
    stop = time.time() + SECONDS

    def work(i: int, client: OdooClient) -> None:
        n = 0
        while time.time() < stop:
            n += 1
            if kind == "read":
                answer = client.call_kw("res.partner", "search_read", [[]], {"fields": ["name"], "limit": 20})
            else:
                answer = client.call_kw("res.partner", "create", [{"name": f"bench-{i}-{n}-{time.time()}"}])
            if "result" in answer:
                done[i] += 1
            else:
                errors[i] += 1

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    return {"requests": sum(done), "errors": sum(errors), "seconds": round(elapsed, 1),
            "per_s": round(sum(done) / elapsed, 1)}


def sync_mode(on: bool) -> None:
    """The cluster's synchronous_mode (patronictl edit-config), then one loop."""
    sh(DB[0], " ".join(CTL) + f" edit-config ha-lab -s synchronous_mode={'true' if on else 'false'} --force >/dev/null")
    time.sleep(10)


def main() -> None:
    ca = ca_file()
    setup_user()
    clients = [login(APPS[0], ca) for _ in range(CLIENTS)]
    out: dict = {"date": dt.date.today().isoformat(), "seconds_per_phase": SECONDS, "clients": CLIENTS,
                 "machine": "2 shared cores: both Odoo nodes, three members, etcd and the client"}

    out["reads_two_nodes"] = phase(clients, "read")
    sh(APPS[1], "systemctl stop odoo.service")
    try:
        time.sleep(3)
        out["reads_one_node"] = phase(clients, "read")
    finally:
        sh(APPS[1], "systemctl start odoo.service nginx.service")
    time.sleep(10)

    out["writes_sync"] = phase(clients, "write")
    sync_mode(False)
    try:
        out["writes_async"] = phase(clients, "write")
    finally:
        sync_mode(True)

    out["ratio_two_nodes_vs_one"] = round(out["reads_two_nodes"]["per_s"] / max(out["reads_one_node"]["per_s"], 0.1), 2)
    out["ratio_sync_vs_async"] = round(out["writes_sync"]["per_s"] / max(out["writes_async"]["per_s"], 0.1), 2)
    RESULT.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
