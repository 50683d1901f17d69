"""Unit tests for the review tool installed on the hosts
(roles/privacy_review/files/odoo_hipaa_privacy_review.py): the configuration
refused before a run, Odoo's translated tag names, and the aggregator half's
files (the review, last.json, the exit code of an incomplete review). The
database half's SQL runs against the real Odoo in molecule/odoo."""

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import privacy_review as pr

ROOT = Path(__file__).resolve().parents[2]
sys.modules.setdefault("privacy_review", pr)        # what the tool imports from its library directory
_SPEC = importlib.util.spec_from_file_location(
    "odoo_hipaa_privacy_review", ROOT / "roles" / "privacy_review" / "files" / "odoo_hipaa_privacy_review.py")
tool = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(tool)

CFG = {"period": "monthly", "timezone": "UTC",
       "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "19:00"},
       "bulk_reads_per_day": 200, "export_records": 50, "failed_logins_per_login": 5, "failed_logins_per_ip": 10,
       "max_findings_per_kind": 200, "flagged_tags": ["VIP"], "flagged_partner_columns": [], "clinical_groups": []}


def test_a_refused_configuration_stops_the_tool_naming_the_problem(tmp_path, capsys):
    path = tmp_path / "review.json"
    path.write_text(json.dumps(dict(CFG, period="yearly")))
    with pytest.raises(SystemExit) as stop:
        tool.load(str(path))
    assert "period is 'yearly'" in str(stop.value)


@pytest.mark.parametrize("stored, names", [
    ('{"en_US": "VIP", "fr_FR": "VIP (fr)"}', {"VIP", "VIP (fr)"}),
    ("Staff family", {"Staff family"}),
])
def test_tag_names_plain_or_translated(stored, names):
    assert tool.names_of(stored) == names


def test_the_aggregator_half_writes_the_review_and_exits_2_when_incomplete(tmp_path):
    store, state = tmp_path / "remote", tmp_path / "state"
    (store / "db-01").mkdir(parents=True)
    state.mkdir()
    cfg = dict(CFG, store=str(store), state_dir=str(state))
    label, start, end = pr.period_from_label("2026-11", "UTC")
    lines = pr.database_half(label, [], cap=200, auditlog_rows=0, run="r1")
    (store / "db-01" / "messages.log").write_text("".join(
        "2026-12-01T01:30:00+00:00 db-01 10.0.0.5 authpriv.notice odoo-hipaa-review[9]: %s\n" % line
        for line in lines))
    now = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.timezone.utc)
    assert tool.run_aggregator(cfg, label, start, end, now) == 0
    last = json.loads((state / "last.json").read_text())
    assert last["result"] == "complete" and last["period"] == "2026-11" and last["total"] == 0
    assert (state / "reviews" / "2026-11.html").read_text().startswith("<!DOCTYPE html>")
    assert oct((state / "reviews" / "2026-11.json").stat().st_mode & 0o777) == "0o640"
    (store / "db-01" / "messages.log").write_text("")          # the database half never arrived
    assert tool.run_aggregator(cfg, label, start, end, now) == 2
    assert json.loads((state / "last.json").read_text())["database_half"] == "missing"


def test_a_review_that_cannot_be_made_says_why_in_last_json(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "review.json").write_text(json.dumps(dict(CFG, store=str(tmp_path / "no-store"), state_dir=str(state))))
    assert tool.main(["aggregator", "--config", str(tmp_path / "review.json"), "--period", "2026-11"]) == 3
    last = json.loads((state / "last.json").read_text())
    assert last["result"] == "error" and "FileNotFoundError" in last["error"]
