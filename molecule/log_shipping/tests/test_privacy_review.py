"""The audit-log review's aggregator half (role privacy_review, entry point
aggregator) on the real log shipping: the app host logs Odoo's failed-login
lines and a database half's findings (the lines the database half writes,
made here with the collection's own module), rsyslog carries them over
RELP/TLS, and the review on the aggregator:

- names ten failed logins for one login and from one address (§164.308(a)(5)(ii)(C));
- is complete when the database half's lines hash to its closing digest, and
  incomplete when a line was forged into that run (exit 2);
- is incomplete, its unit failed, when no database half arrived at all (the
  timer's own service, for the previous period);
- is written for the privacy officer's group only.
The database half itself runs against the real Odoo in molecule/odoo."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import uuid

import pytest
from ls_lab import APP, wait_stored

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import privacy_review as pr

testinfra_hosts = ["log_aggregator"]

TOOL = "/usr/local/sbin/odoo-hipaa-privacy-review"
REVIEWS = "/var/lib/odoo-hipaa-privacy/reviews"
ATTEMPTS = 10
ADDRESS = "198.51.100.7"


def ship(app, tag: str, lines: list[str]) -> None:
    """Log lines on the app host under tag, in order (one logger, one line each)."""
    payload = "\n".join(lines) + "\n"
    app.run_expect([0], f"printf %s {shlex.quote(payload)} | logger -t {tag}")


def aggregator_half(host, label: str):
    run = host.run(f"runuser -u odoo_hipaa_review -- {TOOL} aggregator --period {label}")
    return run, json.loads(host.check_output(f"cat {REVIEWS}/{label}.json"))


@pytest.fixture(scope="module")
def shipped(host, lab_host):
    app = lab_host(APP)
    label = f"{dt.datetime.now(dt.timezone.utc):%Y-%m}"      # the scenario keeps the defaults: monthly, UTC
    login = f"review-probe-{uuid.uuid4().hex[:8]}"
    ship(app, "odoo", [f"2026-12-01 10:00:00,000 4242 INFO odoo odoo.addons.base.models.res_users: "
                       f"Login failed for db:odoo login:{login} from {ADDRESS}"] * ATTEMPTS)
    run = f"lshtest-{uuid.uuid4().hex[:8]}"
    bulk = pr.finding("bulk_read", "nurse.jane", "2026-12-01", "read 250 distinct PHI records in one day", count=250)
    lines = pr.database_half(label, [bulk], cap=200, auditlog_rows=251, run=run)
    ship(app, "odoo-hipaa-review", lines)
    assert wait_stored(host, f'"run":"{run}","sha256"'), "the database half's closing line never reached the aggregator"
    assert len(wait_stored(host, f"login:{login} from")) >= ATTEMPTS
    return {"app": app, "label": label, "login": login, "run": run}


def test_without_a_database_half_the_timers_service_fails_incomplete(host):
    """The previous period had no database half in this scenario: the unit
    runs in its sandbox, writes the review, and fails (exit 2). First in the
    file, before any review run by hand: the unit must work on what the role
    made alone (its sandbox refuses a setgid mkdir: the first CI demo's failure)."""
    start = host.run("systemctl start odoo-hipaa-privacy-review.service")
    assert start.rc != 0
    last = json.loads(host.check_output("cat /var/lib/odoo-hipaa-privacy/last.json"))
    assert last["result"] == "incomplete" and last["database_half"] == "missing"
    journal = host.check_output("journalctl -u odoo-hipaa-privacy-review.service --no-pager -o cat -n 20")
    assert f"PRIVACY REVIEW {last['period']}: " in journal and "(database half: missing)" in journal
    assert host.check_output("systemctl is-enabled odoo-hipaa-privacy-review.timer") == "enabled"


def test_the_review_is_complete_and_names_the_failed_logins(host, shipped):
    result, review = aggregator_half(host, shipped["label"])
    assert result.rc == 0 and review["result"] == "complete", (result.stdout, result.stderr, review)
    assert review["database_run"] == shipped["run"] and review["auditlog_rows"] == 251
    failed = [f for f in review["findings"] if f["kind"] == "failed_logins"]
    assert [f["count"] for f in failed if f["login"] == shipped["login"]] == [ATTEMPTS], failed
    assert [f["count"] for f in failed if f.get("ip") == ADDRESS] == [ATTEMPTS], failed
    assert [f["login"] for f in review["findings"] if f["kind"] == "bulk_read"] == ["nurse.jane"]
    assert f"PRIVACY REVIEW {shipped['label']}: " in result.stdout


def test_the_review_is_for_the_privacy_group_only(host, shipped):
    aggregator_half(host, shipped["label"])
    for name in (f"{shipped['label']}.json", f"{shipped['label']}.html"):
        page = host.file(f"{REVIEWS}/{name}")
        assert page.mode == 0o640 and page.user == "odoo_hipaa_review" and page.group == "odoo-hipaa-privacy", name
    assert host.file("/var/lib/odoo-hipaa-privacy").mode == 0o2750


def test_a_line_forged_into_the_run_makes_it_incomplete(host, shipped):
    forged = pr.canonical(pr.finding("export", "someone.else", "2026-12-01", "forged", count=1,
                                     period=shipped["label"], run=shipped["run"]))
    ship(shipped["app"], "odoo-hipaa-review", [forged])
    assert wait_stored(host, "someone.else")
    result, review = aggregator_half(host, shipped["label"])
    assert result.rc == 2 and review["result"] == "incomplete" and review["database_half"] == "mismatch", review
    assert "INCOMPLETE (database half: mismatch)" in host.check_output(f"cat {REVIEWS}/{shipped['label']}.html")
