# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What makes an HA cluster's declaration unsafe, in words; [] when nothing
does. The logic: module_utils/ha_topology.py."""

from __future__ import annotations

DOCUMENTATION = r"""
name: ha_topology_problems
author: onprem.odoo_hipaa contributors (@onprem)
short_description: what makes a Patroni/etcd cluster declaration unsafe ([] when nothing does)
description:
  - Role patroni refuses its input with this filter before any change, each problem in words.
  - "Refused: a bad scope; a node outside its members group; fewer than 2 members; members on two Debian releases;
    members without or sharing an address; a scope another cluster of the inventory uses; synchronous mode off
    without a written waiver; ttl below loop_wait + 2 x retry_timeout or above the limit; an even number of etcd
    members or fewer than 3 without a written waiver."
options:
  _input:
    description: The node's view (scope, host, members, releases, addresses, scopes, synchronous_mode, ttl ...).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a cluster whose topology does not hold
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: "{{ {'scope': patroni_scope, 'host': inventory_hostname} | onprem.odoo_hipaa.ha_topology_problems }}"
"""

RETURN = r"""
_value:
  description: Every problem found, in words (empty when the declaration is safe).
  type: list
  elements: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.ha_topology import problems


def ha_topology_problems(spec):
    if not isinstance(spec, dict):
        raise AnsibleFilterError("ha_topology_problems: the declaration must be a mapping")
    return problems(spec)


class FilterModule(object):
    def filters(self):
        return {"ha_topology_problems": ha_topology_problems}
