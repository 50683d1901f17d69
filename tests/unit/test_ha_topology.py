"""The HA rack's topology rules (module_utils/ha_topology.py): what roles
patroni and etcd refuse before any change."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.odoo_hipaa.plugins.filter.ha_topology_problems import ha_topology_problems
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import ha_topology

GOOD = {"scope": "erp-rack1", "host": "db1", "members": ["db1", "db2", "db3"], "releases": ["13", "13", "13"],
        "addresses": ["10.0.0.1", "10.0.0.2", "10.0.0.3"], "scopes": ["other-rack"], "synchronous_mode": True,
        "async_waiver_reason": "", "ttl": 30, "loop_wait": 10, "retry_timeout": 10,
        "etcd_hosts": ["10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"], "etcd_waiver_reason": ""}


def test_the_default_rack_passes():
    assert ha_topology_problems(dict(GOOD)) == []


@pytest.mark.parametrize("change, words", [
    ({"scope": "Erp_Rack"}, "patroni_scope"),
    ({"host": "db9"}, "does not match the inventory"),
    ({"members": ["db1"], "releases": ["13"], "addresses": ["10.0.0.1"]}, "at least 2"),
    ({"releases": ["12", "13", "13"]}, "one Debian release"),
    ({"addresses": ["10.0.0.1", "", "10.0.0.3"]}, "without patroni_listen_address: db2"),
    ({"addresses": ["10.0.0.1", "10.0.0.1", "10.0.0.3"]}, "share the address"),
    ({"scopes": ["erp-rack1"]}, "used by another cluster"),
    ({"synchronous_mode": False}, "synchronous_mode is off"),
    ({"ttl": 25}, "ttl 25 < loop_wait 10"),
    ({"ttl": 90, "loop_wait": 10}, "too long"),
    ({"retry_timeout": "ten"}, "whole seconds"),
    ({"etcd_hosts": ["10.0.0.1:2379", "10.0.0.2:2379"]}, "an even number"),
    ({"etcd_hosts": [":2379"]}, "no usable etcd member"),
])
def test_an_unsafe_declaration_is_refused_in_words(change, words):
    found = ha_topology_problems(dict(GOOD, **change))
    assert any(words in p for p in found), found


def test_sync_off_and_a_single_etcd_pass_only_with_a_written_reason():
    assert ha_topology_problems(dict(GOOD, synchronous_mode=False, async_waiver_reason="too short")) != []
    assert ha_topology_problems(dict(GOOD, synchronous_mode=False,
                                     async_waiver_reason="reporting replica only, no ePHI written")) == []
    one = dict(GOOD, etcd_hosts=["10.0.0.1:2379"])
    assert "fewer than 3" in " ".join(ha_topology_problems(one))
    assert ha_topology_problems(dict(one, etcd_waiver_reason="lab smoke test on a single host")) == []


@pytest.mark.parametrize("count, ok", [(1, False), (2, False), (3, True), (4, False), (5, True)])
def test_etcd_needs_an_odd_count_of_at_least_three(count, ok):
    assert (ha_topology.member_count_problems(count, "") == []) is ok


def test_a_single_member_only_without_synchronous_mode_and_with_the_waivers():
    solo = dict(GOOD, host="db1", members=["db1"], releases=["12"], addresses=["10.0.0.1"],
                etcd_hosts=["10.0.0.1:2379"])
    assert "at least 2" in " ".join(ha_topology_problems(solo))
    waived = dict(solo, synchronous_mode=False, async_waiver_reason="staging rack, no standby to wait for",
                  etcd_waiver_reason="one etcd member on the staging host")
    assert ha_topology_problems(waived) == []
    assert "at least 2" in " ".join(ha_topology_problems(dict(waived, members=[], releases=[], addresses=[])))
