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


def database_half(period: str, findings, cap: int, auditlog_rows: int) -> list[str]:
    """The lines the database half logs: each finding (at most `cap` per kind;
    the counts are whole), then the closing db_done line with their digest."""
    counts = defaultdict(int)
    lines = []
    for f in findings:
        counts[f["kind"]] += 1
        if counts[f["kind"]] <= cap:
            lines.append(canonical(dict(f, period=period)))
    done = {"kind": "db_done", "period": period, "counts": dict(sorted(counts.items())),
            "auditlog_rows": auditlog_rows, "sha256": lines_digest(lines)}
    return lines + [canonical(done)]


def read_database_half(lines, period: str) -> tuple[list[dict], dict | None, str]:
    """From the lines the aggregator received (JSON messages of TAG), those of
    `period`: (findings, the db_done record or None, state), state being
    'complete', 'missing' (no db_done) or 'mismatch' (the lines do not hash to
    the digest db_done carries: one was lost, added or changed)."""
    kept, done = [], None
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict) or obj.get("period") != period:
            continue
        if obj.get("kind") == "db_done":
            done = obj
        else:
            kept.append(line)
    if done is None:
        return [json.loads(x) for x in kept], None, "missing"
    state = "complete" if lines_digest(kept) == done.get("sha256") else "mismatch"
    return [json.loads(x) for x in kept], done, state


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
    rest = parts[4]
    match = re.match(re.escape(TAG) + r"(\[\d+\])?: ?(.*)$", rest)
    return match.group(2) if match else None


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
