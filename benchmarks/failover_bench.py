#!/usr/bin/env python3
"""Benchmark (not a test) of the rack's database failover (#18), on a converged
`ha` lab (`molecule converge -s ha`: three Debian 13 members under Patroni with
etcd, and a client host). The measurement runs with role patroni's default
timings (ttl 30, loop_wait 10, retry_timeout 10, set with patronictl
edit-config); the lab's shorter ones are put back at the end.

Each run starts the Molecule scenario's writer (molecule/ha/tests/writer.py)
on the client: it connects as Odoo does (libpq with every member listed,
target_session_attrs=read-write, verify-full, keepalives, tcp_user_timeout
10 s) and commits one row per transaction, recording every acknowledged
commit. 10 s in, the primary fails:

  sigkill    its postmaster is SIGKILLed (PostgreSQL crashes, Patroni lives);
  netcut     its container leaves the lab network (every packet lost) for
             NETCUT_S seconds, then comes back with its address.

Per run:  write_gap_s = the longest time between two acknowledged commits
          (what a user of Odoo waits), acknowledged_writes_lost = acknowledged
          rows missing afterwards (read on the new primary). The next run
          starts once all three members are healthy again (the old primary
          rejoined as a replica).

    benchmarks/failover_bench.py [RUNS]       (5 SIGKILLs and 3 network cuts)

Results: stdout and benchmarks/results/failover.json, with the keys
failover_median_s (the median write gap over the SIGKILL runs; goal <= 30 s)
and acknowledged_writes_lost (over every run; goal 0) beside the raw runs.

There is no baseline to divide by: the single-host layout does not fail over
(a crashed PostgreSQL restarts in place; a dead host stops Odoo until a
restore, the backup role's RTO). Two shared cores carry the three members, the
client and etcd: the gap is dominated by Patroni's timings (loop_wait, and for
a cut the ttl), not by CPU, so a rack with the same timings should see about
the same figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB = ["ha-db1-d13", "ha-db2-d13", "ha-db3-d13"]
CLIENT = "ha-client-d13"
NETWORK = "odoo-hipaa-ha"
CTL = ["patronictl", "-c", "/etc/patroni/17-main.yml"]
WRITER = ROOT / "molecule" / "ha" / "tests" / "writer.py"
RESULT = ROOT / "benchmarks" / "results" / "failover.json"
SCOPE = "ha-lab"
SECONDS = 75
NETCUT_S = 60
# role patroni's defaults (what a rack runs) for the measurement; the lab's put back after
PRODUCTION = {"ttl": 30, "loop_wait": 10, "retry_timeout": 10}
LAB = {"ttl": 20, "loop_wait": 5, "retry_timeout": 5}
ENV = dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf")))


def sh(*argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), env=ENV, check=check, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def ex(host: str, *argv: str, check: bool = True) -> str:
    return sh("podman", "exec", host, *argv, check=check).stdout.strip()


def members(avoid: str = "") -> list[dict]:
    for name in [n for n in DB if n != avoid]:
        out = sh("podman", "exec", name, *CTL, "list", "-f", "json", check=False, timeout=30)
        if out.returncode == 0:
            return json.loads(out.stdout)
    return []


def leader(avoid: str = "") -> str | None:
    found = [m["Member"] for m in members(avoid) if m["Role"] == "Leader"]
    return found[0] if len(found) == 1 else None


def healthy() -> bool:
    ms = members()
    roles = sorted(m["Role"] for m in ms)
    return (len(ms) == 3 and roles.count("Leader") == 1 and "Sync Standby" in roles
            and all(m["State"] in ("running", "streaming") for m in ms))


def wait(what: str, check, timeout: float = 300) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if check():
            return
        time.sleep(2)
    raise SystemExit(f"failover_bench: not within {timeout} s: {what}")


def psql_on_client(sql: str) -> str:
    dsn = ("host=ha-db1-d13,ha-db2-d13,ha-db3-d13 dbname=odoo user=odoo sslmode=verify-full"
           " sslrootcert=/root/pgclient/ca.crt sslcert=/root/pgclient/odoo-client.crt"
           " sslkey=/root/pgclient/odoo-client.key target_session_attrs=read-write connect_timeout=3")
    return ex(CLIENT, "env", "PGPASSWORD=lab-only-Odoo-db-passw0rd", "psql", "-XAtq", dsn, "-c", sql)


def one_run(mode: str, n: int) -> dict:
    wait("a healthy cluster", healthy)
    run = f"bench-{mode}-{n}-{int(time.time())}"
    old = leader()
    sh("podman", "exec", "-d", CLIENT, "sh", "-c",
       f"python3 /root/writer.py {run} {SECONDS} > /root/{run}.json 2>/root/{run}.err")
    time.sleep(10)
    if mode == "sigkill":
        pid = ex(old, "head", "-1", "/var/lib/postgresql/17/main/postmaster.pid")
        ex(old, "kill", "-9", pid)
    else:
        ip = ex(old, "hostname", "-I").split()[0]
        sh("podman", "network", "disconnect", NETWORK, old)
        time.sleep(NETCUT_S)
        sh("podman", "network", "connect", "--ip", ip, NETWORK, old)
    end = time.time() + SECONDS + 120
    while time.time() < end and not ex(CLIENT, "cat", f"/root/{run}.json", check=False):
        time.sleep(2)
    result = json.loads(ex(CLIENT, "cat", f"/root/{run}.json"))
    present = {int(x) for x in psql_on_client(f"SELECT seq FROM ha_probe WHERE run = '{run}'").split()}
    lost = sorted(set(result["acked"]) - present)
    wait("the old primary back as a replica", healthy)
    return {"mode": mode, "old_leader": old, "new_leader": leader(), "write_gap_s": result["max_gap_s"],
            "acknowledged": len(result["acked"]), "acknowledged_writes_lost": len(lost),
            "errors_seen_by_the_client": result["error_count"]}


def timings(values: dict) -> None:
    """Patroni's DCS timings for the whole cluster (patronictl edit-config)."""
    sets = [arg for key, value in values.items() for arg in ("-s", f"{key}={value}")]
    ex(DB[0], *CTL, "edit-config", SCOPE, *sets, "--force")
    time.sleep(15)   # one loop at the old timings, then the new ones hold


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    sh("podman", "cp", str(WRITER), f"{CLIENT}:/root/writer.py")
    results = []
    timings(PRODUCTION)
    try:
        for mode, count in (("sigkill", runs), ("netcut", max(runs - 2, 1))):
            for n in range(1, count + 1):
                r = one_run(mode, n)
                print(json.dumps(r), flush=True)
                results.append(r)
    finally:
        timings(LAB)
    kills = [r["write_gap_s"] for r in results if r["mode"] == "sigkill"]
    cuts = [r["write_gap_s"] for r in results if r["mode"] == "netcut"]
    summary = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lab": "3 Debian 13 members (Patroni 4.0.7, etcd 3.5, PostgreSQL 17) and a client on 2 shared cores",
        "patroni_timings": PRODUCTION,
        "failover_median_s": round(statistics.median(kills), 3),
        "failover_max_s": max(kills),
        "network_cut_median_s": round(statistics.median(cuts), 3),
        "network_cut_max_s": max(cuts),
        "acknowledged_writes_lost": sum(r["acknowledged_writes_lost"] for r in results),
        "acknowledged_writes": sum(r["acknowledged"] for r in results),
        "goal": {"failover_median_s": 30, "acknowledged_writes_lost": 0},
        "runs": results,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
