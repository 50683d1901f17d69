"""The audit-log review's database half (role privacy_review) on the real Odoo:
users work through nginx as a browser's RPC does, Odoo's auditlog records it,
and the review, run as its own least-privilege PostgreSQL role, finds what a
privacy officer must see (§164.308(a)(1)(ii)(D), §164.312(b)):

- a bulk read (250 patient records in one day), an export of 60, a read of a
  VIP-tagged patient, and work outside business hours by a non-clinical user;
- nothing for a clinical user's normal work (a few reads);
- its lines close with a digest that matches them (what the aggregator checks);
- its role reads named columns only: a patient's name or note is refused;
- the timer's own service runs in its sandbox and logs under its tag.

Refused input (before any change) is tested at the end of the file."""

from __future__ import annotations

import datetime as dt
import json
import shlex

import pytest
from test_safeguards import lab, login_with_totp, odoo_shell  # noqa: F401  pylint: disable=unused-import

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import privacy_review as pr

testinfra_hosts = ["odoo"]

TOOL = "/usr/local/sbin/odoo-hipaa-privacy-review"
CONFIG = "/etc/odoo-hipaa-privacy-review/review.json"
REVIEW_USER = "odoo_hipaa_review"
PATIENTS = 250            # privacy_review_bulk_reads_per_day is 200
EXPORTED = 60             # privacy_review_export_records is 50
# What the form view reads. Stored fields: auditlog 18.0 writes no row for a
# read of computed fields alone (a read of display_name only is not logged).
SPEC = {"specification": {"name": {}, "email": {}}}

# Inside Odoo: PATIENTS review patients and one tagged VIP (idempotent).
PATIENTS_SCRIPT = r'''
import json
Partner = env["res.partner"].sudo().with_context(active_test=False)
Tag = env["res.partner.category"].sudo()
vip = Tag.search([("name", "=", "VIP")], limit=1) or Tag.create({"name": "VIP"})
have = {p.ref: p.id for p in Partner.search([("ref", "=like", "odoo-hipaa-review-%")])}
for i in range(__N__):
    ref = "odoo-hipaa-review-%03d" % i
    if ref not in have:
        have[ref] = Partner.create({"name": "Review Patient %03d (lab)" % i, "ref": ref}).id
vip_patient = Partner.search([("ref", "=", "odoo-hipaa-review-vip")], limit=1) or Partner.create(
    {"name": "VIP Patient (lab)", "ref": "odoo-hipaa-review-vip"})
vip_patient.write({"category_id": [(4, vip.id)], "active": True})
# Odoo 17+ lets only base.group_allow_export export; the test's nurse exports.
Users = env["res.users"].sudo()
groups_field = "group_ids" if "group_ids" in Users._fields else "groups_id"
nurse = Users.search([("login", "=", "nurse-totp")], limit=1)
allow = env.ref("base.group_allow_export", raise_if_not_found=False)
if allow and allow not in nurse[groups_field]:
    nurse.write({groups_field: [(4, allow.id)]})
env.cr.commit()
print("ODOO_HIPAA_TEST " + json.dumps({"ids": [have["odoo-hipaa-review-%03d" % i] for i in range(__N__)],
                                       "vip": vip_patient.id}))
'''


def as_reviewer(host, argv: str):
    return host.run(f"runuser -u {REVIEW_USER} -- {argv}")


def psql_as_reviewer(host, sql: str):
    return as_reviewer(host, "psql -XAt -d odoo -c " + shlex.quote(sql))


@pytest.fixture(scope="module")
def reviewed(host, lab):  # noqa: F811
    """The users' work, then the database half run for the current period
    with business hours that exclude now (a one-minute window 12 h away)."""
    made = odoo_shell(host, PATIENTS_SCRIPT.replace("__N__", str(PATIENTS)))
    ids, vip = made["ids"], made["vip"]

    nurse = login_with_totp(lab, "nurse-totp").client
    answer = nurse.call_kw("res.partner", "web_read", [ids], SPEC)
    assert len(answer.get("result") or []) == PATIENTS, f"the bulk read failed: {str(answer)[:500]}"
    answer = nurse.call_kw("res.partner", "export_data", [ids[:EXPORTED], ["name"]])
    assert len((answer.get("result") or {}).get("datas", [])) == EXPORTED, f"the export failed: {str(answer)[:500]}"
    answer = nurse.call_kw("res.partner", "web_read", [[vip]], SPEC)
    assert answer.get("result"), f"the VIP read failed: {answer}"

    clinician = login_with_totp(lab, "clinician-totp").client
    answer = clinician.call_kw("res.partner", "web_read", [ids[-3:]], SPEC)
    assert len(answer.get("result") or []) == 3, f"the clinician's reads failed: {answer}"

    cfg = json.loads(host.check_output(f"cat {CONFIG}"))
    away = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=12)).astimezone(pr.zone(cfg["timezone"]))
    cfg["business_hours"] = {"days": list(pr.DAYS), "start": f"{away:%H}:00", "end": f"{away:%H}:01"}
    path = "/tmp/odoo-hipaa-review-test.json"
    host.run(f"printf %s {shlex.quote(json.dumps(cfg))} > {path} && chmod 0644 {path}")
    here = dt.datetime.now(pr.zone(cfg["timezone"]))
    label = f"{here:%Y-%m}" if cfg["period"] == "monthly" else "{0}-W{1:02d}".format(*here.isocalendar()[:2])
    run = as_reviewer(host, f"{TOOL} db --emit stdout --config {path} --period {label}")
    assert run.rc == 0, f"the database half failed: {run.stdout[-2000:]} {run.stderr[-2000:]}"
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    return {"lines": lines, "label": label, "ids": ids, "vip": vip}


def findings_of(reviewed, kind, login):
    out = []
    for line in reviewed["lines"]:
        obj = json.loads(line)
        if obj.get("kind") == kind and obj.get("login") == login:
            out.append(obj)
    return out


def test_a_bulk_read_is_found(reviewed):
    found = findings_of(reviewed, "bulk_read", "nurse-totp")
    assert found and found[0]["count"] >= PATIENTS, reviewed["lines"][:5]


def test_an_export_is_found_with_its_size(reviewed):
    assert [f["count"] for f in findings_of(reviewed, "export", "nurse-totp")] == [EXPORTED], reviewed["lines"][:5]


def test_a_read_of_a_flagged_patient_is_found(reviewed):
    found = findings_of(reviewed, "flagged_read", "nurse-totp")
    assert found and reviewed["vip"] in found[0]["records"], found


def test_after_hours_work_of_a_non_clinical_user_is_found(reviewed):
    assert findings_of(reviewed, "after_hours", "nurse-totp"), reviewed["lines"][:5]


def test_a_clinical_users_normal_work_gives_no_finding(reviewed):
    mine = [line for line in reviewed["lines"] if '"login":"clinician-totp"' in line]
    assert mine == []


def test_the_lines_close_with_a_digest_that_matches_them(reviewed):
    found, done, state = pr.read_database_half(reviewed["lines"], reviewed["label"])
    assert state == "complete" and done["auditlog_rows"] >= PATIENTS + 1 and len(found) == len(reviewed["lines"]) - 1


def test_the_review_role_reads_named_columns_only(host):
    assert psql_as_reviewer(host, "SELECT count(id) FROM res_partner").rc == 0     # control: what it is given
    for sql in ("SELECT name FROM res_partner LIMIT 1", "SELECT comment FROM res_partner LIMIT 1",
                "SELECT password FROM res_users LIMIT 1", "SELECT old_value_text FROM auditlog_log_line LIMIT 1",
                "UPDATE auditlog_log SET method = 'x' WHERE false"):
        refused = psql_as_reviewer(host, sql)
        assert refused.rc != 0 and "permission denied" in refused.stderr, f"{sql}: {refused.rc} {refused.stderr}"


def test_the_timer_service_runs_sandboxed_and_logs_under_its_tag(host):
    since = host.check_output("date +%s")
    start = host.run("systemctl start odoo-hipaa-privacy-review-db.service")
    assert start.rc == 0, host.run("journalctl -u odoo-hipaa-privacy-review-db --no-pager -n 30").stdout
    lines = host.check_output(f"journalctl -t odoo-hipaa-review --since @{since} --no-pager -o cat").splitlines()
    done = [json.loads(line) for line in lines if '"kind":"db_done"' in line]
    assert done, lines
    last = json.loads(host.check_output("cat /var/lib/odoo-hipaa-privacy/db-last.json"))
    assert last["result"] == "done" and last["period"] == done[-1]["period"] and last["sha256"] == done[-1]["sha256"]
    assert host.service("odoo-hipaa-privacy-review-db.timer").is_enabled
    assert host.check_output("systemctl is-active odoo-hipaa-privacy-review-db.timer") == "active"


# --- refused input, before any change --------------------------------------------------

WATCHED_FILES = [CONFIG, "/etc/systemd/system/odoo-hipaa-privacy-review-db.service",
                 "/etc/systemd/system/odoo-hipaa-privacy-review-db.timer"]
WATCHED_COMMANDS = [
    "runuser -u postgres -- psql -XAtd odoo -c \"SELECT table_name || '.' || column_name FROM "
    "information_schema.column_privileges WHERE grantee = 'odoo_hipaa_review' ORDER BY 1\"",
    "getent passwd odoo_hipaa_review",
]
REFUSED = {
    "a quarterly review": ({"privacy_review_period": "quarterly"}, "value of privacy_review_period must be one of: monthly, weekly"),
    "an unknown time zone": ({"privacy_review_timezone": "Europe/Atlantis"}, "privacy_review_timezone: unknown time zone 'Europe/Atlantis'"),
    "business hours that end before they start": ({"privacy_review_business_hours": {"days": ["mon"], "start": "19:00", "end": "07:00"}}, "privacy_review_business_hours: business hours start 19:00 is not before their end 07:00"),
    "a bulk-read threshold of 0": ({"privacy_review_bulk_reads_per_day": 0}, "privacy_review_bulk_reads_per_day is 0; it must be a whole number of at least 1"),
    "a flagged column res_partner lacks": ({"privacy_review_flagged_partner_columns": ["x_not_a_column"]}, "privacy_review_flagged_partner_columns names x_not_a_column, which res_partner in odoo does not have"),
    "a flagged column that smuggles SQL": ({"privacy_review_flagged_partner_columns": ["id; DROP TABLE res_partner"]}, "privacy_review_flagged_partner_columns: 'id; DROP TABLE res_partner' is not a column name"),
    "a database without auditlog": ({"privacy_review_database": "postgres"}, "the database postgres on odoo-d13 has no Odoo auditlog"),
    "the readers group adm": ({"privacy_review_readers_group": "adm"}, "privacy_review_readers_group is \"adm\""),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("privacy_review", REFUSED, ["odoo-d13"], WATCHED_FILES, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_review_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)
