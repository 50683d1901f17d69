# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is wrong with the go-live gate's inputs (attestations, waivers,
vendors), in words; [] when nothing is. The logic: module_utils/golive.py."""

from __future__ import annotations

DOCUMENTATION = r"""
name: golive_problems
author: onprem.odoo_hipaa contributors (@onprem)
short_description: what is wrong with the go-live gate's attestations, waivers and vendors ([] when nothing is)
description:
  - Role evidence (entry points golive_validate and golive, C(playbooks/golive.yml)) refuses its inputs with this
    filter before any host is read, each problem in words.
  - "Refused: an unknown item, or a technical item (judged from evidence rows) in O(_input); an attestation without
    document, owner or date (a BAA also without vendor or expires); a date that is not ISO (YYYY-MM-DD) or is in the
    future; a BAA that expires before it was signed; a waiver without item, reason, approved_by or date, naming an
    unknown item, with a reason shorter than the collection's C(waiver_min_length) (20), or waiving an item twice;
    vendors that are not a list of names."
  - A declared vendor without a BAA is not refused; it makes the C(baa) item red.
  - The items are those of C(plugins/module_utils/golive.py) (C(ITEMS)).
positional: waivers, vendors, today
options:
  _input:
    description: The attestations, C(golive_attestations) (item -> {document, owner, date}; C(baa) -> a list).
    type: dict
    required: true
  waivers:
    description: The written waivers, C(golive_waivers) ([{item, reason, approved_by, date}]).
    type: list
    elements: dict
    default: []
  vendors:
    description: The vendors and sub-processors, C(golive_vendors); None when undeclared.
    type: list
    elements: str
  today:
    description: The date to judge against (YYYY-MM-DD); the controller's UTC date when omitted.
    type: str
"""

EXAMPLES = r"""
- name: Refuse go-live inputs the gate cannot judge
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: "{{ golive_attestations | onprem.odoo_hipaa.golive_problems(golive_waivers, golive_vendors) }}"
"""

RETURN = r"""
_value:
  description: Every problem found, in words (empty when the inputs can be judged).
  type: list
  elements: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.golive import problems


def golive_problems(attestations, waivers=None, vendors=None, today=None):
    try:
        return problems(attestations, waivers, vendors, today)
    except ValueError as exc:
        raise AnsibleFilterError("golive_problems: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"golive_problems": golive_problems}
