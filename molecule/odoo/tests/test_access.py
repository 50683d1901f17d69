"""The healthcare roles (role odoo, odoo_access_roles) on the real Odoo, used
through nginx as the web client does, and the written access-control matrix
read from the live database (§164.312(a)(1), §164.514(d) minimum necessary):

- the matrix the evidence row odoo_access_matrix reads equals the declaration
  for every role and PHI model, over Odoo's own base rights (every employee
  may read contacts and do anything to calendar events);
- a group added by hand to a user turns it red, naming the user and the
  group, and it is green again when taken away;
- IT Admin (the named administrators' role) reads no patient, though Odoo
  lets every employee read contacts: its own rule keeps it to users' and
  companies' contacts;
- a nurse reads and writes a patient but neither creates nor deletes one;
- the privacy officer deletes a patient but writes none;
- archiving a patient is a soft delete: the nurse (who writes patients) may
  not, the privacy officer (who deletes them, but writes none) may, and
  restores it, each logged; records without PHI (a company) are not guarded;
- IT Admin creates a user (the addon makes its contact), but no bare contact
  and no user on a patient's contact;
- the evidence row odoo_privileged_passkey names each IT Admin and Privacy
  Officer without a passkey (Odoo's auth_passkey), and no longer once a key
  is stored for them (the row reads what auth_passkey stores; the WebAuthn
  ceremony itself is Odoo's); with passkeys required, a privileged user's
  password login is refused and logged, a nurse's is not.

Refused declarations (before any change) are in test_runs.py."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shlex
import time
from pathlib import Path

import pytest
import yaml
from lab_evidence import evidence_rows
from odoo_client import error_name
from test_safeguards import (  # noqa: F401  pylint: disable=unused-import
    PASSWORD, SETUP_SCRIPT, TOTP_SECRET, USERS, lab, login_with_totp, odoo_shell)

testinfra_hosts = ["odoo"]

DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[3] / "roles" / "odoo" / "defaults" / "main.yml").read_text())
ROLE = "odoo_hipaa_roles.role_"
ROLE_USERS = {
    "role-nurse": ("Nurse In Role (lab)", [ROLE + "nurse"], True),
    "role-itadmin": ("IT Admin In Role (lab)", [ROLE + "it_admin"], True),
    "role-privacy": ("Privacy Officer In Role (lab)", [ROLE + "privacy_officer"], True),
    "role-frontdesk": ("Front Desk In Role (lab)", [ROLE + "front_desk"], True),
}
ACCESS_DENIED = "odoo.exceptions.AccessError"

# A patient for each test that may change it (idempotent).
PATIENTS_SCRIPT = r'''
import json
Partner = env["res.partner"].sudo().with_context(active_test=False)
out = {}
for ref in ("odoo-hipaa-access-patient", "odoo-hipaa-access-deleted", "odoo-hipaa-access-company"):
    p = Partner.search([("ref", "=", ref)], limit=1) or Partner.create(
        {"name": "Access %s (lab)" % ref.rsplit("-", 1)[1], "ref": ref, "is_company": ref.endswith("company")})
    p.write({"active": True})
    out[ref] = p.id
env.cr.commit()
print("ODOO_HIPAA_TEST " + json.dumps(out))
'''


@pytest.fixture(scope="module")
def roled(host, lab):  # noqa: F811
    """The lab's users and three users holding one healthcare role each."""
    spec = {"users": dict(USERS, **ROLE_USERS), "password": PASSWORD, "totp_secret": TOTP_SECRET,
            "partner_ref": "odoo-hipaa-test-patient", "partner_name": "Test Patient (odoo_hipaa lab)"}
    made = odoo_shell(host, SETUP_SCRIPT.replace("__SPEC__", repr(json.dumps(spec))))
    patients = odoo_shell(host, PATIENTS_SCRIPT)
    return dataclasses.replace(lab, users=made["users"]), patients


def matrix(host, check: str = "odoo_access_matrix") -> dict:
    """An evidence row (odoo_access_matrix by default), run on the lab host as
    verify.yml runs it, with role odoo's defaults as the declaration."""
    name = host.backend.get_hostname()
    settings = {"odoo_phi_models": DEFAULTS["odoo_auditlog_models"],
                "odoo_access_roles": DEFAULTS["odoo_access_roles"],
                "odoo_access_role_conflicts": DEFAULTS["odoo_access_role_conflicts"],
                "odoo_access_no_phi_domains": DEFAULTS["odoo_access_no_phi_domains"]}
    return evidence_rows(name, [check], settings)[check]


def group_of(host, login: str, xmlid: str, add: bool) -> None:
    module, name = xmlid.split(".")
    if add:
        sql = ("INSERT INTO res_groups_users_rel (gid, uid) SELECT d.res_id, u.id FROM ir_model_data d, res_users u"
               f" WHERE d.model = 'res.groups' AND d.module = '{module}' AND d.name = '{name}' AND u.login = '{login}'"
               " ON CONFLICT DO NOTHING")
    else:
        sql = ("DELETE FROM res_groups_users_rel r USING ir_model_data d, res_users u WHERE d.model = 'res.groups'"
               f" AND d.module = '{module}' AND d.name = '{name}' AND r.gid = d.res_id AND u.login = '{login}'"
               " AND r.uid = u.id")
    host.check_output("runuser -u postgres -- psql -XAtd odoo -c " + shlex.quote(sql))


def test_the_live_matrix_equals_the_declared_roles(host, roled):
    row = matrix(host)
    observed = row["observed"]
    roles = [r["key"] for r in DEFAULTS["odoo_access_roles"]]
    assert sorted(observed["matrix"]) == sorted(roles)
    for key in roles:
        for model, cell in observed["matrix"][key].items():
            assert cell["live"] == cell["declared"], (key, model, cell, observed["differences"])
    # IT Admin's rights are the no-PHI rule's only
    assert observed["matrix"]["it_admin"]["res.partner"]["rules"]["r"] == [
        DEFAULTS["odoo_access_no_phi_domains"]["res.partner"]]
    mine = [d for d in observed["differences"]
            if d.startswith("role ") or any(d.startswith(f"user {u}:") for u in list(ROLE_USERS) + ["hipaa-admin"])]
    assert mine == [], mine
    # the other test files' users hold Odoo's base groups and no role: named
    assert "user nurse-nototp: holds no role" in observed["differences"]
    assert row["status"] == "fail"


def test_a_group_added_by_hand_turns_the_matrix_red_until_taken_away(host, roled):
    group_of(host, "role-nurse", "base.group_partner_manager", add=True)
    try:
        differences = matrix(host)["observed"]["differences"]
        assert "user role-nurse: groups beyond their roles: base.group_partner_manager" in differences, differences
    finally:
        group_of(host, "role-nurse", "base.group_partner_manager", add=False)
    assert not [d for d in matrix(host)["observed"]["differences"] if d.startswith("user role-nurse:")]


def test_it_admin_reads_no_patient(roled):
    lab_, patients = roled
    client = login_with_totp(lab_, "role-itadmin").client
    patient = patients["odoo-hipaa-access-patient"]
    answer = client.call_kw("res.partner", "web_read", [[patient]], {"specification": {"name": {}}})
    assert error_name(answer) == ACCESS_DENIED, answer
    own = client.call_kw("res.users", "read", [[lab_.users["role-itadmin"]], ["partner_id"]])["result"][0]["partner_id"][0]
    found = client.call_kw("res.partner", "search", [[["id", "in", [patient, own]]]])
    assert found.get("result") == [own], found


def test_a_nurse_reads_and_writes_a_patient_but_neither_creates_nor_deletes(host, roled):
    lab_, patients = roled
    client = login_with_totp(lab_, "role-nurse").client
    patient = patients["odoo-hipaa-access-patient"]
    answer = client.call_kw("res.partner", "web_read", [[patient]], {"specification": {"name": {}}})
    assert answer.get("result") and answer["result"][0]["id"] == patient, answer
    assert client.call_kw("res.partner", "write", [[patient], {"comment": "seen by the nurse"}]).get("result") is True
    assert error_name(client.call_kw("res.partner", "create", [{"name": "Walk-in (lab)"}])) == ACCESS_DENIED
    assert error_name(client.call_kw("res.partner", "unlink", [[patient]])) == ACCESS_DENIED
    assert host.check_output(f"runuser -u postgres -- psql -XAtd odoo -c 'SELECT count(*) FROM res_partner WHERE id = {int(patient)}'") == "1"


def test_the_privacy_officer_deletes_a_patient_but_writes_none(host, roled):
    lab_, patients = roled
    client = login_with_totp(lab_, "role-privacy").client
    kept, deleted = patients["odoo-hipaa-access-patient"], patients["odoo-hipaa-access-deleted"]
    assert error_name(client.call_kw("res.partner", "write", [[kept], {"comment": "changed"}])) == ACCESS_DENIED
    assert client.call_kw("res.partner", "unlink", [[deleted]]).get("result") is True
    assert host.check_output(f"runuser -u postgres -- psql -XAtd odoo -c 'SELECT count(*) FROM res_partner WHERE id = {int(deleted)}'") == "0"


def test_privileged_users_without_a_passkey_are_named_until_one_is_registered(host, roled):
    lab_, _patients = roled
    row = matrix(host, "odoo_privileged_passkey")
    assert {"role-itadmin", "role-privacy", "hipaa-admin"} <= set(row["observed"]["without_passkey"]), row
    assert "role-nurse" not in row["observed"]["passkeys"] and row["status"] == "fail"
    uid = int(lab_.users["role-itadmin"])
    credential = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    public_key = base64.urlsafe_b64encode(os.urandom(77)).decode()
    sql = ("INSERT INTO auth_passkey_key (name, credential_identifier, public_key, sign_count, create_uid, write_uid,"
           f" create_date, write_date) VALUES ('lab key', '{credential}', '{public_key}', 0, {uid}, {uid}, now(), now())")
    host.check_output("runuser -u postgres -- psql -XAtd odoo -c " + shlex.quote(sql))
    try:
        row = matrix(host, "odoo_privileged_passkey")
        assert row["observed"]["passkeys"]["role-itadmin"] == 1 and "role-itadmin" not in row["observed"]["without_passkey"]
    finally:
        host.check_output("runuser -u postgres -- psql -XAtd odoo -c "
                          + shlex.quote(f"DELETE FROM auth_passkey_key WHERE credential_identifier = '{credential}'"))


def active_of(host, pid: int) -> str:
    return host.check_output(f"runuser -u postgres -- psql -XAtd odoo -c 'SELECT active FROM res_partner WHERE id = {int(pid)}'")


def test_archiving_a_patient_is_the_deleting_roles_alone(host, roled):
    lab_, patients = roled
    patient = patients["odoo-hipaa-access-patient"]
    since = time.time()
    nurse = login_with_totp(lab_, "role-nurse").client
    assert error_name(nurse.call_kw("res.partner", "action_archive", [[patient]])) == ACCESS_DENIED
    assert active_of(host, patient) == "t"
    privacy = login_with_totp(lab_, "role-privacy").client
    # archiving carries no other write with it
    assert error_name(privacy.call_kw("res.partner", "write", [[patient], {"active": False, "comment": "x"}])) == ACCESS_DENIED
    try:
        answer = privacy.call_kw("res.partner", "action_archive", [[patient]])
        assert "error" not in answer, answer
        assert active_of(host, patient) == "f"
        assert "error" not in privacy.call_kw("res.partner", "action_unarchive", [[patient]])
        assert active_of(host, patient) == "t"
    finally:
        host.run("runuser -u postgres -- psql -XAtd odoo -c "
                 + shlex.quote(f"UPDATE res_partner SET active = true WHERE id = {int(patient)}"))
    journal = host.check_output(f"journalctl -t odoo --since @{int(since) - 2} --no-pager -o cat")
    assert "HIPAA archive refused: archive res.partner of [%d] by role-nurse" % patient in journal, journal[-2000:]
    assert "HIPAA archive: archive res.partner of [%d] by role-privacy" % patient in journal, journal[-2000:]


def test_a_company_contact_is_archived_by_whoever_writes_it(host, roled):
    """The guard keeps to records that hold PHI: a company's contact (no PHI by
    odoo_access_no_phi_domains) is archived by a front-desk user, who writes contacts."""
    lab_, patients = roled
    company = patients["odoo-hipaa-access-company"]
    front = login_with_totp(lab_, "role-frontdesk").client
    try:
        assert "error" not in front.call_kw("res.partner", "action_archive", [[company]])
        assert active_of(host, company) == "f"
    finally:
        host.run("runuser -u postgres -- psql -XAtd odoo -c "
                 + shlex.quote(f"UPDATE res_partner SET active = true WHERE id = {int(company)}"))



def test_it_admin_creates_a_user_but_no_patient_contact(host, roled):
    """Odoo makes a new user's contact before the user exists; the addon makes
    it for a user-administrator, so IT Admin creates users in Odoo's form. A
    bare contact (a patient's, for all the rule can tell) stays refused, and so
    does a new user on a patient's contact, which would make it readable."""
    lab_, patients = roled
    client = login_with_totp(lab_, "role-itadmin").client
    login = f"itadmin-made-{int(time.time() * 1000)}"
    made = client.call_kw("res.users", "create", [{"name": "Made By IT Admin (lab)", "login": login}])
    assert isinstance(made.get("result"), int), made
    row = host.check_output("runuser -u postgres -- psql -XAtd odoo -c " + shlex.quote(
        f"SELECT p.name FROM res_users u JOIN res_partner p ON p.id = u.partner_id WHERE u.login = '{login}'"))
    assert row == "Made By IT Admin (lab)"
    assert error_name(client.call_kw("res.partner", "create", [{"name": "Walk-in by IT (lab)"}])) == ACCESS_DENIED
    patient = patients["odoo-hipaa-access-patient"]
    onto = client.call_kw("res.users", "create", [{"login": login + "-p", "partner_id": patient}])
    assert error_name(onto) == ACCESS_DENIED, onto
    assert host.check_output("runuser -u postgres -- psql -XAtd odoo -c " + shlex.quote(
        f"SELECT count(*) FROM res_users WHERE partner_id = {int(patient)}")) == "0"
    host.run("runuser -u postgres -- psql -XAtd odoo -c "
             + shlex.quote(f"UPDATE res_users SET active = false WHERE login = '{login}'"))


PASSKEY_PARAM_SCRIPT = r'''
import json
env["ir.config_parameter"].sudo().set_param("odoo_hipaa.passkey_required_groups", __VALUE__)
env.cr.commit()
env.registry.clear_cache()
env.registry.signal_changes()
print("ODOO_HIPAA_TEST " + json.dumps({"set": __VALUE__}))
'''


def test_with_passkeys_required_a_privileged_password_login_is_refused(host, roled):
    lab_, _patients = roled
    set_to = PASSKEY_PARAM_SCRIPT.replace
    odoo_shell(host, set_to("__VALUE__", repr(ROLE + "it_admin,odoo_hipaa_roles.role_privacy_officer")))
    since = time.time()
    try:
        client = lab_.client()
        result = client.login("odoo", "role-itadmin", PASSWORD)
        assert not result.mfa_required and not result.redirected, (result.status, result.location)
        assert "Wrong login/password" in result.error, result.error
        # a nurse (no privileged role) still reaches the second factor
        assert lab_.client().login("odoo", "role-nurse", PASSWORD).mfa_required
    finally:
        odoo_shell(host, set_to("__VALUE__", repr("")))
    journal = host.check_output(f"journalctl -t odoo --since @{int(since) - 2} --no-pager -o cat")
    assert "HIPAA passkey required: login of role-itadmin" in journal, journal[-2000:]
    assert login_with_totp(lab_, "role-itadmin").client.uid() == lab_.users["role-itadmin"]

