"""Unit tests for the audit-log review's rules (plugins/module_utils/privacy_review.py,
issue 19 part 2): the period on the site's clock (a daylight-saving change, ISO
weeks, a year's turn), business hours, each kind of finding at and below its
threshold, Odoo's failed-login line as the aggregator stores it, the database
half's closing digest (a lost, added or edited line makes the review
incomplete), and the HTML escaping what came from the logs."""

import datetime as dt
import gzip

import pytest

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import privacy_review as pr

UTC = dt.timezone.utc
NY = "America/New_York"


def at(text: str, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=pr.zone(tz))


def read(login, when, ids, model="res.partner"):
    return {"kind": "read", "login": login, "when": when, "model": model, "res_ids": list(ids)}


# --- the period ----------------------------------------------------------------

def test_monthly_period_is_the_previous_calendar_month():
    label, start, end = pr.previous_period(at("2026-12-01T01:30:00"), "monthly", "UTC")
    assert (label, start, end) == ("2026-11", at("2026-11-01T00:00:00"), at("2026-12-01T00:00:00"))


def test_monthly_period_across_new_year():
    label, start, end = pr.previous_period(at("2027-01-01T01:30:00"), "monthly", "UTC")
    assert (label, start.date(), end.date()) == ("2026-12", dt.date(2026, 12, 1), dt.date(2027, 1, 1))


def test_the_period_is_judged_on_the_sites_clock():
    # 03:00 UTC on 1 December is still 30 November in New York: November is not over there.
    label = pr.previous_period(at("2026-12-01T03:00:00"), "monthly", NY)[0]
    assert label == "2026-10"


def test_a_month_with_a_daylight_saving_change_has_its_local_midnights():
    start, end = pr.period_from_label("2026-11", NY)[1:]
    assert start.isoformat() == "2026-11-01T00:00:00-04:00"
    assert end.isoformat() == "2026-12-01T00:00:00-05:00"
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(days=30, hours=1)
    # 23:30 on 30 November in New York is 04:30 UTC on 1 December: inside.
    assert pr.in_period(at("2026-12-01T04:30:00"), start, end)
    assert not pr.in_period(at("2026-12-01T05:00:00"), start, end)
    assert not pr.in_period(at("2026-11-01T03:59:00"), start, end)


def test_weekly_period_is_the_previous_iso_week():
    # Thursday 3 December 2026 is in ISO week 49; the previous one is 48 (23-30 November).
    label, start, end = pr.previous_period(at("2026-12-03T12:00:00"), "weekly", "UTC")
    assert (label, start.date(), end.date()) == ("2026-W48", dt.date(2026, 11, 23), dt.date(2026, 11, 30))


def test_weekly_period_across_the_iso_year():
    label, start = pr.previous_period(at("2027-01-05T12:00:00"), "weekly", "UTC")[:2]
    assert (label, start.date()) == ("2026-W53", dt.date(2026, 12, 28))


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "2026-W54", "2026/11", "november", ""])
def test_bad_period_labels_are_refused(label):
    with pytest.raises(ValueError):
        pr.period_from_label(label, "UTC")


def test_unknown_period_kind_and_time_zone_are_refused():
    with pytest.raises(ValueError, match="period 'quarterly'"):
        pr.previous_period(at("2026-12-03T12:00:00"), "quarterly", "UTC")
    with pytest.raises(ValueError, match="unknown time zone"):
        pr.zone("Mars/Olympus_Mons")


# --- business hours ----------------------------------------------------------------

HOURS = pr.BusinessHours(["mon", "tue", "wed", "thu", "fri"], "07:00", "19:00", NY)


@pytest.mark.parametrize("when,inside", [
    ("2026-12-03T12:00:00", True),    # Thursday 07:00 in New York: the first minute
    ("2026-12-03T11:59:00", False),   # 06:59
    ("2026-12-03T23:59:00", True),    # 18:59
    ("2026-12-04T00:00:00", False),   # 19:00: the end is not inside
    ("2026-12-05T15:00:00", False),   # Saturday 10:00
])
def test_business_hours_on_the_sites_clock(when, inside):
    assert HOURS.contains(at(when)) is inside


@pytest.mark.parametrize("args", [
    (["mon"], "19:00", "07:00"),     # start after end
    (["mon"], "08:00", "08:00"),     # empty
    (["monday"], "07:00", "19:00"),  # unknown day
    ([], "07:00", "19:00"),          # no day
    (["mon"], "7:00", "19:00"),      # not HH:MM
    (["mon"], "07:00", "24:00"),
])
def test_bad_business_hours_are_refused(args):
    with pytest.raises(ValueError):
        pr.BusinessHours(*args, "UTC")


# --- the rules ------------------------------------------------------------------------

def test_bulk_read_at_the_threshold_is_a_finding_and_below_it_is_not():
    day = at("2026-11-10T10:00:00")
    events = [read("alice", day, range(1, 120)), read("alice", day + dt.timedelta(hours=1), range(100, 201)),
              read("bob", day, range(1, 200))]
    found = pr.bulk_reads(events, 200, pr.zone("UTC"))
    assert [(f["login"], f["count"]) for f in found] == [("alice", 200)]


def test_bulk_reads_count_distinct_records_per_local_day():
    # 02:00 UTC on the 11th is the 10th in New York: one day there, two in UTC.
    events = [read("alice", at("2026-11-10T20:00:00"), range(0, 150)),
              read("alice", at("2026-11-11T02:00:00"), range(150, 300))]
    assert pr.bulk_reads(events, 200, pr.zone("UTC")) == []
    assert [f["day"] for f in pr.bulk_reads(events, 200, pr.zone(NY))] == ["2026-11-10"]


def test_exports_at_the_threshold():
    events = [{"kind": "export", "login": "carol", "when": at("2026-11-12T09:00:00"), "model": "res.partner",
               "count": 60},
              {"kind": "export", "login": "dave", "when": at("2026-11-12T09:00:00"), "model": "res.partner",
               "count": 49}]
    found = pr.exports(events, 50, pr.zone("UTC"))
    assert [(f["login"], f["count"]) for f in found] == [("carol", 60)]
    assert "exported 60 res.partner records" in found[0]["detail"]


def test_after_hours_flags_non_clinical_users_once_per_day():
    night = at("2026-11-12T02:00:00")   # 21:00 in New York, a Wednesday
    events = [{"kind": "login", "login": "billing1", "when": night},
              read("billing1", night + dt.timedelta(minutes=5), [1]),
              read("nurse1", night, [2]),                                      # clinical: not a finding
              {"kind": "login", "login": "billing2", "when": at("2026-11-12T15:00:00")}]  # 10:00: inside
    found = pr.after_hours(events, HOURS, {"nurse1"})
    assert [(f["login"], f["day"], f["count"]) for f in found] == [("billing1", "2026-11-11", 2)]
    assert "21:00" in found[0]["detail"] and "login/read" in found[0]["detail"]


def test_flagged_reads_but_not_ones_own_record():
    events = [read("alice", at("2026-11-12T10:00:00"), [7, 8, 9]),
              read("vip", at("2026-11-12T10:00:00"), [7]),                     # the VIP reads their own record
              read("bob", at("2026-11-12T10:00:00"), [7], model="calendar.event")]  # another model's id 7
    found = pr.flagged_reads(events, {7, 9}, {"vip": 7}, pr.zone("UTC"))
    assert [(f["login"], f["records"]) for f in found] == [("alice", [7, 9])]


def test_nothing_is_flagged_for_normal_use():
    day = at("2026-11-12T14:00:00")   # 09:00 in New York, a Thursday
    events = [read("nurse1", day, range(30)), {"kind": "login", "login": "billing1", "when": day},
              {"kind": "export", "login": "billing1", "when": day, "model": "res.partner", "count": 5}]
    tz = HOURS.tz
    assert pr.bulk_reads(events, 200, tz) == [] and pr.exports(events, 50, tz) == []
    assert pr.after_hours(events, HOURS, {"nurse1"}) == []
    assert pr.flagged_reads(events, {999}, {}, tz) == []


# --- failed logins, as the aggregator stores Odoo's line -----------------------------------

LINE = ("2026-11-12T10:00:0{s}.123456+00:00 erp-app-01 10.0.5.20 user.info odoo[812]: 2026-11-12 10:00:0{s},123 "
        "812 INFO odoo odoo.addons.base.models.res_users: Login failed for db:odoo login:{login} from {ip}")


def test_odoos_failed_login_line_is_parsed():
    when, host, login, ip = pr.parse_failed_login(LINE.format(s=1, login="alice@example.org", ip="10.9.8.7"))
    assert (when, host, login, ip) == (at("2026-11-12T10:00:01.123456"), "erp-app-01", "alice@example.org",
                                       "10.9.8.7")


@pytest.mark.parametrize("line", [
    "2026-11-12T10:00:00+00:00 erp-app-01 10.0.5.20 user.info odoo[812]: Login successful for db:odoo login:a from 1.2.3.4",
    "not a time erp-app-01 odoo: Login failed for db:odoo login:a from 1.2.3.4",
    "2026-11-12T10:00:00 erp-app-01 10.0.5.20 user.info odoo: Login failed for db:odoo login:a from 1.2.3.4",  # no offset
])
def test_other_lines_are_not_failed_logins(line):
    assert pr.parse_failed_login(line) is None


def test_ten_failed_logins_are_found_per_login_and_per_address():
    attempts = [pr.parse_failed_login(LINE.format(s=i, login="alice", ip="10.9.8.7")) for i in range(10)]
    found = pr.failed_logins(attempts, 5, 10, pr.zone("UTC"))
    assert [(f["login"], f.get("ip"), f["count"]) for f in found] == [("alice", None, 10), ("", "10.9.8.7", 10)]


def test_failed_logins_below_the_thresholds_are_not():
    attempts = [pr.parse_failed_login(LINE.format(s=i, login=f"user{i % 2}", ip="10.9.8.7")) for i in range(9)]
    assert pr.failed_logins(attempts, 5, 10, pr.zone("UTC")) == [
        {"kind": "failed_logins", "login": "user0", "day": "2026-11-12", "count": 5,
         "detail": "5 failed logins from 10.9.8.7"}]


# --- the database half's lines and their digest -------------------------------------------

def findings(n, kind="bulk_read"):
    return [pr.finding(kind, f"user{i}", "2026-11-10", "x", count=300) for i in range(n)]


def test_database_half_round_trip_is_complete():
    lines = pr.database_half("2026-11", findings(3), cap=200, auditlog_rows=1234)
    got, done, state = pr.read_database_half(["noise", "{\"period\": \"2026-10\"}"] + lines, "2026-11")
    assert state == "complete" and len(got) == 3
    assert done["counts"] == {"bulk_read": 3} and done["auditlog_rows"] == 1234


@pytest.mark.parametrize("damage", ["lost", "added", "edited"])
def test_a_lost_added_or_edited_line_makes_it_a_mismatch(damage):
    lines = pr.database_half("2026-11", findings(3), cap=200, auditlog_rows=1)
    if damage == "lost":
        del lines[1]
    elif damage == "added":
        lines.insert(0, pr.canonical(dict(findings(1)[0], login="mallory", period="2026-11")))
    else:
        lines[0] = lines[0].replace("user0", "user9")
    assert pr.read_database_half(lines, "2026-11")[2] == "mismatch"


def test_no_closing_line_is_missing():
    lines = pr.database_half("2026-11", findings(2), cap=200, auditlog_rows=1)[:-1]
    assert pr.read_database_half(lines, "2026-11")[1:] == (None, "missing")


def test_the_cap_keeps_the_whole_count():
    lines = pr.database_half("2026-11", findings(5), cap=2, auditlog_rows=1)
    got, done, state = pr.read_database_half(lines, "2026-11")
    assert (len(got), done["counts"], state) == (2, {"bulk_read": 5}, "complete")
    start, end = pr.period_from_label("2026-11", "UTC")[1:]
    review = pr.assemble("2026-11", start, end, got, state, cap=2, generated_at=end, db_counts=done["counts"])
    assert review["counts"]["bulk_read"] == 5 and len(review["findings"]) == 2


# --- the review ----------------------------------------------------------------------------

def test_review_is_incomplete_without_the_database_half():
    start, end = pr.period_from_label("2026-11", "UTC")[1:]
    review = pr.assemble("2026-11", start, end, findings(1, "failed_logins"), "missing", cap=200, generated_at=end)
    assert review["result"] == "incomplete" and review["counts"]["failed_logins"] == 1 and review["total"] == 1
    assert set(review["counts"]) == set(pr.KINDS)


def test_html_escapes_what_came_from_the_logs():
    start, end = pr.period_from_label("2026-11", "UTC")[1:]
    evil = pr.finding("failed_logins", "<script>alert(1)</script>", "2026-11-10", "from <b>x</b>", count=10)
    page = pr.render_html(pr.assemble("2026-11", start, end, [evil], "mismatch", cap=200, generated_at=end))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page
    assert "INCOMPLETE (database half: mismatch)" in page and "§164.308(a)(1)(ii)(D)" in page


# --- events from the database rows ---------------------------------------------------------

def test_auditlog_rows_become_events():
    naive = dt.datetime(2026, 11, 12, 23, 30)   # Odoo's create_date: UTC without a zone
    rows = [(naive, "alice", "read", "res.partner", 7, None),
            (naive, "bob", "export_data", "res.partner", 0, "[1, 2, 3]"),
            (naive, "carol", "write", "res.partner", 9, None),
            (naive, "dave", "name_search", "res.partner", 0, None)]
    events = pr.events_from_auditlog(rows)
    assert [(e["kind"], e["login"], e["res_ids"]) for e in events] == [
        ("read", "alice", [7]), ("export", "bob", [1, 2, 3]), ("write", "carol", [9])]
    assert events[1]["count"] == 3 and events[0]["when"] == at("2026-11-12T23:30:00")
    logins = pr.events_from_logins([(naive, "alice")])
    assert logins == [{"kind": "login", "login": "alice", "when": at("2026-11-12T23:30:00")}]
    # 23:30 UTC is 18:30 in New York: inside business hours there.
    assert pr.after_hours(logins, HOURS, set()) == []


# --- the aggregator's store ---------------------------------------------------------------

def stored(when: str, message: str, tag: str = "odoo[812]:", host: str = "erp-app-01") -> str:
    return f"{when} {host} 10.0.5.20 user.info {tag} {message}"


def test_store_lines_reads_plain_and_gzipped_files_of_the_period(tmp_path):
    host = tmp_path / "erp-app-01"
    host.mkdir()
    with gzip.open(host / "messages.log-20261101.gz", "wt") as f:   # 31 October and the first minutes of November
        f.write(stored("2026-10-31T23:59:59+00:00", "october") + "\n")
        f.write(stored("2026-11-01T00:00:00+00:00", "first") + "\n")
    (host / "messages.log-20261115").write_text(stored("2026-11-14T12:00:00+00:00", "middle") + "\n")
    (host / "messages.log-20261001.gz").write_bytes(b"not even gzip: never opened")
    (host / "messages.log").write_text(stored("2026-11-30T23:59:59+00:00", "last") + "\n"
                                       + stored("2026-12-01T00:00:00+00:00", "december") + "\n")
    (tmp_path / "stray-file").write_text("a file beside the host directories")
    start, end = pr.period_from_label("2026-11", "UTC")[1:]
    lines = list(pr.store_lines(str(tmp_path), start, end))
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["first", "middle", "last"]


def test_the_database_halfs_lines_are_read_back_from_the_store(tmp_path):
    lines = pr.database_half("2026-11", findings(2), cap=200, auditlog_rows=5)
    host = tmp_path / "db-01"
    host.mkdir()
    (host / "messages.log").write_text("".join(
        stored("2026-12-01T01:30:0%d+00:00" % i, line, tag="odoo-hipaa-review[77]:", host="db-01") + "\n"
        for i, line in enumerate(lines))
        + stored("2026-12-01T01:31:00+00:00", "{\"kind\": \"db_done\"}", tag="other-tool:") + "\n")
    start, end = pr.period_from_label("2026-12", "UTC")[1:]   # the lines were logged in December
    messages = [m for m in map(pr.review_message, pr.store_lines(str(tmp_path), start, end)) if m]
    got, done, state = pr.read_database_half(messages, "2026-11")
    assert (len(got), state, done["auditlog_rows"]) == (2, "complete", 5)


# --- re-runs, the configuration, the two halves ----------------------------------------------

def test_a_rerun_is_read_alone_and_a_mix_of_runs_is_not_complete():
    first = pr.database_half("2026-11", findings(3), cap=200, auditlog_rows=1, run="a")
    second = pr.database_half("2026-11", findings(1), cap=200, auditlog_rows=2, run="b")
    got, done, state = pr.read_database_half(first + second, "2026-11")
    assert (len(got), done["run"], done["auditlog_rows"], state) == (1, "b", 2, "complete")
    # a line of run a forged after run b's close does not join run b
    forged = pr.canonical(dict(findings(1)[0], login="mallory", period="2026-11", run="b"))
    assert pr.read_database_half(first + second + [forged], "2026-11")[2] == "mismatch"
    # a run with no close yet, after a complete one: the complete one is read
    third = pr.database_half("2026-11", findings(2), cap=200, auditlog_rows=3, run="c")[:-1]
    assert pr.read_database_half(first + third, "2026-11")[1]["run"] == "a"


def good_config(**changes):
    cfg = {"period": "monthly", "timezone": "America/New_York",
           "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "19:00"},
           "bulk_reads_per_day": 200, "export_records": 50, "failed_logins_per_login": 5,
           "failed_logins_per_ip": 10, "max_findings_per_kind": 200, "flagged_tags": ["VIP"],
           "flagged_partner_columns": ["x_hipaa_flag"], "clinical_groups": ["odoo_hipaa_roles.group_nurse"]}
    cfg.update(changes)
    return cfg


def test_a_good_configuration_has_no_problem():
    assert pr.config_problems(good_config()) == []


@pytest.mark.parametrize("change, words", [
    ({"period": "quarterly"}, "period is 'quarterly'"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"business_hours": {"days": ["mon"], "start": "19:00", "end": "07:00"}}, "not before their end"),
    ({"business_hours": {"days": ["monday"], "start": "07:00", "end": "19:00"}}, "business days"),
    ({"bulk_reads_per_day": 0}, "bulk_reads_per_day is 0"),
    ({"failed_logins_per_ip": True}, "failed_logins_per_ip is True"),
    ({"flagged_partner_columns": ["x; DROP TABLE res_partner"]}, "is not a column name"),
    ({"clinical_groups": ["nurse"]}, "is not an XML id"),
])
def test_a_bad_configuration_is_named(change, words):
    problems = pr.config_problems(good_config(**change))
    assert len(problems) == 1 and words in problems[0], problems


def test_the_database_half_finds_each_kind_and_nothing_for_normal_work():
    cfg = good_config(timezone="UTC", bulk_reads_per_day=3, export_records=2)
    day = dt.datetime(2026, 11, 10, 10, 0)     # a Tuesday, in hours (naive UTC, as Odoo stores it)
    night = dt.datetime(2026, 11, 10, 23, 0)
    rows = ([(day, "bulk", "read", "res.partner", i, None) for i in range(1, 4)]
            + [(day, "exporter", "export_data", "res.partner", None, "[1, 2]")]
            + [(day, "snoop", "read", "res.partner", 99, None)]
            + [(day, "normal", "read", "res.partner", 1, None), (day, "staff", "read", "res.partner", 99, None)]
            + [(night, "nurse", "read", "res.partner", 2, None)])
    found = pr.review_database(cfg, rows, [(night, "admin")], flagged_ids=[99], own_partner={"staff": 99},
                               clinical_logins=["nurse"])
    kinds = sorted((f["kind"], f["login"]) for f in found)
    assert kinds == [("after_hours", "admin"), ("bulk_read", "bulk"), ("export", "exporter"),
                     ("flagged_read", "snoop")]


def test_the_aggregator_half_reads_the_database_half_logged_after_the_period(tmp_path):
    cfg = good_config(timezone="UTC")
    label, start, end = pr.period_from_label("2026-11", "UTC")
    db = tmp_path / "db-01"
    db.mkdir()
    lines = pr.database_half(label, findings(2), cap=200, auditlog_rows=7, run="r1")
    (db / "messages.log").write_text("".join(
        stored("2026-12-01T01:30:0%d+00:00" % i, line, tag="odoo-hipaa-review[77]:", host="db-01") + "\n"
        for i, line in enumerate(lines)))
    app = tmp_path / "app-01"
    app.mkdir()
    (app / "messages.log").write_text("".join(
        stored("2026-11-20T03:00:%02d+00:00" % i,
               "2026-11-20 03:00:00,1 9 INFO odoo odoo.addons.base.models.res_users: "
               "Login failed for db:odoo login:mallory from 203.0.113.9") + "\n" for i in range(5))
        + stored("2026-12-01T00:00:01+00:00", "Login failed for db:odoo login:mallory from 203.0.113.9") + "\n")
    now = dt.datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    review = pr.review_store(cfg, str(tmp_path), label, start, end, now)
    assert review["result"] == "complete" and review["database_run"] == "r1" and review["auditlog_rows"] == 7
    assert review["failed_login_lines"] == 5      # the December line is not November's
    assert review["counts"]["failed_logins"] == 1 and review["counts"]["bulk_read"] == 2
    (db / "messages.log").write_text(stored("2026-12-01T01:30:00+00:00", lines[0], tag="odoo-hipaa-review:",
                                            host="db-01") + "\n")
    assert pr.review_store(cfg, str(tmp_path), label, start, end, now)["result"] == "incomplete"


@pytest.mark.parametrize("now, period, due", [
    ("2026-12-03T12:00:00", "monthly", "2026-10"),   # within the grace days, November's may still be coming
    ("2026-12-04T12:00:00", "monthly", "2026-11"),
    ("2026-12-10T12:00:00", "weekly", "2026-W49"),   # Thursday: minus 3 days is Monday of W50
])
def test_the_review_due_leaves_the_grace_days(now, period, due):
    assert pr.review_due(period, "UTC", at(now), grace_days=3) == due


@pytest.mark.parametrize("tag", ["odoo-hipaa-review[968]", "odoo-hipaa-review:", "odoo-hipaa-review[77]:"])
def test_the_tag_as_rsyslog_stores_it(tag):
    """Over RELP from a client's journal (RFC 5424) the tag has no colon; locally it has one."""
    line = "2026-12-03T20:28:26.832837+00:00 app-01 10.89.1.4 user.notice %s {\"kind\":\"x\"}" % tag
    assert pr.review_message(line) == '{"kind":"x"}'


@pytest.mark.parametrize("tag", ["odoo-hipaa-reviewer[1]", "odoo-hipaa-review-other:", "odoo[812]:"])
def test_other_tags_are_not_the_review(tag):
    line = "2026-12-03T20:28:26+00:00 app-01 10.89.1.4 user.notice %s {\"kind\":\"x\"}" % tag
    assert pr.review_message(line) is None
