"""Unit tests for the go-live gate (plugins/module_utils/golive.py, the filters
golive_problems and golive_verdict, role evidence's entry point golive): every
item state from fabricated evidence rows and attestations, the inputs refused
before any host is read, and the verdict the playbook's exit code follows."""

import datetime as dt
import importlib.util
import pathlib

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import golive
from ansible_collections.onprem.odoo_hipaa.plugins.filter.golive_problems import golive_problems
from ansible_collections.onprem.odoo_hipaa.plugins.filter.golive_verdict import golive_verdict

_ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("hipaa_evidence", _ROOT / "plugins" / "modules" / "hipaa_evidence.py")
ev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ev)

NOW = "2026-12-03T12:00:00Z"
TODAY = dt.date(2026, 12, 3)
APP, LOGS = "erp-app-01", "logs-01"
# Rows of issue 19 that other parts build (the seal, the review, the matrix, ACME).
PLANNED_ROWS = {"log_seal", "privacy_review", "odoo_access_matrix", "tls_certificate", "acme_renewal"}
TECHNICAL = [i for i in golive.ITEMS if not i.get("attested")]


def row(check, host=APP, status="pass", **extra):
    """One evidence row as role evidence writes it (report.yml: the module's row plus the host)."""
    out = {"control": "TS-1", "citation": "§164.312(e)(1)", "control_title": "Transmission security", "check": check,
           "title": check, "status": status, "observed": "seen", "expected": "wanted",
           "checked_at": "2026-12-03T11:00:00+00:00", "host": host}
    out.update(extra)
    return out


def evidence(rows=None, generated_at="2026-12-03T11:00:00Z", skip=(), override=None):
    """An evidence report in which every row the checklist needs passes, except what is skipped or overridden."""
    if rows is None:
        rows = []
        for item in TECHNICAL:
            for check in item["rows"]:
                if check not in skip:
                    rows.append(row(check, host=LOGS if check in ("log_retention", "log_seal") else APP))
        for r in override or ():
            rows = [x for x in rows if x["check"] != r["check"] or x["host"] != r["host"]] + [r]
    return {"summary": {"generated_at": generated_at, "collection": "onprem.odoo_hipaa", "hosts": [APP, LOGS],
                        "passed": 0, "failed": 0, "waived": 0}, "controls": rows}


def attested(days_ago=30, **override):
    """Complete, fresh attestations of every administrative item (no vendor)."""
    date = (TODAY - dt.timedelta(days=days_ago)).isoformat()
    out = {key: {"document": "DOC-" + key, "owner": "J. Doe, Privacy Officer", "date": date}
           for key in golive.ATTESTED_KEYS if key != "baa"}
    out["baa"] = []
    out.update(override)
    return out


def judge(ev_report=None, attestations=None, waivers=None, vendors=(), **kw):
    return golive.verdict(evidence() if ev_report is None else ev_report,
                          attested() if attestations is None else attestations,
                          waivers or [], list(vendors) if vendors is not None else None, now=NOW, **kw)


def item(result, key):
    return next(i for i in result["items"] if i["key"] == key)


# --- the checklist itself ---------------------------------------------------------------

def test_the_checklist_has_the_fourteen_items_of_the_design():
    assert golive.ITEM_KEYS == (
        "tls_hsts", "disk_encryption", "session_limits", "mfa", "audit_log_6y", "admin_disabled", "monthly_review",
        "access_matrix", "cert_auto_renewal", "baa", "risk_analysis", "training", "sanction_policy", "breach_tabletop")
    assert golive.ATTESTED_KEYS == ("baa", "risk_analysis", "training", "sanction_policy", "breach_tabletop")
    for i in golive.ITEMS:
        assert i["title"] and i["citation"].startswith("§164.")
        assert bool(i.get("attested")) != bool(i.get("rows")), i["key"]
    assert set(golive.ATTESTATION_MAX_AGE_DAYS) == set(golive.ATTESTED_KEYS) - {"baa"}
    assert set(golive.ATTESTATION_MAX_AGE_DAYS.values()) == {365}


def test_every_row_the_checklist_needs_is_a_check_of_the_evidence_module_or_a_planned_one():
    needed = {check for i in TECHNICAL for check in i["rows"]}
    unknown = sorted(needed - set(ev.CHECKS) - PLANNED_ROWS)
    assert not unknown, "rows that no evidence check produces: %s" % unknown


def test_the_role_documents_every_item():
    spec = (_ROOT / "roles" / "evidence" / "meta" / "argument_specs.yml").read_text()
    readme = (_ROOT / "roles" / "evidence" / "README.md").read_text()
    for key in golive.ITEM_KEYS:
        assert key in spec, "argument_specs.yml does not name the go-live item %s" % key
        assert "`%s`" % key in readme, "roles/evidence/README.md does not name the go-live item %s" % key


# --- technical items from evidence rows ----------------------------------------------------

def test_every_technical_item_is_green_when_its_rows_pass_everywhere():
    result = judge()
    for i in TECHNICAL:
        got = item(result, i["key"])
        assert got["state"] == "green", (i["key"], got["reason"])
        assert got["reason"].startswith("rows " + ", ".join(i["rows"]) + " passed on ")
    assert result["verdict"] == "green" and result["passed"] and result["red"] == []


@pytest.mark.parametrize("key", [i["key"] for i in TECHNICAL])
def test_a_row_absent_from_every_host_makes_its_item_red(key):
    missing = golive._item(key)["rows"][-1]
    got = item(judge(evidence(skip=(missing,))), key)
    assert got["state"] == "red"
    assert "not evidenced: row %s absent" % missing in got["reason"]


def test_a_row_failed_on_one_host_is_red_even_when_it_passes_on_another():
    report = evidence(override=[row("odoo_mfa", host="erp-app-02", status="fail", observed="policy: optional")])
    report["controls"].append(row("odoo_mfa", host=APP))
    got = item(judge(report), "mfa")
    assert got["state"] == "red" and got["reason"] == "row odoo_mfa failed on erp-app-02"
    assert any("policy: optional" in d for d in got["details"])


def test_a_row_waived_in_the_evidence_makes_its_item_amber():
    waived = row("luks_volumes", status="waived", waiver="SAN self-encrypting drives, risk analysis RA-7")
    result = judge(evidence(override=[waived]))
    got = item(result, "disk_encryption")
    assert got["state"] == "amber" and got["reason"] == "row luks_volumes waived on %s" % APP
    assert any("SAN self-encrypting drives" in d for d in got["details"])
    assert result["verdict"] == "amber" and result["passed"]


def test_a_passing_row_with_a_waiver_is_still_green():
    got = item(judge(evidence(override=[row("hsts", waiver="not needed")])), "tls_hsts")
    assert got["state"] == "green"


def test_a_red_beside_a_waived_row_keeps_the_item_red():
    report = evidence(override=[row("luks_volumes", status="waived", waiver="SAN drives, written reason"),
                                row("pgbackrest_encrypted", status="fail")])
    assert item(judge(report), "disk_encryption")["state"] == "red"


def test_stale_evidence_turns_every_technical_item_red():
    result = judge(evidence(generated_at="2026-12-02T10:00:00Z"))
    for i in TECHNICAL:
        got = item(result, i["key"])
        assert got["state"] == "red" and "is 26 h old (at most 24 h)" in got["reason"], i["key"]
    assert item(result, "risk_analysis")["state"] == "green"
    assert result["evidence"]["stale"]
    # 0 judges evidence of any age
    assert judge(evidence(generated_at="2026-01-01T00:00:00Z"), evidence_max_age_hours=0)["passed"]


def test_evidence_without_a_generation_time_or_from_the_future_is_not_judged():
    assert not judge(evidence(generated_at=None))["passed"]
    assert "in the future" in item(judge(evidence(generated_at="2026-12-04T12:00:00Z")), "mfa")["reason"]


def test_what_is_not_an_evidence_report_is_an_error():
    with pytest.raises(ValueError, match="not an evidence report"):
        golive.verdict({"rows": []}, {}, [], [], now=NOW)
    with pytest.raises(AnsibleFilterError, match="golive_verdict: /tmp/x.json is not an evidence report"):
        golive_verdict([], {}, [], [], NOW, "/tmp/x.json")


# --- attested items ----------------------------------------------------------------------

@pytest.mark.parametrize("days, state", [(0, "green"), (30, "green"), (365, "green"), (366, "red"), (400, "red")])
def test_the_risk_analysis_is_green_when_fresh_and_red_when_stale(days, state):
    signed = (TODAY - dt.timedelta(days=days)).isoformat()
    got = item(judge(attestations=attested(risk_analysis={"document": "RA-2026", "owner": "J. Doe", "date": signed})),
               "risk_analysis")
    assert got["state"] == state
    if state == "red":
        assert got["reason"] == "RA-2026 (J. Doe), %s is %d days old (at most 365): attest again" % (signed, days)
    else:
        assert got["reason"] == "RA-2026 (J. Doe), %s, %d days ago (at most 365)" % (signed, days)


@pytest.mark.parametrize("key", ["risk_analysis", "training", "sanction_policy", "breach_tabletop"])
def test_every_attested_item_is_red_when_missing_or_stale(key):
    missing = attested()
    del missing[key]
    got = item(judge(attestations=missing), key)
    assert got["state"] == "red" and got["reason"].startswith("not attested: golive_attestations.%s" % key)
    assert item(judge(attestations=attested(days_ago=366)), key)["state"] == "red"
    assert item(judge(attestations=attested(days_ago=365)), key)["state"] == "green"


def test_a_future_dated_attestation_is_red_and_refused():
    future = attested(training={"document": "TR", "owner": "J. Doe", "date": "2026-12-04"})
    got = item(judge(attestations=future), "training")
    assert got["state"] == "red" and "in the future" in got["reason"]
    assert golive.problems(future, [], [], today=TODAY) == [
        "golive_attestations.training is dated 2026-12-04, in the future (today is 2026-12-03 UTC)"]


def test_an_incomplete_attestation_is_red_and_refused():
    partial = attested(sanction_policy={"document": "POL-12", "owner": " ", "date": "2026-01-10"})
    assert item(judge(attestations=partial), "sanction_policy")["state"] == "red"
    assert golive.problems(partial, today=TODAY) == ["golive_attestations.sanction_policy has no owner"]


def test_yaml_dates_are_accepted_like_iso_strings():
    # An unquoted date in the inventory's YAML is a datetime.date.
    yaml_dates = attested(risk_analysis={"document": "RA", "owner": "J. Doe", "date": dt.date(2026, 9, 15)},
                          baa=[{"vendor": "Hosting Co", "document": "BAA-1", "owner": "J. Doe",
                                "date": dt.date(2026, 10, 1), "expires": dt.date(2028, 10, 1)}])
    assert golive.problems(yaml_dates, [], ["Hosting Co"], today=TODAY) == []
    result = judge(attestations=yaml_dates, vendors=["Hosting Co"])
    assert item(result, "risk_analysis")["state"] == "green"
    assert item(result, "baa")["state"] == "green"
    assert item(result, "risk_analysis")["attestation"]["date"] == "2026-09-15"


# --- BAAs ---------------------------------------------------------------------------------

def baa(vendor, expires="2028-10-01", date="2026-10-01", document="BAA-1"):
    return {"vendor": vendor, "document": document, "owner": "J. Doe, Privacy Officer", "date": date, "expires": expires}


def test_every_vendor_with_a_current_baa_is_green():
    got = item(judge(attestations=attested(baa=[baa("Hosting Co"), baa("backup co", document="BAA-2")]),
                     vendors=["Hosting Co", "Backup Co"]), "baa")
    assert got["state"] == "green"
    assert got["reason"] == "BAAs with Hosting Co (BAA-1, until 2028-10-01), Backup Co (BAA-2, until 2028-10-01)"


def test_an_expired_baa_is_red():
    got = item(judge(attestations=attested(baa=[baa("Hosting Co", expires="2026-12-02")]), vendors=["Hosting Co"]), "baa")
    assert got["state"] == "red" and got["reason"] == "BAA BAA-1 with Hosting Co expired on 2026-12-02"
    # the last day of a BAA still counts, and a renewed one wins over the expired one
    assert item(judge(attestations=attested(baa=[baa("Hosting Co", expires="2026-12-03")]),
                      vendors=["Hosting Co"]), "baa")["state"] == "green"
    renewed = [baa("Hosting Co", expires="2026-06-30", date="2024-07-01"), baa("Hosting Co", document="BAA-9")]
    assert item(judge(attestations=attested(baa=renewed), vendors=["Hosting Co"]), "baa")["state"] == "green"


def test_a_vendor_without_a_baa_is_red_but_not_refused():
    atts = attested(baa=[baa("Hosting Co")])
    assert golive.problems(atts, [], ["Hosting Co", "Backup Co"], today=TODAY) == []
    got = item(judge(attestations=atts, vendors=["Hosting Co", "Backup Co"]), "baa")
    assert got["state"] == "red" and got["reason"] == "no BAA with Backup Co"


def test_vendors_undeclared_are_red_and_an_empty_list_is_green():
    got = item(judge(vendors=None), "baa")
    assert got["state"] == "red" and got["reason"].startswith("golive_vendors is not declared")
    got = item(judge(vendors=[]), "baa")
    assert got["state"] == "green" and "golive_vendors is empty" in got["reason"]


def test_vendors_given_as_text_are_red_not_split_into_letters():
    got = item(golive.verdict(evidence(), attested(baa=[baa("Hosting Co")]), [], "Hosting Co", now=NOW), "baa")
    assert got["state"] == "red" and got["reason"] == "golive_vendors is not a list of vendor names"


def test_a_baa_for_an_undeclared_vendor_is_noted():
    got = item(judge(attestations=attested(baa=[baa("Old Co")]), vendors=[]), "baa")
    assert got["state"] == "green" and got["details"] == ["BAA BAA-1 with Old Co, a vendor not in golive_vendors"]


def test_baa_entries_are_refused_when_incomplete_or_inconsistent():
    bad = attested(baa=[{"vendor": "Hosting Co", "document": "BAA-1", "owner": "J. Doe", "date": "2026-10-01"},
                        baa("Backup Co", expires="2026-01-01"),
                        baa("Tape Co", date="2027-01-01", expires="2029-01-01")])
    assert golive.problems(bad, [], ["Hosting Co", "Backup Co", "Tape Co"], today=TODAY) == [
        "golive_attestations.baa[0] (Hosting Co) has no expires",
        "golive_attestations.baa[1] (Backup Co) expires (2026-01-01) before it was signed (2026-10-01)",
        "golive_attestations.baa[2] (Tape Co) is dated 2027-01-01, in the future (today is 2026-12-03 UTC)"]
    got = item(judge(attestations=bad, vendors=["Hosting Co"]), "baa")
    assert got["state"] == "red" and got["reason"] == "BAA with Hosting Co refused: has no expires"


# --- waivers --------------------------------------------------------------------------------

def waiver(key, reason="lab: not built yet, issue 19 parts 1, 2 and 4", approved_by="lab", date="2026-12-03"):
    return {"item": key, "reason": reason, "approved_by": approved_by, "date": date}


def test_a_written_waiver_makes_a_red_item_amber():
    result = judge(evidence(skip=("privacy_review",)), waivers=[waiver("monthly_review")])
    got = item(result, "monthly_review")
    assert got["state"] == "amber"
    assert got["reason"] == ("waived by lab on 2026-12-03: lab: not built yet, issue 19 parts 1, 2 and 4 "
                             "[not evidenced: row privacy_review absent]")
    assert got["waiver"] == {"reason": "lab: not built yet, issue 19 parts 1, 2 and 4", "approved_by": "lab",
                             "date": "2026-12-03"}
    assert result["passed"] and result["verdict"] == "amber"


def test_a_waiver_covers_an_attested_item_too():
    missing = attested()
    del missing["breach_tabletop"]
    booked = waiver("breach_tabletop", reason="Tabletop booked for 2027-01-15, approved by the board")
    got = item(judge(attestations=missing, waivers=[booked]), "breach_tabletop")
    assert got["state"] == "amber" and "not attested" in got["reason"]


def test_a_waiver_of_a_green_item_leaves_it_green():
    got = item(judge(waivers=[waiver("mfa")]), "mfa")
    assert got["state"] == "green" and "not needed" in got["details"][-1]


@pytest.mark.parametrize("bad, problem", [
    (waiver("monthly_review", reason="too short"),
     "golive_waivers[0] (monthly_review) has a reason shorter than 20 characters: write why the item is met otherwise"),
    (waiver("monthly_review", approved_by=""), "golive_waivers[0] (monthly_review) has no approved_by"),
    (waiver("monthly_review", date="2026-12-04"),
     "golive_waivers[0] (monthly_review) is dated 2026-12-04, in the future (today is 2026-12-03 UTC)"),
    (waiver("monthly_review", date="03.12.2026"),
     "golive_waivers[0] (monthly_review) date '03.12.2026' is not an ISO date (YYYY-MM-DD)"),
    (waiver("go_live"), "golive_waivers[0] (go_live) names an unknown item (items: tls_hsts,"),
    ({"item": "mfa"}, "golive_waivers[0] (mfa) has no reason, no approved_by, no date"),
    ("mfa", "golive_waivers[0] is not a mapping of item, reason, approved_by, date"),
])
def test_bad_waivers_are_refused_and_do_not_count(bad, problem):
    problems = golive.problems(attested(), [bad], [], today=TODAY)
    assert problems and problems[0].startswith(problem), problems
    # the judge never lets a refused waiver turn an item amber
    key = bad["item"] if isinstance(bad, dict) else "mfa"
    if key in golive.ITEM_KEYS and key != "mfa":
        assert item(judge(evidence(skip=("privacy_review",)), waivers=[bad]), key)["state"] == "red"


def test_an_item_waived_twice_is_refused():
    assert golive.problems({}, [waiver("access_matrix"), waiver("access_matrix")], [], today=TODAY) == [
        "golive_waivers[1] (access_matrix) waives an item already waived"]


# --- other refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("attestations, problem", [
    ({"pen_test": {"document": "PT", "owner": "x", "date": "2026-01-01"}},
     "golive_attestations: unknown item 'pen_test' (attested items: baa, risk_analysis, training, sanction_policy, "
     "breach_tabletop)"),
    ({"tls_hsts": {"document": "x", "owner": "x", "date": "2026-01-01"}},
     "golive_attestations: tls_hsts is judged from the evidence rows (tls_protocols, tls_weak_cipher, hsts, "
     "cookie_flags), not attested"),
    ({"risk_analysis": {"owner": "x", "date": "2026-01-01"}}, "golive_attestations.risk_analysis has no document"),
    ({"risk_analysis": {"document": "RA", "owner": "x"}}, "golive_attestations.risk_analysis has no date"),
    ({"risk_analysis": {"document": "RA", "owner": "x", "date": "2026-13-01"}},
     "golive_attestations.risk_analysis date '2026-13-01' is not an ISO date (YYYY-MM-DD)"),
    ({"risk_analysis": {"document": "RA", "owner": "x", "date": "2026-01-01", "signed": "yes"}},
     "golive_attestations.risk_analysis has unknown field(s) signed"),
    ({"risk_analysis": "RA-2026"}, "golive_attestations.risk_analysis is not a mapping of document, owner, date"),
    ({"baa": {"vendor": "x"}}, "golive_attestations.baa is not a list"),
    (["risk_analysis"], "golive_attestations is not a mapping of item to attestation"),
])
def test_bad_attestations_are_refused(attestations, problem):
    problems = golive.problems(attestations, [], [], today=TODAY)
    assert problems and problems[0].startswith(problem), problems


def test_bad_vendor_lists_are_refused():
    assert golive.problems({}, [], "Hosting Co", today=TODAY) == ["golive_vendors is not a list of vendor names"]
    assert golive.problems({}, [], ["Hosting Co", ""], today=TODAY) == ["golive_vendors has an empty or non-text entry"]
    assert golive.problems({}, [], None, today=TODAY) == []


def test_the_filter_refuses_what_the_module_refuses():
    assert golive_problems(attested(), [waiver("mfa")], [], "2026-12-03") == []
    assert golive_problems({"x": {}}, None, None, "2026-12-03")[0].startswith("golive_attestations: unknown item 'x'")
    with pytest.raises(AnsibleFilterError, match="today is not an ISO date"):
        golive_problems({}, [], [], "tomorrow")


# --- the verdict and the exit ------------------------------------------------------------------

def test_the_verdict_is_red_and_does_not_pass_while_any_item_is_red():
    result = judge(attestations=attested(risk_analysis={"document": "RA", "owner": "x", "date": "2025-10-29"}),
                   waivers=[waiver("monthly_review")])
    assert result["verdict"] == "red" and not result["passed"]
    assert result["red"] == ["risk_analysis"]
    assert result["counts"] == {"green": 13, "amber": 0, "red": 1}


def test_the_checklist_prints_one_line_per_item():
    result = judge(evidence(skip=("privacy_review",)))
    lines = result["lines"]
    assert len(lines) == 1 + len(golive.ITEMS)
    assert lines[0] == "Go-live gate RED: 13 green, 0 amber, 1 red (evidence - of 2026-12-03T11:00:00Z)"
    assert lines[1].startswith("GREEN tls_hsts          rows tls_protocols")
    assert "RED   monthly_review    not evidenced: row privacy_review absent" in lines


def test_the_role_fails_exactly_when_the_verdict_does_not_pass():
    tasks = yaml.safe_load((_ROOT / "roles" / "evidence" / "tasks" / "golive.yml").read_text())
    fail = next(t for t in tasks if "ansible.builtin.fail" in t)
    assert fail["when"] == "not __evidence_golive.passed"
    assert tasks[0]["ansible.builtin.include_tasks"] == "golive_validate.yml"


def test_the_lab_is_green_or_amber_and_the_example_stays_red():
    lab = yaml.safe_load((_ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text())
    assert golive.problems({}, lab["golive_waivers"], lab["golive_vendors"], today=TODAY) == []
    # the lab's attestations are dated by a template (30 days before the run)
    atts = dict((k, dict(v, date="2026-11-03") if isinstance(v, dict) else v)
                for k, v in lab["golive_attestations"].items())
    assert golive.problems(atts, lab["golive_waivers"], lab["golive_vendors"], today=TODAY) == []
    rows = evidence(skip=PLANNED_ROWS - {"log_seal", "privacy_review", "odoo_access_matrix"})
    lab_result = golive.verdict(rows, atts, lab["golive_waivers"], lab["golive_vendors"], now=NOW)
    assert lab_result["passed"], lab_result["lines"]
    assert {i["key"] for i in lab_result["items"] if i["state"] == "amber"} == {"cert_auto_renewal"}
    # The example inventory attests nothing (every entry is a commented placeholder).
    example = yaml.safe_load((_ROOT / "inventories" / "example" / "group_vars" / "all" / "golive.yml").read_text())
    assert not example
    result = golive.verdict(evidence(), {}, [], None, now=NOW)
    assert set(result["red"]) == set(golive.ATTESTED_KEYS)
