# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monthly audit-log review's rules (issue 19 part 2; docs/design/19-privacy-officer.md §4.2).

§164.308(a)(1)(ii)(D) asks for a regular review of information-system
activity, §164.312(b) for the audit controls it reads. This module is the
review's judgement, pure Python with no Ansible and no database: which period
is reviewed, what is after hours, and the five kinds of finding the seed names:

- bulk_read:     one user read at least N distinct PHI records in one local day;
- export:        one export of at least N records;
- after_hours:   a login or an audited PHI operation outside business hours by a
                 user with no clinical role (one finding per user and day);
- failed_logins: at least N failed logins in one day for one login, or from
                 one address (Odoo's own "Login failed for db:... login:...
                 from ..." line, as the aggregator stores it);
- flagged_read:  a read of a flagged record (VIP, staff, family of staff) by
                 anyone but the person it describes.

Every threshold is the smallest count that is a finding. The database half
(on the database host, from Odoo's auditlog) logs one JSON line per finding and
a closing `db_done` line that carries the SHA-256 of those lines; the aggregator
half counts a database half as complete only when the lines it received hash
to that value, so a lost or forged line makes the review `incomplete`, never
silently short. tests/unit/test_privacy_review.py tests it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import html
import json
import os
import re
from collections import defaultdict

try:  # Python 3.9+; the review runs on Debian 12 and 13 (3.11, 3.13)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - controller Pythons without zoneinfo
    ZoneInfo = None
    ZoneInfoNotFoundError = KeyError

KINDS = ("bulk_read", "export", "after_hours", "failed_logins", "flagged_read")
PERIODS = ("weekly", "monthly")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TAG = "odoo-hipaa-review"


# --- the period -------------------------------------------------------------

def zone(name: str):
    """The tzinfo of an IANA name; ValueError for an unknown one."""
    if ZoneInfo is None:  # pragma: no cover
        raise ValueError("this Python has no zoneinfo")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def previous_period(now: dt.datetime, period: str, tz: str) -> tuple[str, dt.datetime, dt.datetime]:
    """The last whole period before `now` on the site's clock: (label, start,
    end), start inclusive and end exclusive, both aware. Monthly: '2026-11';
    weekly (ISO weeks, Monday to Monday): '2026-W48'."""
    local = now.astimezone(zone(tz))
    if period == "monthly":
        first = local.date().replace(day=1)
        start_day = (first - dt.timedelta(days=1)).replace(day=1)
        return period_from_label(f"{start_day:%Y-%m}", tz)
    if period == "weekly":
        monday = local.date() - dt.timedelta(days=local.weekday())
        year, week = (monday - dt.timedelta(days=7)).isocalendar()[:2]
        return period_from_label(f"{year}-W{week:02d}", tz)
    raise ValueError(f"period {period!r} is not one of {', '.join(PERIODS)}")


def period_from_label(label: str, tz: str) -> tuple[str, dt.datetime, dt.datetime]:
    """(label, start, end) of '2026-11' or '2026-W48' on the site's clock. The
    bounds are local midnights, so a period across a daylight-saving change is
    an hour shorter or longer than its days."""
    tzinfo = zone(tz)
    month = re.fullmatch(r"(\d{4})-(\d{2})", label)
    week = re.fullmatch(r"(\d{4})-W(\d{2})", label)
    if month:
        year, mon = int(month.group(1)), int(month.group(2))
        if not 1 <= mon <= 12:
            raise ValueError(f"no month {label!r}")
        start = dt.date(year, mon, 1)
        end = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    elif week:
        try:
            start = dt.date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1)
        except ValueError as exc:
            raise ValueError(f"no ISO week {label!r}") from exc
        end = start + dt.timedelta(days=7)
    else:
        raise ValueError(f"period label {label!r} is neither YYYY-MM nor YYYY-Www")
    return (label, dt.datetime.combine(start, dt.time(), tzinfo),
            dt.datetime.combine(end, dt.time(), tzinfo))


def in_period(when: dt.datetime, start: dt.datetime, end: dt.datetime) -> bool:
    """start <= when < end, compared as instants (Python compares two times of
    one tzinfo by their wall clocks, which a daylight-saving change breaks)."""
    return start.astimezone(dt.timezone.utc) <= when.astimezone(dt.timezone.utc) < end.astimezone(dt.timezone.utc)


class BusinessHours:
    """The site's working week: days (mon..sun), a start and an end (HH:MM,
    start before end) on the site's clock."""

    def __init__(self, days, start: str, end: str, tz: str):
        self.tz = zone(tz)
        unknown = [d for d in days if d not in DAYS]
        if unknown or not days:
            raise ValueError(f"business days {list(days)!r}: each one of {', '.join(DAYS)}")
        self.days = {DAYS.index(d) for d in days}
        self.start, self.end = _hhmm(start), _hhmm(end)
        if self.start >= self.end:
            raise ValueError(f"business hours start {start} is not before their end {end}")

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(self.tz)

    def contains(self, when: dt.datetime) -> bool:
        local = self.local(when)
        return local.weekday() in self.days and self.start <= local.time() < self.end


def _hhmm(text: str) -> dt.time:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", str(text))
    if not match:
        raise ValueError(f"{text!r} is not a time HH:MM")
    return dt.time(int(match.group(1)), int(match.group(2)))


def local_day(when: dt.datetime, tz) -> str:
    return when.astimezone(tz).date().isoformat()


# --- events from the database -------------------------------------------------
# OCA auditlog 18.0 (models/rule.py, create_logs): a `read` is one auditlog_log
# row per record (res_id); an `export_data` is one row for the whole export,
# its ids in res_ids as Python's str() of the list. Odoo stores create_date
# as UTC without a zone. res_users_log has one row per login (create_uid).

def _utc(naive: dt.datetime) -> dt.datetime:
    return naive.replace(tzinfo=dt.timezone.utc) if naive.tzinfo is None else naive


def events_from_auditlog(rows) -> list[dict]:
    """rows: (create_date, login, method, model, res_id, res_ids) of auditlog_log
    joined with res_users. Methods other than read, export_data, write, create
    and unlink are left out."""
    out = []
    for create_date, login, method, model, res_id, res_ids in rows:
        when = _utc(create_date)
        if method == "read":
            out.append({"kind": "read", "login": login, "when": when, "model": model, "res_ids": [res_id]})
        elif method == "export_data":
            ids = [int(x) for x in re.findall(r"\d+", res_ids or "")]
            out.append({"kind": "export", "login": login, "when": when, "model": model,
                        "res_ids": ids, "count": len(ids)})
        elif method in ("write", "create", "unlink"):
            out.append({"kind": method, "login": login, "when": when, "model": model, "res_ids": [res_id]})
    return out


def events_from_logins(rows) -> list[dict]:
    """rows: (create_date, login) of res_users_log joined with res_users."""
    return [{"kind": "login", "login": login, "when": _utc(create_date)} for create_date, login in rows]


# --- the rules ----------------------------------------------------------------
# An event is a dict: kind ('read' | 'export' | 'write' | 'login' | ...), login,
# when (aware datetime), and for record operations model, res_ids, count.

def finding(kind: str, login: str, day: str, detail: str, **extra) -> dict:
    out = {"kind": kind, "login": login, "day": day, "detail": detail}
    out.update(extra)
    return out


def bulk_reads(events, threshold: int, tz) -> list[dict]:
    """A user who read at least `threshold` distinct PHI records in one local day."""
    seen = defaultdict(set)
    for ev in events:
        if ev["kind"] == "read":
            key = (ev["login"], local_day(ev["when"], tz))
            seen[key].update((ev["model"], rid) for rid in ev.get("res_ids", ()))
    return [finding("bulk_read", login, day, f"read {len(records)} distinct PHI records in one day",
                    count=len(records))
            for (login, day), records in sorted(seen.items()) if len(records) >= threshold]


def exports(events, threshold: int, tz) -> list[dict]:
    """One export of at least `threshold` records."""
    out = []
    for ev in sorted((e for e in events if e["kind"] == "export"), key=lambda e: e["when"]):
        count = ev.get("count", len(ev.get("res_ids", ())))
        if count >= threshold:
            out.append(finding("export", ev["login"], local_day(ev["when"], tz),
                               f"exported {count} {ev.get('model', 'records')} records",
                               count=count, at=ev["when"].isoformat()))
    return out


def after_hours(events, hours: BusinessHours, clinical_logins) -> list[dict]:
    """Logins and audited PHI operations outside business hours by users with
    no clinical role: one finding per user and local day, with the count."""
    clinical = set(clinical_logins)
    per_day = defaultdict(list)
    for ev in events:
        if ev["login"] in clinical or hours.contains(ev["when"]):
            continue
        per_day[(ev["login"], local_day(ev["when"], hours.tz))].append(ev)
    out = []
    for (login, day), evs in sorted(per_day.items()):
        kinds = sorted({e["kind"] for e in evs})
        first = min(e["when"] for e in evs)
        out.append(finding("after_hours", login, day,
                           f"{len(evs)} {'/'.join(kinds)} outside business hours, first at "
                           f"{hours.local(first):%H:%M}", count=len(evs)))
    return out


def flagged_reads(events, flagged_ids, own_partner, tz) -> list[dict]:
    """Reads of flagged partners (res.partner ids) by anyone but the person
    the record describes (own_partner: login -> that user's partner id)."""
    flagged = set(flagged_ids)
    hits = defaultdict(set)
    for ev in events:
        if ev["kind"] != "read" or ev.get("model") != "res.partner":
            continue
        for rid in set(ev.get("res_ids", ())) & flagged:
            if own_partner.get(ev["login"]) != rid:
                hits[(ev["login"], local_day(ev["when"], tz))].add(rid)
    return [finding("flagged_read", login, day, f"read flagged record(s) res.partner {sorted(ids)}",
                    count=len(ids), records=sorted(ids))
            for (login, day), ids in sorted(hits.items())]


# Odoo 18 (odoo/addons/base/models/res_users.py): "Login failed for db:%s login:%s from %s",
# in a line the aggregator stores as "<RFC 3339 time> <host> <ip> <facility.severity> <tag> <message>".
FAILED_LOGIN = re.compile(r"Login failed for db:(?P<db>\S*) login:(?P<login>.*?) from (?P<ip>\S+)\s*$")


def parse_failed_login(line: str):
    """(when, host, login, ip) of one stored failed-login line, else None."""
    match = FAILED_LOGIN.search(line)
    if not match:
        return None
    fields = line.split(" ", 2)
    try:
        when = dt.datetime.fromisoformat(fields[0])
    except (ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return when, fields[1], match.group("login"), match.group("ip")


def failed_logins(attempts, per_login: int, per_ip: int, tz) -> list[dict]:
    """attempts: (when, host, login, ip). At least per_login failures for one
    login, or per_ip from one address, in one local day."""
    by_login, by_ip = defaultdict(list), defaultdict(list)
    for when, host, login, ip in attempts:
        day = local_day(when, tz)
        by_login[(login, day)].append(ip)
        by_ip[(ip, day)].append(login)
    out = []
    for (login, day), ips in sorted(by_login.items()):
        if len(ips) >= per_login:
            out.append(finding("failed_logins", login, day,
                               f"{len(ips)} failed logins from {', '.join(sorted(set(ips)))}", count=len(ips)))
    for (ip, day), logins in sorted(by_ip.items()):
        if len(logins) >= per_ip:
            out.append(finding("failed_logins", "", day,
                               f"{len(logins)} failed logins from {ip} for {len(set(logins))} login(s)",
                               count=len(logins), ip=ip))
    return out


# --- the database half's lines and the aggregator's check ---------------------

def canonical(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def lines_digest(lines) -> str:
    return hashlib.sha256("".join(line + "\n" for line in lines).encode()).hexdigest()


def database_half(period: str, findings, cap: int, auditlog_rows: int, run: str = "") -> list[str]:
    """The lines the database half logs: each finding (at most `cap` per kind;
    the counts are whole), then the closing db_done line with their digest.
    `run` names this run (a review re-run for the same period is a new run:
    the aggregator reads the last complete one, never a mix)."""
    counts = defaultdict(int)
    lines = []
    for f in findings:
        counts[f["kind"]] += 1
        if counts[f["kind"]] <= cap:
            lines.append(canonical(dict(f, period=period, run=run)))
    done = {"kind": "db_done", "period": period, "run": run, "counts": dict(sorted(counts.items())),
            "auditlog_rows": auditlog_rows, "sha256": lines_digest(lines)}
    return lines + [canonical(done)]


def read_database_half(lines, period: str) -> tuple[list[dict], dict | None, str]:
    """From the lines the aggregator received (JSON messages of TAG), those of
    `period` and of its last run: (findings, the db_done record or None,
    state), state being 'complete', 'missing' (no db_done) or 'mismatch' (the
    run's lines do not hash to the digest its db_done carries: one was lost,
    added or changed)."""
    runs, done, order = defaultdict(list), {}, []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict) or obj.get("period") != period:
            continue
        run = str(obj.get("run", ""))
        if run not in order:
            order.append(run)
        if obj.get("kind") == "db_done":
            done[run] = obj
        else:
            runs[run].append(line)
    if not done:
        last = order[-1] if order else ""
        return [json.loads(x) for x in runs[last]], None, "missing"
    run = [r for r in order if r in done][-1]
    kept = runs[run]
    state = "complete" if lines_digest(kept) == done[run].get("sha256") else "mismatch"
    return [json.loads(x) for x in kept], done[run], state


# --- the aggregator's store ------------------------------------------------------
# role log_shipping: <store>/<host>/messages.log, renamed daily by logrotate to
# messages.log-YYYYMMDD, then gzipped and sealed (messages.log-YYYYMMDD.gz).
# A line: "<RFC 3339 time> <host> <address> <facility.severity> <tag><message>".

DATED = re.compile(r"\.log-(\d{8})(\.gz)?$")


def store_files(store: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """The files of the store that may hold lines of [start, end): the active
    ones, and the renamed ones dated from start's day to two days after end
    (a file is renamed after midnight and holds the day before)."""
    first = start.astimezone(dt.timezone.utc).date() - dt.timedelta(days=1)
    last = end.astimezone(dt.timezone.utc).date() + dt.timedelta(days=2)
    out = []
    for host in sorted(os.listdir(store)):
        hdir = os.path.join(store, host)
        if not os.path.isdir(hdir):
            continue
        dated_files, active = [], []
        for name in os.listdir(hdir):
            dated = DATED.search(name)
            if name.endswith(".log"):
                active.append(name)
            elif dated and first <= dt.datetime.strptime(dated.group(1), "%Y%m%d").date() <= last:
                dated_files.append((dated.group(1), name))
        # oldest first, the active file last: the lines come in the order they were written
        out.extend(os.path.join(hdir, pair[1]) for pair in sorted(dated_files))
        out.extend(os.path.join(hdir, name) for name in sorted(active))
    return out


def store_lines(store: str, start: dt.datetime, end: dt.datetime):
    """Every stored line whose own time is in [start, end), plain and gzipped files alike."""
    for path in store_files(store, start, end):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    when = dt.datetime.fromisoformat(line.split(" ", 1)[0])
                except ValueError:
                    continue
                if when.tzinfo is not None and in_period(when, start, end):
                    yield line.rstrip("\n")


def review_message(line: str):
    """The JSON message of a line the database half logged (tag TAG), else None."""
    parts = line.split(" ", 4)
    if len(parts) < 5:
        return None
    # the tag as rsyslog stores it: "odoo-hipaa-review[968] " from a client's
    # journal over RELP (RFC 5424: no colon), "odoo-hipaa-review: " locally
    match = re.match(re.escape(TAG) + r"(?:\[\d+\])?(?::\s?|\s)(.*)$", parts[4])
    return match.group(1) if match else None


# --- the configuration -------------------------------------------------------------
# roles/privacy_review writes it as JSON (/etc/odoo-hipaa-privacy-review/review.json);
# the role's validation (filter onprem.odoo_hipaa.privacy_review_problems) and
# both halves on the hosts read it through config_problems, so what the role
# accepts and what the tool runs with cannot disagree.

COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
XMLID = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_.]+")


def _positive(cfg: dict, key: str, problems: list) -> None:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{key} is {value!r}; it must be a whole number of at least 1")


def config_problems(cfg: dict) -> list[str]:
    """What is wrong with a review configuration, in words ([] when nothing)."""
    problems = []
    if cfg.get("period") not in PERIODS:
        problems.append(f"period is {cfg.get('period')!r}; it must be one of {', '.join(PERIODS)}"
                        " (§164.308(a)(1)(ii)(D): a review at least monthly)")
    try:
        zone(str(cfg.get("timezone")))
    except ValueError as exc:
        problems.append(f"timezone: {exc}")
    hours = cfg.get("business_hours")
    if not isinstance(hours, dict):
        problems.append("business_hours must be a mapping of days, start and end")
    else:
        try:
            BusinessHours(hours.get("days") or [], hours.get("start", ""), hours.get("end", ""), "UTC")
        except ValueError as exc:
            problems.append(f"business_hours: {exc}")
    for key in ("bulk_reads_per_day", "export_records", "failed_logins_per_login",
                "failed_logins_per_ip", "max_findings_per_kind"):
        _positive(cfg, key, problems)
    for col in cfg.get("flagged_partner_columns") or []:
        if not isinstance(col, str) or not COLUMN.fullmatch(col):
            problems.append(f"flagged_partner_columns: {col!r} is not a column name (lower case, digits, _)")
    for group in cfg.get("clinical_groups") or []:
        if not isinstance(group, str) or not XMLID.fullmatch(group):
            problems.append(f"clinical_groups: {group!r} is not an XML id (module.name)")
    for tag in cfg.get("flagged_tags") or []:
        if not isinstance(tag, str) or not tag.strip():
            problems.append(f"flagged_tags: {tag!r} is not a tag name")
    return problems


def business_hours(cfg: dict) -> BusinessHours:
    hours = cfg["business_hours"]
    return BusinessHours(hours["days"], hours["start"], hours["end"], cfg["timezone"])


# --- the two halves, given what they read --------------------------------------------

def review_database(cfg: dict, auditlog_rows, login_rows, flagged_ids, own_partner, clinical_logins) -> list[dict]:
    """The database half's findings for one period: auditlog_rows and login_rows
    as events_from_auditlog and events_from_logins take them (already limited to
    the period), the flagged partner ids, login -> own partner id, and the
    logins of the clinical groups."""
    tz = zone(cfg["timezone"])
    events = events_from_auditlog(auditlog_rows) + events_from_logins(login_rows)
    found = (bulk_reads(events, cfg["bulk_reads_per_day"], tz)
             + exports(events, cfg["export_records"], tz)
             + after_hours(events, business_hours(cfg), clinical_logins)
             + flagged_reads(events, flagged_ids, own_partner, tz))
    for f in found:
        # a line must fit the aggregator's message size: long id lists are cut
        if len(f.get("records", ())) > 50:
            f["records"] = f["records"][:50] + ["..."]
            f["detail"] = f"read {f['count']} flagged res.partner records, the first {f['records'][:3]} ..."
    return found


def review_store(cfg: dict, store: str, period: str, start: dt.datetime, end: dt.datetime,
                 now: dt.datetime) -> dict:
    """The aggregator half: the database half's last run for `period` (its
    lines are logged after the period, so the store is read up to `now`) and
    the failed logins of the period, from every host's files."""
    messages, attempts = [], []
    for line in store_lines(store, start, now):
        message = review_message(line)
        if message is not None:
            messages.append(message)
            continue
        attempt = parse_failed_login(line)
        if attempt and in_period(attempt[0], start, end):
            attempts.append(attempt)
    db_findings, done, state = read_database_half(messages, period)
    failed = failed_logins(attempts, cfg["failed_logins_per_login"], cfg["failed_logins_per_ip"],
                           zone(cfg["timezone"]))
    review = assemble(period, start, end, db_findings + failed, state, cfg["max_findings_per_kind"], now,
                      db_counts=(done or {}).get("counts"))
    review["failed_login_lines"] = len(attempts)
    review["database_run"] = (done or {}).get("run", "")
    review["auditlog_rows"] = (done or {}).get("auditlog_rows")
    return review


def review_due(period: str, tz: str, now: dt.datetime, grace_days: int) -> str:
    """The label of the latest period whose review must exist at `now`: the
    last whole period before now - grace_days."""
    return previous_period(now - dt.timedelta(days=grace_days), period, tz)[0]


# --- the review ------------------------------------------------------------------

def assemble(period: str, start: dt.datetime, end: dt.datetime, findings, db_state: str,
             cap: int, generated_at: dt.datetime, db_counts: dict | None = None) -> dict:
    """The review the privacy officer reads: at most `cap` findings listed per
    kind, the counts whole (db_counts: what the database half found before it
    capped its lines)."""
    counts = dict.fromkeys(KINDS, 0)
    listed = []
    for f in findings:
        if f["kind"] not in counts:
            continue
        counts[f["kind"]] += 1
        if counts[f["kind"]] <= cap:
            listed.append(f)
    for kind, n in (db_counts or {}).items():
        if kind in counts:
            counts[kind] = max(counts[kind], int(n))
    return {
        "period": period, "start": start.isoformat(), "end": end.isoformat(),
        "generated_at": generated_at.isoformat(),
        "result": "complete" if db_state == "complete" else "incomplete",
        "database_half": db_state,
        "counts": counts,
        "total": sum(counts.values()),
        "findings": sorted(listed, key=lambda f: (KINDS.index(f["kind"]), f.get("day", ""), f.get("login", ""))),
    }


TITLES = {
    "bulk_read": "Bulk reads of PHI",
    "export": "Exports",
    "after_hours": "After-hours access by non-clinical users",
    "failed_logins": "Repeated failed logins",
    "flagged_read": "Access to flagged records",
}


def render_html(review: dict) -> str:
    """The review as one self-contained HTML page; everything from the logs is escaped."""
    esc = html.escape
    state = ("complete" if review["result"] == "complete"
             else f"INCOMPLETE (database half: {review['database_half']})")
    rows = [f"<tr><td>{esc(TITLES[k])}</td><td>{review['counts'][k]}</td></tr>" for k in KINDS]
    body = []
    for kind in KINDS:
        found = [f for f in review["findings"] if f["kind"] == kind]
        if not found:
            continue
        body.append(f"<h2>{esc(TITLES[kind])}</h2><table><tr><th>day</th><th>login</th><th>what</th></tr>")
        body.extend(f"<tr><td>{esc(str(f.get('day', '')))}</td><td>{esc(str(f.get('login', '')))}</td>"
                    f"<td>{esc(str(f.get('detail', '')))}</td></tr>" for f in found)
        body.append("</table>")
        if len(found) < review["counts"][kind]:
            body.append(f"<p>{review['counts'][kind] - len(found)} more not listed (see the logs).</p>")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>Audit-log review {esc(review['period'])}</title></head><body>"
        f"<h1>Audit-log review {esc(review['period'])}</h1>"
        f"<p>§164.308(a)(1)(ii)(D), §164.312(b). Period {esc(review['start'])} to {esc(review['end'])}; "
        f"generated {esc(review['generated_at'])}; result: <strong>{esc(state)}</strong>.</p>"
        "<table><tr><th>finding</th><th>count</th></tr>" + "".join(rows) + "</table>"
        + "".join(body) + "</body></html>\n")
