# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's healthcare roles as Odoo makes them: what is wrong with the
declaration, and the access rows and record rules of each role's group. The
logic: module_utils/access_matrix.py, which the evidence row compares by."""

from __future__ import annotations

DOCUMENTATION = r"""
name: access_plan
author: onprem.odoo_hipaa contributors (@onprem)
short_description: the healthcare roles' access rows and record rules, and what is wrong with their declaration
description:
  - Role odoo refuses the declaration with the returned problems before any change, then hands the plan to its
    policy step, which makes one group per role (xml id odoo_hipaa_roles.role_<key>) implying the declared groups.
  - "Refused: a key declared twice or not a short name; a role without a name; a group that is not an XML id; a PHI
    model that is not in odoo_auditlog_models; letters other than r w c d; ePHI read by a role holding
    base.group_system, or a delete outside privacy_officer, without a written phi_reason; a conflict naming an
    unknown role; a PHI model without its no-PHI domain, or a domain that is not a list; an administrators' role
    that is not declared."
options:
  _input:
    description: >-
      roles (odoo_access_roles), phi_models (odoo_auditlog_models), conflicts (odoo_access_role_conflicts),
      no_phi_domains (odoo_access_no_phi_domains), admin_role (odoo_access_admin_role).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a role declaration before any change
  ansible.builtin.assert:
    that: __plan.problems | length == 0
    fail_msg: "{{ __plan.problems | join('; ') }}"
  vars:
    __plan: "{{ {'roles': odoo_access_roles, 'phi_models': odoo_auditlog_models} | onprem.odoo_hipaa.access_plan }}"
"""

RETURN = r"""
_value:
  description: >-
    problems (words; empty when the declaration can be made), groups, acl, rules and archive (who archives each PHI
    model's records, for the session-policy addon); all empty when refused.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import access_matrix as am


def access_plan(spec):
    if not isinstance(spec, dict):
        raise AnsibleFilterError("access_plan: the input must be a mapping")
    roles = spec.get("roles") or []
    phi_models = list(spec.get("phi_models") or [])
    problems = am.role_problems(roles, phi_models, spec.get("conflicts") or [])
    if roles:
        problems += am.domain_problems(spec.get("no_phi_domains"), phi_models)
    admin_role = spec.get("admin_role") or ""
    if admin_role and admin_role not in [r.get("key") for r in roles if isinstance(r, dict)]:
        problems.append(f"odoo_access_admin_role is {admin_role!r}, not the key of a role in odoo_access_roles")
    if problems:
        return {"problems": problems, "groups": [], "acl": [], "rules": [], "archive": {}}
    groups = [{"key": r["key"], "xmlid": f"{am.ROLE_MODULE}.role_{r['key']}", "name": r["name"],
               "implied": list(r.get("groups") or [])} for r in roles]
    return {"problems": [], "groups": groups, "acl": am.acl_plan(roles, phi_models),
            "rules": am.rule_plan(roles, phi_models, spec.get("no_phi_domains")),
            "archive": am.archive_plan(roles, phi_models, spec.get("no_phi_domains"))}


class FilterModule(object):
    def filters(self):
        return {"access_plan": access_plan}
