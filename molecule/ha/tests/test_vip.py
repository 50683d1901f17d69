"""The entries' shared address (#18, role entry_vip), from outside.

keepalived on both Odoo nodes keeps one client address on a live entry. A
user logged in through that address writes on while:

- the holder's nginx stops: keepalived's check fails twice and the other entry
  takes the address (gratuitous ARP; the controller follows it);
- then the new holder is cut off the network (its link down): the adverts stop
  and the first entry takes the address back.

Each time the session survives, every write the client saw acknowledged is in
the database, and the address stays where it went when the other entry comes
back (nopreempt). The gap is recorded, never asserted (30 s is a hang
detector). keepalived's sandbox passes the evidence row service_sandbox."""

from __future__ import annotations

import os
import re
import time

import pytest

from lab_evidence import evidence_rows
from test_cluster import record, wait_for
from test_nodes import APPS, LOGIN, PASSWORD, nodes, totp_step  # noqa: F401  (the fixture; puts molecule/odoo/tests on the path)
from odoo_client import OdooClient  # noqa: E402  (molecule/odoo/tests)

PUBLIC_NAME = "odoo.ha-lab"   # prepare.yml: in both entries' certificates


def vip(nodes) -> str:
    conf = nodes.lab_host(APPS[0]).check_output("cat /etc/keepalived/keepalived.conf")
    return re.search(r"virtual_ipaddress \{\s*([0-9a-fA-F.:]+)/", conf).group(1)


def holders(nodes, address: str) -> list[str]:
    return [name for name in APPS
            if f" {address}/" in nodes.lab_host(name).check_output("ip -o -4 addr show") + " "]


def write(client, tag: str) -> int | None:
    try:
        answer = client.call_kw("res.partner", "create", [{"name": f"{tag}-{time.time():.3f}"}])
    except OSError:
        return None
    return answer.get("result") if isinstance(answer.get("result"), int) else None


def writes_through(client, tag: str, until, limit: float = 30) -> dict:
    """Write every 0.2 s until until() is true and a write has succeeded after it.
    The gap: from the first failed call to the next acknowledged one, or the
    slowest call (one held up while the address moved, then answered)."""
    acked, failed, gap_start, gap, slowest = [], 0, None, 0.0, 0.0
    end = time.monotonic() + limit
    while time.monotonic() < end:
        began = time.monotonic()
        created = write(client, tag)
        now = time.monotonic()
        slowest = max(slowest, now - began)
        if created:
            acked.append(created)
            if gap_start is not None:
                gap, gap_start = max(gap, now - gap_start), None
            if until():
                return {"acked": acked, "failed": failed, "gap_s": round(max(gap, slowest), 1)}
        else:
            failed += 1
            gap_start = gap_start or began
        time.sleep(0.2)
    raise AssertionError(f"not within {limit} s: writes through the address after the move")


@pytest.fixture(scope="module")
def address(nodes):
    found = vip(nodes)
    wait_for("one entry holding the address", lambda: len(holders(nodes, found)) == 1, timeout=30)
    return found


def logged_in(nodes, address: str) -> OdooClient:
    client = OdooClient(address, PUBLIC_NAME, nodes.ca, timeout=10)
    first = client.login("odoo", LOGIN, PASSWORD)
    assert first.mfa_required, f"password step through {address}: {first.status} {first.location}"
    totp_step(client)
    return client


def test_one_entry_holds_the_address_and_keepalived_is_sandboxed(nodes, address):
    assert len(holders(nodes, address)) == 1
    for name in APPS:
        rows = evidence_rows(name, ["service_sandbox"], {})
        assert rows["service_sandbox"]["status"] == "pass", rows["service_sandbox"]
        assert "keepalived.service" in rows["service_sandbox"]["observed"], rows["service_sandbox"]


def test_the_address_follows_a_live_entry(nodes, address):
    client = logged_in(nodes, address)
    uid = client.uid()
    first = holders(nodes, address)[0]
    second = next(name for name in APPS if name != first)
    route = nodes.lab_host(second).check_output("ip route show default")
    results = {}
    # 1. the holder's nginx stops
    nodes.lab_host(first).check_output("systemctl stop nginx.service")
    try:
        results["nginx_stopped"] = writes_through(client, "ha-vip-nginx", lambda: holders(nodes, address) == [second])
    finally:
        nodes.lab_host(first).check_output("systemctl start nginx.service")
    time.sleep(5)
    assert holders(nodes, address) == [second], "the address went back (preempted) or vanished"
    # 2. the new holder is cut off the network
    nodes.lab_host(second).check_output("ip link set eth0 down")
    try:
        results["holder_cut_off"] = writes_through(client, "ha-vip-cut", lambda: first in holders(nodes, address))
    finally:
        nodes.lab_host(second).check_output(f"ip link set eth0 up && sleep 1 && (ip route replace {route} || true)")
    time.sleep(5)
    record("entry_vip", {case: {"gap_s": r["gap_s"], "failed_calls": r["failed"], "acknowledged": len(r["acked"])}
                         for case, r in results.items()})
    assert holders(nodes, address) == [first], "after the cut, the address should stay on the entry that took it"
    assert client.uid() == uid, "the session did not survive the moves"
    acked = [i for r in results.values() for i in r["acked"]]
    found = client.call_kw("res.partner", "search_count", [[["id", "in", acked]]])["result"]
    assert found == len(acked), f"{len(acked) - found} acknowledged writes missing"


# --- refused input -------------------------------------------------------------

REFUSED = {
    "router id 0": ({"entry_vip_router_id": 0}, "entry_vip_router_id (0) 1-255"),
    "an address that is not one": ({"entry_vip_address": "10.89.0.999"}, "must be IP addresses"),
    "one entry with another shared address": (
        {"entry_vip_address": "10.89.255.250"}, "must set the same entry_vip_address and entry_vip_router_id"),
    "the shared address as the entry's own": (
        {"entry_vip_source_address": "{{ entry_vip_address }}"}, "an entry_vip_source_address of its own that is not the shared address"),
}
WATCHED = ["sha256sum /etc/keepalived/keepalived.conf /etc/systemd/system/keepalived.service.d/odoo-hipaa-sandbox.conf",
           "systemctl show -p ActiveEnterTimestamp keepalived.service"]


@pytest.fixture(scope="module")
def refused(refused_batch, nodes):
    return refused_batch("entry_vip", REFUSED, [APPS[1]], [], WATCHED)


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_input_is_refused_before_any_change(refused, case):
    refused.check(case)
