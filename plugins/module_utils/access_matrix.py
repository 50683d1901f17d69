# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The written access-control matrix (issue 19 part 1; docs/design/19-privacy-officer.md §4.1).

§164.312(a)(1) access control and §164.514(d) minimum necessary: a site
declares its healthcare roles (Front Desk, Nurse, Physician, Billing, Privacy
Officer, IT Admin by default) with what each may do to each PHI-bearing model
(letters r w c d), and which roles no user may hold together. This module is
the judgement, pure Python with no Ansible and no database, like golive.py:

- role_problems: what is wrong with a declaration (refused before any change);
- effective: the CRUD a role's group really grants, from Odoo's access rows
  (ir.model.access) over the group's implied closure, plus the rows with no
  group (they apply to everyone);
- compare: the live matrix against the declaration, and each user's groups
  against their roles: a group beyond the roles (added by hand), two roles
  that conflict, the built-in administrator active;
- render_html: the matrix as the page an auditor reads, differences marked.

- rule_plan: the record rules the odoo role's policy step gives each role's
  group (what it may do to every record, and what only to records that hold no
  PHI), so Odoo's generous base rights do not widen a role;
- LIVE_SQL / live_from_rows: the read of the live tables the evidence runs.

The odoo role makes the roles (templates/policy.py.j2); the evidence row
odoo_access_matrix compares; tests/unit/test_access_matrix.py tests this module.
"""

from __future__ import annotations

import ast
import html
import re
from collections import defaultdict

LETTERS = "rwcd"
PERM = {"r": "perm_read", "w": "perm_write", "c": "perm_create", "d": "perm_unlink"}
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
XMLID = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_.]+")
MODEL = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
# The roles the seed names: who may read PHI and who may delete it.
PRIVACY_OFFICER = "privacy_officer"
ADMIN_GROUP = "base.group_system"
# The module name of the groups the policy step makes (xml id odoo_hipaa_roles.role_<key>)
# and the prefix of the names of its access rows and record rules.
ROLE_MODULE = "odoo_hipaa_roles"
OWN_PREFIX = "odoo_hipaa "
# A group rule that restricts nothing (Odoo's idiom for "all records"): a role
# that may do a thing to every record holds one, so that holding a second,
# narrower role does not narrow the first (Odoo ORs a user's group rules).
ALL_RECORDS = "[(1, '=', 1)]"
# In a no-PHI domain, the list of the site's PHI models (ir.attachment's res_model).
PHI_MODELS_TOKEN = "PHI_MODELS"


def letters(text) -> str:
    """'rwcd' letters in a fixed order; ValueError for anything else."""
    text = "" if text is None else str(text)
    bad = sorted(set(text) - set(LETTERS))
    if bad or len(set(text)) != len(text):
        raise ValueError(f"{text!r}: each of r w c d at most once")
    return "".join(x for x in LETTERS if x in text)


def role_problems(roles, phi_models, conflicts=()) -> list[str]:
    """What is wrong with the declared roles, in words ([] when nothing).

    roles: [{key, name, groups: [xml ids], phi: {model: letters}, phi_reason,
    clinical, privileged}]; phi_models: the PHI-bearing models (the odoo
    role's odoo_auditlog_models); conflicts: [[key, key], ...]."""
    problems = []
    phi = set(phi_models)
    keys = []
    for i, role in enumerate(roles or []):
        where = f"odoo_access_roles[{i}]"
        if not isinstance(role, dict):
            problems.append(f"{where} is not a mapping")
            continue
        key = role.get("key")
        if not isinstance(key, str) or not KEY.fullmatch(key):
            problems.append(f"{where}: key {key!r} is not a short lower-case name (a-z, 0-9, _)")
            continue
        where = f"odoo_access_roles[{i}] ({key})"
        if key in keys:
            problems.append(f"{where}: the key {key} is declared twice")
        keys.append(key)
        if not str(role.get("name") or "").strip():
            problems.append(f"{where} has no name")
        groups = role.get("groups") or []
        for group in groups:
            if not isinstance(group, str) or not XMLID.fullmatch(group):
                problems.append(f"{where}: group {group!r} is not an XML id (module.name)")
        reason = str(role.get("phi_reason") or "").strip()
        for model, granted in (role.get("phi") or {}).items():
            if model != "*" and model not in phi:
                problems.append(f"{where}: {model} is not one of the PHI models ({', '.join(sorted(phi))}); "
                                "add it to odoo_auditlog_models, so its reads are audited, or leave it out")
            try:
                granted = letters(granted)
            except ValueError as exc:
                problems.append(f"{where}: phi {model}: {exc}")
                continue
            if "r" in granted and ADMIN_GROUP in groups and not reason:
                problems.append(f"{where}: holds {ADMIN_GROUP} (administration) and reads ePHI ({model}); "
                                "an administrator reads no ePHI without a written phi_reason")
            if "d" in granted and key != PRIVACY_OFFICER and not reason:
                problems.append(f"{where}: deletes {model} records; only the privacy officer deletes PHI "
                                "without a written phi_reason")
    for pair in conflicts or []:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or pair[0] == pair[1]:
            problems.append(f"odoo_access_role_conflicts: {pair!r} is not a pair of two role keys")
            continue
        unknown = [k for k in pair if k not in keys]
        if unknown:
            problems.append(f"odoo_access_role_conflicts: {list(pair)} names unknown role(s) {', '.join(unknown)}")
    return problems


def no_phi_domains(domains, phi_models) -> dict:
    """model -> the site's no-PHI domain, PHI_MODELS replaced by the list of the PHI models."""
    return {m: str(d).replace(PHI_MODELS_TOKEN, repr(list(phi_models))) for m, d in (domains or {}).items()}


def domain_problems(domains, phi_models) -> list[str]:
    """Every PHI model needs the domain of its records that hold no PHI: a
    role without a letter on a model may use it on those records only."""
    problems = []
    domains = domains or {}
    for model in phi_models:
        text = domains.get(model)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"odoo_access_no_phi_domains has no domain for {model}: the records of {model} that "
                            "hold no PHI (a role without a right on the model keeps it on those records only)")
            continue
        try:
            tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            tree = None
        if not isinstance(tree, ast.List):
            problems.append(f"odoo_access_no_phi_domains[{model}] is not an Odoo domain (a Python list): {text!r}")
    for model in sorted(set(domains) - set(phi_models)):
        problems.append(f"odoo_access_no_phi_domains names {model}, not one of the PHI models")
    return problems


def acl_plan(roles, phi_models) -> list[dict]:
    """The access rows the policy step gives each role's group: one per PHI
    model the role has letters on, named 'odoo_hipaa <key> <model>'."""
    want = declared(roles, phi_models)
    return [{"name": f"{OWN_PREFIX}{key} {m}", "role": key, "model": m, "letters": want[key][m]}
            for key in want for m in phi_models if want[key][m]]


def archive_plan(roles, phi_models, domains) -> dict:
    """Per PHI model, who archives its records that hold PHI (a soft delete:
    the roles with d on it) and the domain of those that hold none; the
    session-policy addon's write guard reads it (odoo_hipaa.phi_archive)."""
    want = declared(roles, phi_models)
    dom = no_phi_domains(domains, phi_models)
    return {m: {"domain": dom[m], "archivers": sorted(f"{ROLE_MODULE}.role_{k}" for k in want if "d" in want[k][m])}
            for m in phi_models}


def rule_plan(roles, phi_models, domains) -> list[dict]:
    """The record rules the policy step gives each role's group, per PHI model:
    the declared letters on every record (ALL_RECORDS), the others on the
    records that hold no PHI only. Odoo's base rights (every internal user
    reads and writes contacts) would otherwise widen every role."""
    want = declared(roles, phi_models)
    dom = no_phi_domains(domains, phi_models)
    plan = []
    for key in want:
        for m in phi_models:
            rest = "".join(x for x in LETTERS if x not in want[key][m])
            if want[key][m]:
                plan.append({"name": f"{OWN_PREFIX}{key} {m} all records", "role": key, "model": m,
                             "domain": ALL_RECORDS, "letters": want[key][m]})
            if rest:
                plan.append({"name": f"{OWN_PREFIX}{key} {m} no PHI", "role": key, "model": m,
                             "domain": dom[m], "letters": rest})
    return plan


def declared(roles, phi_models) -> dict:
    """role key -> model -> letters, for every PHI model ('*' expands)."""
    out = {}
    for role in roles:
        grants = dict.fromkeys(phi_models, "")
        star = (role.get("phi") or {}).get("*")
        if star is not None:
            grants = dict.fromkeys(phi_models, letters(star))
        for model, granted in (role.get("phi") or {}).items():
            if model != "*":
                grants[model] = letters(granted)
        out[role["key"]] = grants
    return out


def closure(group, implied) -> set:
    """The group and every group it implies, transitively (implied: group -> [groups])."""
    seen, todo = set(), [group]
    while todo:
        g = todo.pop()
        if g in seen:
            continue
        seen.add(g)
        todo.extend(implied.get(g, ()))
    return seen


def effective(groups, acl_rows, phi_models) -> dict:
    """model -> letters the groups grant: access rows of those groups, and the
    rows with no group (group None: everyone). acl_rows: dicts with model,
    group, perm_read, perm_write, perm_create, perm_unlink (active rows only)."""
    got = defaultdict(set)
    for row in acl_rows:
        if row["model"] in phi_models and (row.get("group") is None or row["group"] in groups):
            got[row["model"]].update(x for x, perm in PERM.items() if row.get(perm))
    return {m: "".join(x for x in LETTERS if x in got[m]) for m in phi_models}


def group_rules(groups, rules, model, letter) -> list[str]:
    """The domains of the record rules that restrict `letter` on `model` for a
    holder of `groups` (Odoo: a user's group rules are OR-ed, global rules
    AND-ed; only group rules are the role's own choice). rules: dicts with model,
    groups (xml ids; empty: global), domain, perm_read ... perm_unlink."""
    perm = PERM[letter]
    return sorted({r["domain"] for r in rules
                   if r["model"] == model and r.get(perm, True) and set(r.get("groups") or ()) & set(groups)})


def all_records(domain) -> bool:
    """A domain that restricts nothing ([(1, '=', 1)] in any spacing, or empty)."""
    text = "".join(str(domain or "").split()).replace('"', "'")
    return text in ("", "[]", "[(1,'=',1)]", "[(1,'=',1),]")


def compare(roles, phi_models, conflicts, live, no_phi=None) -> dict:
    """The live matrix against the declaration.

    live: {"role_groups": {key: group xml id or None}, "implied": {group: [groups]},
    "acl": [rows], "rules": [rows], "users": [{login, active, groups: [xml ids]}],
    "builtin_admin_active": bool}. no_phi: model -> the domain of the site's
    rule that keeps a role without PHI rights to non-PHI records (a right only
    that rule restricts is not a PHI right).
    Returns {"matrix": {key: {model: {"declared", "live"}}}, "differences": [words], "users": [...]}."""
    want = declared(roles, phi_models)
    no_phi = no_phi or {}
    implied = live.get("implied", {})
    matrix, differences = {}, []
    closures = {}
    for role in roles:
        key = role["key"]
        group = live.get("role_groups", {}).get(key)
        if group is None:
            differences.append(f"role {key}: no group in the database (the policy step has not run)")
            closures[key] = set()
            matrix[key] = {m: {"declared": want[key][m], "live": None, "rules": {}} for m in phi_models}
            continue
        closures[key] = closure(group, implied)
        got = effective(closures[key], live.get("acl", []), phi_models)
        matrix[key] = {}
        for m in phi_models:
            cell = {"declared": want[key][m], "live": got[m], "rules": {}}
            for x in got[m]:
                domains = group_rules(closures[key], live.get("rules", []), m, x)
                # Odoo ORs a user's group rules: one on all records leaves the right whole
                if domains and not all(all_records(d) for d in domains):
                    cell["rules"][x] = domains
                # a right the site's no-PHI rule alone restricts reaches no PHI record
                if domains and no_phi.get(m) and all(d == no_phi[m] for d in domains):
                    cell["live"] = cell["live"].replace(x, "")
            matrix[key][m] = cell
        got = {m: matrix[key][m]["live"] for m in phi_models}
        for m in phi_models:
            if got[m] != want[key][m]:
                differences.append(f"role {key} on {m}: declared {want[key][m] or '-'}, live {got[m] or '-'}")
    role_of_group = {live.get("role_groups", {}).get(r["key"]): r["key"] for r in roles}
    base = set()
    for xmlid in live.get("base_groups", ["base.group_user", "base.group_portal", "base.group_public"]):
        base |= closure(xmlid, implied)
    users = []
    for user in live.get("users", []):
        if not user.get("active", True):
            continue
        held = [role_of_group[g] for g in user.get("groups", []) if g in role_of_group]
        if not held:
            # an internal user without a role holds Odoo's base rights, which no role bounds
            users.append({"login": user["login"], "roles": [], "extra_groups": [], "conflicts": []})
            differences.append(f"user {user['login']}: holds no role")
            continue
        allowed = set().union(*(closures[k] for k in held))
        extra = sorted(set(user.get("groups", [])) - allowed - base - set(role_of_group))
        clash = [list(pair) for pair in conflicts or [] if set(pair) <= set(held)]
        entry = {"login": user["login"], "roles": sorted(held), "extra_groups": extra, "conflicts": clash}
        users.append(entry)
        if extra:
            differences.append(f"user {user['login']}: groups beyond their roles: {', '.join(extra)}")
        for pair in clash:
            differences.append(f"user {user['login']}: holds conflicting roles {pair[0]} and {pair[1]}")
    if live.get("builtin_admin_active"):
        differences.append("the built-in administrator (base.user_admin) is active")
    return {"matrix": matrix, "differences": differences, "users": users}


def live_sql(phi_models) -> str:
    """One read-only query over Odoo's security tables: a JSON document for
    live_from_doc. Groups are named by xml id ('id:<n>' for one made by hand)."""
    models = ", ".join("'" + m.replace("'", "''") + "'" for m in phi_models if MODEL.fullmatch(m))
    perms = ", ".join(f"'{perm}', x.{perm}" for perm in PERM.values())
    return f"""
WITH xid AS (
  SELECT DISTINCT ON (res_id) res_id, module || '.' || name AS ref
    FROM ir_model_data WHERE model = 'res.groups' ORDER BY res_id, id),
g AS (SELECT grp.id, COALESCE(xid.ref, 'id:' || grp.id) AS ref
        FROM res_groups grp LEFT JOIN xid ON xid.res_id = grp.id),
phi AS (SELECT id, model FROM ir_model WHERE model IN ({models or "''"}))
SELECT json_build_object(
  'groups', (SELECT json_agg(ref ORDER BY ref) FROM g),
  'implied', (SELECT json_object_agg(ref, hs) FROM (
      SELECT g1.ref, json_agg(g2.ref ORDER BY g2.ref) AS hs FROM res_groups_implied_rel r
        JOIN g g1 ON g1.id = r.gid JOIN g g2 ON g2.id = r.hid GROUP BY g1.ref) t),
  'acl', (SELECT json_agg(json_build_object('name', x.name, 'model', phi.model, 'group', g.ref, {perms})
                          ORDER BY x.id)
            FROM ir_model_access x JOIN phi ON phi.id = x.model_id LEFT JOIN g ON g.id = x.group_id
           WHERE x.active),
  'rules', (SELECT json_agg(json_build_object('name', x.name, 'model', phi.model, 'domain', x.domain_force,
                            'groups', (SELECT COALESCE(json_agg(g.ref ORDER BY g.ref), '[]') FROM rule_group_rel rg
                                         JOIN g ON g.id = rg.group_id WHERE rg.rule_group_id = x.id), {perms})
                            ORDER BY x.id)
              FROM ir_rule x JOIN phi ON phi.id = x.model_id WHERE x.active),
  'users', (SELECT json_agg(json_build_object('login', u.login, 'active', u.active,
                            'groups', (SELECT COALESCE(json_agg(g.ref ORDER BY g.ref), '[]') FROM res_groups_users_rel ur
                                         JOIN g ON g.id = ur.gid WHERE ur.uid = u.id)) ORDER BY u.login)
              FROM res_users u WHERE u.active AND NOT u.share),
  'builtin_admin_active', (SELECT COALESCE(bool_or(u.active), false) FROM res_users u
                             JOIN ir_model_data d ON d.model = 'res.users' AND d.res_id = u.id
                            WHERE d.module = 'base' AND d.name = 'user_admin'))
"""


def live_from_doc(doc, roles) -> dict:
    """compare()'s `live` from the JSON document of live_sql()."""
    groups = set(doc.get("groups") or ())
    return {
        "role_groups": {r["key"]: (f"{ROLE_MODULE}.role_{r['key']}" if f"{ROLE_MODULE}.role_{r['key']}" in groups
                                   else None) for r in roles},
        "implied": doc.get("implied") or {},
        "acl": doc.get("acl") or [],
        "rules": doc.get("rules") or [],
        "users": doc.get("users") or [],
        "builtin_admin_active": bool(doc.get("builtin_admin_active")),
    }


def render_html(result: dict, phi_models) -> str:
    """The matrix as one page; a cell whose live letters differ from the declared ones is marked."""
    esc = html.escape
    head = "".join(f"<th>{esc(m)}</th>" for m in phi_models)
    rows = []
    for key, cells in result["matrix"].items():
        tds = []
        for m in phi_models:
            cell = cells[m]
            live = "(none)" if cell["live"] is None else (cell["live"] or "-")
            if cell.get("rules"):
                by_domain = defaultdict(str)
                for x in LETTERS:
                    if x in cell["rules"]:
                        by_domain[" or ".join(cell["rules"][x])] += x
                live += " (" + "; ".join(f"{xs} only where {d}" for d, xs in by_domain.items()) + ")"
            if (cell["live"] or "") == cell["declared"] and cell["live"] is not None:
                tds.append(f"<td>{esc(live)}</td>")
            else:
                tds.append(f"<td class=\"diff\"><strong>{esc(live)}</strong> (declared {esc(cell['declared'] or '-')})</td>")
        rows.append(f"<tr><th>{esc(key)}</th>{''.join(tds)}</tr>")
    diffs = "".join(f"<li>{esc(d)}</li>" for d in result["differences"]) or "<li>none</li>"
    people = "".join(
        f"<tr><td>{esc(u['login'])}</td><td>{esc(', '.join(u['roles']) or '(none)')}</td>"
        f"<td>{esc(', '.join(u['extra_groups']) or '-')}</td></tr>" for u in result.get("users") or [])
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Access-control matrix</title>"
            "<style>.diff{background:#fdd}</style></head><body><h1>Access-control matrix</h1>"
            "<p>§164.312(a)(1), §164.514(d). Letters: r read, w write, c create, d delete.</p>"
            f"<table><tr><th>role</th>{head}</tr>{''.join(rows)}</table>"
            f"<h2>Differences from the declaration</h2><ul>{diffs}</ul>"
            "<h2>Internal users</h2><table><tr><th>login</th><th>roles</th><th>groups beyond their roles</th></tr>"
            f"{people}</table></body></html>\n")
