"""Unit tests for the written access-control matrix's judgement
(plugins/module_utils/access_matrix.py, issue 19 part 1): refused
declarations, a role's effective rights over its implied groups and the
group-less rows, and every kind of difference the evidence must show."""

import pytest

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import access_matrix as am

PHI = ["res.partner", "ir.attachment", "calendar.event"]
SEED = [
    {"key": "front_desk", "name": "Front Desk", "groups": ["base.group_user"], "clinical": True,
     "phi": {"res.partner": "rwc", "calendar.event": "rwc", "ir.attachment": "rc"}},
    {"key": "nurse", "name": "Nurse", "groups": ["base.group_user"], "clinical": True,
     "phi": {"res.partner": "rw", "calendar.event": "rw", "ir.attachment": "rc"}},
    {"key": "billing", "name": "Billing", "groups": ["base.group_user"], "phi": {"res.partner": "r", "ir.attachment": "r"}},
    {"key": "privacy_officer", "name": "Privacy Officer", "groups": ["base.group_user"], "privileged": True,
     "phi": {"*": "rd"}},
    {"key": "it_admin", "name": "IT Admin", "groups": ["base.group_user", "base.group_system"], "privileged": True,
     "phi": {}},
]
CONFLICTS = [["it_admin", "privacy_officer"], ["billing", "privacy_officer"]]


def test_the_seed_declaration_has_no_problem():
    assert am.role_problems(SEED, PHI, CONFLICTS) == []


@pytest.mark.parametrize("change, words", [
    ({"phi": {"res.partner": "r"}, "key": "it_helpdesk", "groups": ["base.group_system"]},
     "an administrator reads no ePHI without a written phi_reason"),
    ({"phi": {"hr.employee": "r"}}, "hr.employee is not one of the PHI models"),
    ({"phi": {"res.partner": "rx"}}, "each of r w c d at most once"),
    ({"phi": {"res.partner": "rd"}}, "only the privacy officer deletes PHI"),
    ({"key": "Nurse!"}, "is not a short lower-case name"),
    ({"groups": ["group_user"]}, "is not an XML id"),
    ({"name": ""}, "has no name"),
])
def test_a_bad_role_is_refused(change, words):
    role = dict({"key": "extra", "name": "Extra", "groups": ["base.group_user"], "phi": {}}, **change)
    problems = am.role_problems(SEED + [role], PHI, CONFLICTS)
    assert len(problems) == 1 and words in problems[0], problems


def test_a_written_reason_lets_an_administrator_read():
    role = {"key": "it_break_glass", "name": "Break glass", "groups": ["base.group_system"],
            "phi": {"res.partner": "r"}, "phi_reason": "RISK-17: emergency access, reviewed monthly"}
    assert am.role_problems(SEED + [role], PHI, CONFLICTS) == []


def test_conflicts_name_known_roles_only():
    problems = am.role_problems(SEED, PHI, CONFLICTS + [["it_admin", "surgeon"], ["nurse"]])
    assert any("unknown role(s) surgeon" in p for p in problems) and any("not a pair" in p for p in problems)


def test_a_duplicate_key_is_refused():
    assert any("declared twice" in p for p in am.role_problems(SEED + [SEED[0]], PHI))


def test_effective_rights_follow_implied_groups_and_everyones_rows():
    implied = {"r.nurse": ["base.group_user"], "base.group_user": ["base.group_employee_x"]}
    acl = [
        {"model": "res.partner", "group": "base.group_user", "perm_read": True},
        {"model": "res.partner", "group": "r.nurse", "perm_write": True},
        {"model": "ir.attachment", "group": None, "perm_read": True, "perm_create": True},   # everyone
        {"model": "calendar.event", "group": "base.group_employee_x", "perm_read": True},
        {"model": "res.partner", "group": "base.group_partner_manager", "perm_unlink": True},  # not held
        {"model": "sale.order", "group": "r.nurse", "perm_read": True},                      # not PHI
    ]
    groups = am.closure("r.nurse", implied)
    assert am.effective(groups, acl, PHI) == {"res.partner": "rw", "ir.attachment": "rc", "calendar.event": "r"}


def live_matching_seed():
    """A database where each role's group grants exactly what is declared."""
    groups = {r["key"]: f"odoo_hipaa_roles.role_{r['key']}" for r in SEED}
    acl = []
    for key, grants in am.declared(SEED, PHI).items():
        for model, granted in grants.items():
            if granted:
                acl.append(dict({"model": model, "group": groups[key]},
                                **{am.PERM[x]: True for x in granted}))
    implied = {groups[r["key"]]: r["groups"] for r in SEED}
    users = [{"login": "nurse.jane", "groups": [groups["nurse"], "base.group_user"]},
             {"login": "it.bob", "groups": [groups["it_admin"], "base.group_user", "base.group_system"]}]
    return {"role_groups": groups, "implied": implied, "acl": acl, "users": users, "builtin_admin_active": False}


def test_the_live_matrix_equal_to_the_declaration_has_no_difference():
    result = am.compare(SEED, PHI, CONFLICTS, live_matching_seed())
    assert result["differences"] == []
    assert result["matrix"]["privacy_officer"]["res.partner"] == {"declared": "rd", "live": "rd", "rules": {}}
    assert [u["roles"] for u in result["users"]] == [["nurse"], ["it_admin"]]


def test_every_kind_of_drift_is_named():
    live = live_matching_seed()
    # an access row someone added by hand: IT Admin may read patients
    live["acl"].append({"model": "res.partner", "group": live["role_groups"]["it_admin"], "perm_read": True})
    # a group added by hand to a nurse (Contact Creation), a user holding two conflicting roles
    live["users"][0]["groups"].append("base.group_partner_manager")
    live["users"].append({"login": "pat", "groups": [live["role_groups"]["billing"], live["role_groups"]["privacy_officer"]]})
    live["users"].append({"login": "old", "active": False, "groups": ["base.group_system"]})   # archived: not judged
    live["builtin_admin_active"] = True
    diffs = am.compare(SEED, PHI, CONFLICTS, live)["differences"]
    assert diffs == [
        "role it_admin on res.partner: declared -, live r",
        "user nurse.jane: groups beyond their roles: base.group_partner_manager",
        "user pat: holds conflicting roles billing and privacy_officer",
        "the built-in administrator (base.user_admin) is active",
    ]


def test_a_role_without_its_group_is_a_difference():
    live = live_matching_seed()
    del live["role_groups"]["billing"]
    result = am.compare(SEED, PHI, CONFLICTS, live)
    assert "role billing: no group in the database (the policy step has not run)" in result["differences"]


def test_the_page_marks_the_differences_and_escapes():
    live = live_matching_seed()
    live["acl"].append({"model": "res.partner", "group": live["role_groups"]["it_admin"], "perm_read": True})
    live["users"][0]["groups"].append("x.<script>")
    page = am.render_html(am.compare(SEED, PHI, CONFLICTS, live), PHI)
    assert 'class="diff"><strong>r</strong> (declared -)' in page
    assert "<script>" not in page and "&lt;script&gt;" in page


NO_PHI = {"res.partner": "['|', ('user_ids', '!=', False), ('is_company', '=', True)]"}


def test_a_right_only_the_no_phi_rule_restricts_is_no_phi_right():
    """Every internal user reads res.partner through base.group_user; IT Admin's
    own rule keeps it to users' and companies' partners: no PHI read, as declared."""
    live = live_matching_seed()
    live["acl"].append({"model": "res.partner", "group": "base.group_user", "perm_read": True})
    assert "role it_admin on res.partner: declared -, live r" in am.compare(SEED, PHI, CONFLICTS, live)["differences"]
    live["rules"] = [{"model": "res.partner", "groups": [live["role_groups"]["it_admin"]], "domain": NO_PHI["res.partner"],
                      "perm_read": True, "perm_write": True, "perm_create": True, "perm_unlink": True}]
    result = am.compare(SEED, PHI, CONFLICTS, live, no_phi=NO_PHI)
    assert not [d for d in result["differences"] if "it_admin" in d], result["differences"]
    assert result["matrix"]["it_admin"]["res.partner"]["rules"] == {"r": [NO_PHI["res.partner"]]}
    # another rule beside it (OR-ed by Odoo) opens records again: the read is a PHI read
    live["rules"].append({"model": "res.partner", "groups": ["base.group_system"], "domain": "[(1, '=', 1)]",
                          "perm_read": True})
    result = am.compare(SEED, PHI, CONFLICTS, live, no_phi=NO_PHI)
    assert "role it_admin on res.partner: declared -, live r" in result["differences"]
    assert "r only where" in am.render_html(result, PHI)


# --- the policy step's plan, and the live database it makes ---------------------

DOMAINS = {"res.partner": NO_PHI["res.partner"], "ir.attachment": "[('res_model', 'not in', PHI_MODELS)]",
           "calendar.event": "[('user_id', '=', user.id)]"}


def live_from_plan(extra_acl=(), extra_rules=()):
    """The database the policy step makes from the plan, over Odoo's generous
    base: every internal user may do everything to the PHI models."""
    groups = {r["key"]: f"odoo_hipaa_roles.role_{r['key']}" for r in SEED}
    acl = [dict({"model": a["model"], "group": groups[a["role"]]}, **{am.PERM[x]: True for x in a["letters"]})
           for a in am.acl_plan(SEED, PHI)]
    acl += [dict({"model": m, "group": "base.group_user"}, **{p: True for p in am.PERM.values()}) for m in PHI]
    rules = [dict({"model": r["model"], "groups": [groups[r["role"]]], "domain": r["domain"]},
                  **{am.PERM[x]: x in r["letters"] for x in am.LETTERS})
             for r in am.rule_plan(SEED, PHI, DOMAINS)]
    implied = {groups[r["key"]]: r["groups"] for r in SEED}
    return {"role_groups": groups, "implied": implied, "acl": acl + list(extra_acl), "rules": rules + list(extra_rules),
            "users": [{"login": "nurse.jane", "groups": [groups["nurse"], "base.group_user"]}],
            "builtin_admin_active": False}


def test_the_plan_over_odoos_generous_base_gives_exactly_the_declaration():
    result = am.compare(SEED, PHI, CONFLICTS, live_from_plan(), no_phi=am.no_phi_domains(DOMAINS, PHI))
    assert result["differences"] == []
    assert result["matrix"]["it_admin"]["res.partner"]["live"] == ""
    assert result["matrix"]["billing"]["ir.attachment"]["rules"] == {
        x: ["[('res_model', 'not in', ['res.partner', 'ir.attachment', 'calendar.event'])]"] for x in "wcd"}
    # without the no-PHI rules, Odoo's base shows through
    live = live_from_plan()
    live["rules"] = []
    diffs = am.compare(SEED, PHI, CONFLICTS, live, no_phi=am.no_phi_domains(DOMAINS, PHI))["differences"]
    assert "role it_admin on res.partner: declared -, live rwcd" in diffs


def test_the_plan_names_its_rows_and_rules_per_role_and_model():
    acl = {a["name"]: a["letters"] for a in am.acl_plan(SEED, PHI)}
    assert acl["odoo_hipaa nurse res.partner"] == "rw" and "odoo_hipaa it_admin res.partner" not in acl
    rules = {r["name"]: (r["letters"], r["domain"]) for r in am.rule_plan(SEED, PHI, DOMAINS)}
    assert rules["odoo_hipaa nurse res.partner all records"] == ("rw", am.ALL_RECORDS)
    assert rules["odoo_hipaa nurse res.partner no PHI"] == ("cd", NO_PHI["res.partner"])
    assert rules["odoo_hipaa it_admin calendar.event no PHI"] == ("rwcd", "[('user_id', '=', user.id)]")
    assert "odoo_hipaa it_admin calendar.event all records" not in rules


def test_a_base_rule_on_all_records_leaves_the_right_whole():
    """Odoo ORs a user's group rules: calendar's 'all events for employees' on
    base.group_user undoes IT Admin's no-PHI rule, and the matrix says so."""
    opened = {"model": "calendar.event", "groups": ["base.group_user"], "domain": "[(1,'=',1)]",
              "perm_read": True, "perm_write": True, "perm_create": True, "perm_unlink": True}
    result = am.compare(SEED, PHI, CONFLICTS, live_from_plan(extra_rules=[opened]),
                        no_phi=am.no_phi_domains(DOMAINS, PHI))
    assert "role it_admin on calendar.event: declared -, live rwcd" in result["differences"]


def test_an_internal_user_without_a_role_is_a_difference():
    live = live_from_plan()
    live["users"].append({"login": "temp.clerk", "groups": ["base.group_user"]})
    diffs = am.compare(SEED, PHI, CONFLICTS, live, no_phi=am.no_phi_domains(DOMAINS, PHI))["differences"]
    assert diffs == ["user temp.clerk: holds no role"]


@pytest.mark.parametrize("domains, words", [
    ({k: v for k, v in DOMAINS.items() if k != "calendar.event"}, "has no domain for calendar.event"),
    (dict(DOMAINS, **{"res.partner": "('is_company', '=', True)"}), "is not an Odoo domain"),
    (dict(DOMAINS, **{"res.partner": "[('is_company', '=', True)"}), "is not an Odoo domain"),
    (dict(DOMAINS, **{"hr.employee": "[]"}), "names hr.employee, not one of the PHI models"),
])
def test_a_bad_no_phi_domain_is_refused(domains, words):
    problems = am.domain_problems(domains, PHI)
    assert len(problems) == 1 and words in problems[0], problems


def test_the_live_document_names_the_role_groups_that_exist():
    doc = {"groups": ["base.group_user", "odoo_hipaa_roles.role_nurse"], "implied": {}, "acl": None,
           "rules": None, "users": None, "builtin_admin_active": None}
    live = am.live_from_doc(doc, SEED)
    assert live["role_groups"]["nurse"] == "odoo_hipaa_roles.role_nurse" and live["role_groups"]["billing"] is None
    assert live["acl"] == [] and live["builtin_admin_active"] is False
    sql = am.live_sql(PHI + ["bad'; DROP TABLE x; --"])
    assert "'res.partner', 'ir.attachment', 'calendar.event'" in sql and "DROP" not in sql


def test_the_deleting_roles_archive_and_the_rest_of_the_records_hold_no_phi():
    plan = am.archive_plan(SEED, PHI, DOMAINS)
    assert plan["res.partner"] == {"domain": NO_PHI["res.partner"], "archivers": ["odoo_hipaa_roles.role_privacy_officer"]}
    assert "'res.partner', 'ir.attachment', 'calendar.event'" in plan["ir.attachment"]["domain"]
