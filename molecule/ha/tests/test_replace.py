"""Replacing a dead database node (#18, playbooks/ha_replace_db_node.yml), from outside.

A replica's machine is lost and a new one takes its name, address and
certificates: here its services stop, the etcd and Patroni packages are
purged and their configuration and data, and PostgreSQL's data directory,
are deleted (PostgreSQL's package stays installed). A client writes through
libpq all along.

- refused before any change: replacing the leader, and replacing a member
  whose machine still holds its data (the playbook never deletes anything);
- the replacement: etcd lists three started, healthy members, the new one
  under a new ID; Patroni builds the new machine as a streaming replica from
  the leader; it holds the rows written meanwhile, and no acknowledged write
  is lost."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from test_cluster import (DB, PSQL, _lost, _writer, _writer_result, cluster, healthy, leader,  # noqa: F401
                          members, record, wait_for)

ROOT_PASSWORD = "lab-only-etcd-root-passw0rd"   # molecule.yml
WIPE = ("systemctl stop patroni@17-main.service etcd.service"
        " && DEBIAN_FRONTEND=noninteractive apt-get purge -y -q patroni etcd-server etcd-client >/dev/null"
        " && rm -rf /var/lib/etcd /etc/etcd /etc/default/etcd /etc/patroni /var/lib/postgresql/17/main")


def replace(member: str) -> subprocess.CompletedProcess:
    """playbooks/ha_replace_db_node.yml against the lab, as an operator runs it."""
    root = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."))
    return subprocess.run(["ansible-playbook", "-i", str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
                           str(root / "playbooks" / "ha_replace_db_node.yml"), "-e", f"patroni_replace_member={member}"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1"))


def etcd_members(cluster, on: str) -> dict[str, dict]:
    """etcd's member list, asked as root on member `on`: name -> {id, started, healthy}."""
    listed = json.loads(cluster(on).check_output(f"echo {ROOT_PASSWORD} | odoo-hipaa-etcdctl member list -w json"))
    found = {}
    for m in listed["members"]:
        urls = ",".join(m.get("clientURLs", []))
        health = cluster(on).run(f"echo {ROOT_PASSWORD} | ETCDCTL_ENDPOINTS={urls} odoo-hipaa-etcdctl endpoint health") \
            if urls else None
        found[m.get("name", "")] = {"id": m["ID"], "started": bool(m.get("name")), "healthy": bool(health and health.rc == 0)}
    return found


def rows(cluster, on: str, run: str) -> str:
    return cluster(on).check_output(PSQL.replace("psql ", "psql -d odoo ") + f"\"SELECT count(*) FROM ha_probe WHERE run = '{run}'\"")


def test_a_dead_replica_is_replaced_by_a_new_machine(cluster):
    lead = leader(cluster)
    ms = members(cluster)
    victim = next((m["Member"] for m in ms if m["Role"] == "Replica"),
                  next(m["Member"] for m in ms if m["Role"] == "Sync Standby"))
    survivor = next(n for n in DB if n != victim)
    before = etcd_members(cluster, survivor)

    # refused before any change
    wrong = replace(lead)
    assert wrong.returncode != 0 and "A member is replaced only while another one leads" in wrong.stdout, \
        wrong.stdout[-2000:]
    kept = replace(victim)
    assert kept.returncode != 0 and f"{victim} holds a PostgreSQL data directory" in kept.stdout, kept.stdout[-2000:]
    assert leader(cluster) == lead and etcd_members(cluster, survivor) == before

    run, seconds = f"replace{int(time.time())}", 90
    _writer(cluster, run, seconds)
    time.sleep(5)
    cluster(victim).check_output(WIPE)
    started = time.monotonic()
    done = replace(victim)
    took = round(time.monotonic() - started)
    assert done.returncode == 0, done.stdout[-3000:]
    wait_for("the new member streaming", lambda: healthy(cluster), timeout=180)
    result = _writer_result(cluster, run, seconds)
    lost = _lost(cluster, run, result["acked"])
    after = etcd_members(cluster, survivor)
    expected = rows(cluster, leader(cluster), run)
    wait_for("the new replica holding the rows written meanwhile", lambda: rows(cluster, victim, run) == expected,
             timeout=60)
    record("replace_db_node", {"member": victim, "playbook_s": took, "acknowledged": len(result["acked"]),
                               "acknowledged_writes_lost": len(lost), "errors": result["error_count"]})
    assert sorted(after) == sorted(DB), after
    assert all(m["started"] and m["healthy"] for m in after.values()), after
    assert after[victim]["id"] != before[victim]["id"], "the new machine should be a new etcd member"
    assert lost == [], f"acknowledged writes lost: {lost}"
    assert {m["Member"]: m["State"] for m in members(cluster)}[victim] == "streaming"
