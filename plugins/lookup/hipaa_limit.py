# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's control limits (plugins/module_utils/hipaa_limits.py) for
the roles' validation on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
name: hipaa_limit
author: onprem.odoo_hipaa contributors (@onprem)
short_description: a control limit of the collection (the same value the evidence report checks)
description:
  - Returns the named limits from C(plugins/module_utils/hipaa_limits.py), the one
    place where the collection keeps a control's limit (a timeout, a TLS floor).
    The roles validate their input against it and the hipaa_evidence module
    judges the live hosts against it.
options:
  _terms:
    description: Names of limits, for example C(odoo_session_absolute_lifetime_max).
    required: true
"""

EXAMPLES = r"""
- name: Refuse a lifetime above the collection's limit
  ansible.builtin.assert:
    that: odoo_session_absolute_lifetime <= lookup('onprem.odoo_hipaa.hipaa_limit', 'odoo_session_absolute_lifetime_max')
"""

RETURN = r"""
_raw:
  description: The limits, in the order asked.
  type: list
"""

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        unknown = [t for t in terms if t not in LIMITS]
        if unknown:
            raise AnsibleError("unknown onprem.odoo_hipaa limit(s): %s; known: %s"
                               % (", ".join(unknown), ", ".join(sorted(LIMITS))))
        return [LIMITS[t] for t in terms]
