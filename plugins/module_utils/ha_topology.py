# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HA rack's topology rules (issue 18; docs/design/18-ha-rack.md §4.8):
what makes a Patroni cluster or an etcd membership unsafe, in words. Roles
patroni and etcd refuse their input with it (filter ha_topology_problems)
before any change; the unit tests cover it without a lab."""

from __future__ import annotations

import re

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS

SCOPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
WAIVER_MIN = 20   # characters of a written waiver reason


def member_count_problems(count: int, waiver: str, what: str = "etcd") -> list:
    """etcd needs a majority of its members: an odd number, at least
    ha_etcd_members_min, unless a written waiver says why not."""
    least = LIMITS["ha_etcd_members_min"]
    if count >= least and count % 2 == 1:
        return []
    if len((waiver or "").strip()) >= WAIVER_MIN:
        return []
    why = "an even number" if count % 2 == 0 else f"fewer than {least}"
    return [f"{what} has {count} member(s), {why}: a majority is lost with one failure or two nodes may both"
            f" believe they lead; use an odd number of at least {least}, or write why in the waiver"
            f" ({WAIVER_MIN} characters or more)"]


def problems(spec: dict) -> list:
    """Every problem of one Patroni node's view of its cluster ([] if none).
    spec: scope, host, members (inventory names), releases and addresses (one
    per member, in order), scopes (the scopes other hosts of the inventory
    use), synchronous_mode, async_waiver_reason, ttl, loop_wait,
    retry_timeout, etcd_hosts, etcd_waiver_reason."""
    out = []
    scope = spec.get("scope") or ""
    if not SCOPE.match(scope):
        out.append(f"patroni_scope {scope!r} must match {SCOPE.pattern} (it names the cluster in etcd)")
    members = list(spec.get("members") or [])
    if spec.get("host") not in members:
        out.append(f"{spec.get('host')} is not in the members group {members}: the node list does not match the inventory")
    # One member is a cluster only without synchronous mode (under its written
    # waiver): a staging rack, or the lab's Debian 12 smoke.
    if not members or (len(members) < 2 and spec.get("synchronous_mode", True)):
        out.append(f"the cluster has {len(members)} member(s): a synchronous standby needs at least 2 (3 by default)")
    releases = sorted(set(spec.get("releases") or []))
    if len(releases) > 1:
        out.append(f"the members run Debian {', '.join(releases)}: streaming replication needs one PostgreSQL major,"
                   " so one Debian release for the whole cluster")
    addresses = list(spec.get("addresses") or [])
    missing = [m for m, a in zip(members, addresses) if not a]
    if missing:
        out.append(f"members without patroni_listen_address: {', '.join(missing)}")
    dup = sorted({a for a in addresses if a and addresses.count(a) > 1})
    if dup:
        out.append(f"two members share the address {', '.join(dup)}")
    if scope and scope in (spec.get("scopes") or []):
        out.append(f"the scope {scope!r} is used by another cluster of this inventory: two clusters would fight"
                   " over one leader key")
    if not spec.get("synchronous_mode", True) and len((spec.get("async_waiver_reason") or "").strip()) < WAIVER_MIN:
        out.append("patroni_synchronous_mode is off without patroni_async_waiver_reason: a failover could lose"
                   f" commits Odoo was told had succeeded (write why, {WAIVER_MIN} characters or more)")
    try:
        ttl, loop, retry = int(spec.get("ttl")), int(spec.get("loop_wait")), int(spec.get("retry_timeout"))
    except (TypeError, ValueError):
        out.append("patroni_ttl, patroni_loop_wait and patroni_retry_timeout must be whole seconds")
    else:
        if loop < 1 or retry < 3 or ttl < 20:
            out.append("Patroni needs ttl >= 20, loop_wait >= 1 and retry_timeout >= 3")
        if ttl < loop + 2 * retry:
            out.append(f"patroni_ttl {ttl} < loop_wait {loop} + 2 x retry_timeout {retry}: the leader could lose its"
                       " key while it is still retrying, and a second node would be promoted")
        if ttl > LIMITS["ha_patroni_ttl_max"]:
            out.append(f"patroni_ttl {ttl} > {LIMITS['ha_patroni_ttl_max']} s: a dead primary would hold the key too long")
    etcd = list(spec.get("etcd_hosts") or [])
    if not etcd or any(not h or h.startswith(":") for h in etcd):
        out.append(f"no usable etcd member for Patroni ({etcd}): set etcd_listen_address on role etcd's members"
                   " or patroni_etcd_hosts")
    else:
        out.extend(member_count_problems(len(etcd), spec.get("etcd_waiver_reason") or "",
                                         "etcd (patroni_etcd_hosts, or role etcd's group)"))
    return out
