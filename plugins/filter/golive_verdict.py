# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The go-live checklist judged from an evidence report and the inventory's
attestations and waivers. The logic: module_utils/golive.py."""

from __future__ import annotations

DOCUMENTATION = r"""
name: golive_verdict
author: onprem.odoo_hipaa contributors (@onprem)
short_description: the go-live checklist (green, amber or red per item) from evidence rows and attestations
description:
  - Judges each item of the go-live checklist (C(plugins/module_utils/golive.py) C(ITEMS)) for role evidence's entry
    point golive (C(playbooks/golive.yml)).
  - "A technical item is green when each of its evidence rows is reported by at least one host and passed on every
    host that reports it; red when a row is absent (C(not evidenced: row X absent)), failed, or the evidence is older
    than O(evidence_max_age_hours); amber when a row is waived in the evidence."
  - "An attested item is green when its attestation is complete (document, owner, date), dated no later than today
    and no older than its maximum age (365 days); the C(baa) item when every vendor of O(vendors) has a BAA that has
    not expired. Red otherwise, with the reason."
  - Any item that is not green becomes amber with a written waiver of O(waivers).
positional: attestations, waivers, vendors, now, evidence_file, evidence_max_age_hours
options:
  _input:
    description: The evidence report, as role evidence writes it (C({summary, controls})).
    type: dict
    required: true
  attestations:
    description: C(golive_attestations).
    type: dict
    default: {}
  waivers:
    description: C(golive_waivers).
    type: list
    elements: dict
    default: []
  vendors:
    description: C(golive_vendors); None when undeclared (the C(baa) item is then red).
    type: list
    elements: str
  now:
    description: The time of the judgement (ISO 8601, UTC); the controller's clock when omitted.
    type: str
  evidence_file:
    description: Where the evidence was read from (shown in the checklist).
    type: str
    default: ""
  evidence_max_age_hours:
    description: The oldest evidence judged (hours); 0 for no limit.
    type: int
    default: 24
"""

EXAMPLES = r"""
- name: Judge the go-live checklist
  ansible.builtin.set_fact:
    verdict: >-
      {{ lookup('ansible.builtin.file', 'reports/evidence/latest.json') | from_json
         | onprem.odoo_hipaa.golive_verdict(golive_attestations, golive_waivers, golive_vendors) }}
"""

RETURN = r"""
_value:
  description: The checklist.
  type: dict
  contains:
    verdict:
      description: V(red) when any item is red, else V(amber) when any is amber, else V(green).
      type: str
    passed:
      description: No item is red (the gate passes).
      type: bool
    counts:
      description: Items per state (green, amber, red).
      type: dict
    red:
      description: The keys of the red items.
      type: list
      elements: str
    items:
      description: One entry per item (key, title, citation, kind, state, reason, details; rows or attestation; waiver).
      type: list
      elements: dict
    lines:
      description: The checklist as text, one line per item (state, item, reason) after a heading.
      type: list
      elements: str
    evidence:
      description: The evidence judged (file, generated_at, hosts, stale).
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.golive import verdict


def golive_verdict(evidence, attestations=None, waivers=None, vendors=None, now=None, evidence_file="",
                   evidence_max_age_hours=24):
    try:
        return verdict(evidence, attestations, waivers, vendors, now, evidence_file, evidence_max_age_hours)
    except ValueError as exc:
        raise AnsibleFilterError("golive_verdict: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"golive_verdict": golive_verdict}
