# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is wrong with the audit-log review's configuration, in words; [] when
nothing is. The logic: module_utils/privacy_review.py (config_problems), which
the review tool on the hosts runs too."""

from __future__ import annotations

DOCUMENTATION = r"""
name: privacy_review_problems
author: onprem.odoo_hipaa contributors (@onprem)
short_description: what is wrong with the audit-log review's configuration ([] when nothing is)
description:
  - Role privacy_review refuses its input with this filter before any change, each problem in words.
  - "Refused: a period other than weekly or monthly; an unknown IANA time zone; business hours whose days are not
    mon..sun or whose start is not before their end (HH:MM); a threshold below 1; a flagged column that is not a
    column name; a clinical group that is not an XML id; an empty flagged tag."
  - The same function checks the configuration file on the hosts before each review.
options:
  _input:
    description: The review's configuration, as the role writes it (period, timezone, business_hours, thresholds ...).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a review configuration the tool cannot run
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: "{{ __privacy_review_config | onprem.odoo_hipaa.privacy_review_problems }}"
"""

RETURN = r"""
_value:
  description: Every problem found, in words (empty when the configuration can run).
  type: list
  elements: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.privacy_review import config_problems


def privacy_review_problems(config):
    if not isinstance(config, dict):
        raise AnsibleFilterError("privacy_review_problems: the configuration must be a mapping")
    return config_problems(config)


class FilterModule(object):
    def filters(self):
        return {"privacy_review_problems": privacy_review_problems}
