# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is wrong with a network allowed to reach a service, in words, or ''
when nothing is."""

from __future__ import annotations

DOCUMENTATION = r"""
name: network_problem
author: onprem.odoo_hipaa contributors (@onprem)
short_description: what is wrong with an allowed network given as input ('' when nothing is)
description:
  - The roles check the networks they open a service to with this filter
    before any change, so C(0.0.0.0/0), a public range or a typo is refused
    with the rule it breaks instead of quietly opening the service.
  - "Rules: a network in CIDR form (C(10.20.0.0/24), C(fd00::/64)); no host
    bits set; no broader than O(min_prefix_v4) / O(min_prefix_v6); a private,
    unique-local or loopback range unless O(private_only) is false."
  - The prefix floors live in C(plugins/module_utils/hipaa_limits.py)
    (C(allowed_network_min_prefix_v4), C(allowed_network_min_prefix_v6)).
positional: min_prefix_v4, min_prefix_v6, private_only
options:
  _input:
    description: The network, e.g. C(10.20.0.0/24).
    type: raw
    required: true
  min_prefix_v4:
    description: The shortest IPv4 prefix accepted.
    type: int
    default: 16
  min_prefix_v6:
    description: The shortest IPv6 prefix accepted.
    type: int
    default: 48
  private_only:
    description: Refuse networks outside RFC 1918, RFC 4193 (fc00::/7) and loopback.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Refuse over-broad database manager networks
  ansible.builtin.assert:
    that: (item | onprem.odoo_hipaa.network_problem) == ''
    fail_msg: "nginx_database_manager_networks entry '{{ item }}': {{ item | onprem.odoo_hipaa.network_problem }}."
  loop: "{{ nginx_database_manager_networks }}"
"""

RETURN = r"""
_value:
  description: The first rule the network breaks, in words, or an empty string.
  type: string
"""

import ipaddress
import re

_CIDR = re.compile(r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$")


def network_problem(value, min_prefix_v4=16, min_prefix_v6=48, private_only=True):
    if not isinstance(value, str) or not _CIDR.match(value):
        return "is not a network in CIDR form (e.g. 10.20.0.0/24 or fd00:20::/64); names, 'all' and bare addresses are not allowed"
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "is not a valid IPv4 or IPv6 network"
    if str(net) != value and net.with_prefixlen != value:
        if ipaddress.ip_interface(value).ip != net.network_address:
            return "has host bits set (the network is %s)" % net.with_prefixlen
    floor = min_prefix_v4 if net.version == 4 else min_prefix_v6
    if net.prefixlen < floor:
        return "is broader than /%d (IPv%d); that opens the service to %s addresses" % (
            floor, net.version, "{:,}".format(net.num_addresses) if net.version == 4 else "2^%d" % (128 - net.prefixlen))
    if private_only:
        private = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                                                     "fc00::/7", "::1/128")]
        if not any(net.version == p.version and net.subnet_of(p) for p in private):
            return "is not a private network (RFC 1918, fc00::/7 or loopback)"
    return ""


class FilterModule(object):
    def filters(self):
        return {"network_problem": network_problem}
