# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The written access-control matrix as the page an auditor reads, from the
evidence row odoo_access_matrix (module_utils/access_matrix.py, render_html)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: access_matrix_html
author: onprem.odoo_hipaa contributors (@onprem)
short_description: the written access-control matrix as an HTML page
description:
  - Renders the observed value of the evidence row odoo_access_matrix (roles x PHI models, the letters r w c d live
    and declared, the record rules that narrow them, every difference from the declaration, each internal user's
    roles) as one HTML page.
options:
  _input:
    description: The row's observed value (matrix, differences, phi_models).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the access-control matrix beside the evidence report
  ansible.builtin.copy:
    content: "{{ __row.observed | onprem.odoo_hipaa.access_matrix_html }}"
    dest: reports/evidence/access-matrix.html
    mode: "0640"
"""

RETURN = r"""
_value:
  description: The page.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.access_matrix import render_html


def access_matrix_html(observed):
    if not isinstance(observed, dict) or not isinstance(observed.get("matrix"), dict):
        raise AnsibleFilterError("access_matrix_html: the input must be the observed value of odoo_access_matrix")
    return render_html({"matrix": observed["matrix"], "differences": observed.get("differences") or [],
                        "users": observed.get("users") or []},
                       observed.get("phi_models") or [])


class FilterModule(object):
    def filters(self):
        return {"access_matrix_html": access_matrix_html}
