# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The go-live gate (issue 19 part 5; docs/design/19-privacy-officer.md §4.5).

The pre-go-live checklist's items in one place (ITEMS), and their judgement:
the technical items from the rows of an evidence report (the JSON that role
evidence writes, reports/evidence/latest.json), the administrative ones from
the dated attestations the inventory holds, either of them accepted amber by a
written waiver. Pure Python, no Ansible: the filters golive_problems (inputs
refused before any host is read) and golive_verdict (the checklist) call it on
the controller for role evidence's entry points golive_validate and golive;
tests/unit/test_golive.py tests it.
"""

from __future__ import annotations

import datetime as dt
import re

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS

# The checklist. An item is judged either from evidence rows (`rows`: every
# one must be reported by at least one host and pass on every host that
# reports it) or from an attestation in golive_attestations (`attested`).
ITEMS = (
    {"key": "tls_hsts", "title": "TLS 1.2+ with strong ciphers, HSTS and secure session cookies",
     "citation": "§164.312(e)(1), §164.312(e)(2)(ii)",
     "rows": ("tls_protocols", "tls_weak_cipher", "hsts", "cookie_flags")},
    {"key": "disk_encryption", "title": "Encryption at rest of ePHI, backups included",
     "citation": "§164.312(a)(2)(iv), §164.308(a)(7)(ii)(A)",
     "rows": ("luks_volumes", "backup_password_file", "pgbackrest_encrypted")},
    {"key": "session_limits", "title": "Automatic logoff: idle timeout and absolute session lifetime",
     "citation": "§164.312(a)(2)(iii)",
     "rows": ("odoo_session_limits",)},
    {"key": "mfa", "title": "Multi-factor authentication for every Odoo user",
     "citation": "§164.312(d)",
     "rows": ("odoo_mfa",)},
    {"key": "audit_log_6y", "title": "Audit log of ePHI access, kept six years, sealed",
     "citation": "§164.312(b), §164.316(b)(2)(i), §164.312(c)(1)",
     "rows": ("odoo_auditlog", "log_retention", "log_seal")},
    {"key": "admin_disabled", "title": "Built-in administrator disabled (unique user identification)",
     "citation": "§164.312(a)(2)(i)",
     "rows": ("odoo_admin_disabled",)},
    {"key": "monthly_review", "title": "Monthly audit-log review scheduled and done",
     "citation": "§164.308(a)(1)(ii)(D), §164.312(b)",
     "rows": ("privacy_review", "privacy_review_db")},
    {"key": "access_matrix", "title": "Written access-control matrix matches the live system",
     "citation": "§164.312(a)(1), §164.514(d)",
     "rows": ("odoo_access_matrix",)},
    {"key": "cert_auto_renewal", "title": "Certificate auto-renewal verified",
     "citation": "§164.312(e)(1)",
     "rows": ("tls_certificate", "acme_renewal")},
    # Administrative safeguards, attested in the inventory (document, owner, date).
    {"key": "baa", "title": "Business associate agreements with every vendor and sub-processor",
     "citation": "§164.308(b)(1), §164.314(a)", "attested": True},
    {"key": "risk_analysis", "title": "Risk analysis within the last 12 months",
     "citation": "§164.308(a)(1)(ii)(A)", "attested": True},
    {"key": "training", "title": "Security awareness training records",
     "citation": "§164.308(a)(5)", "attested": True},
    {"key": "sanction_policy", "title": "Sanction policy in force",
     "citation": "§164.308(a)(1)(ii)(C)", "attested": True},
    {"key": "breach_tabletop", "title": "Breach runbook tested in a tabletop exercise",
     "citation": "§164.308(a)(6)", "attested": True},
)
ITEM_KEYS = tuple(item["key"] for item in ITEMS)
ATTESTED_KEYS = tuple(item["key"] for item in ITEMS if item.get("attested"))

# The longest an attestation may be old, in days: §164.308(a)(1)(ii)(A) and
# §164.308(a)(8) ask for a risk analysis and an evaluation kept current; the
# seed's checklist says "within 12 months" for each. A BAA has no age limit,
# it has its own expiry date.
ATTESTATION_MAX_AGE_DAYS = LIMITS["golive_attestation_max_age_days"]

# A written waiver is at least this long (the collection's rule for every waiver).
WAIVER_MIN_LENGTH = LIMITS["waiver_min_length"]

ATTESTATION_FIELDS = ("document", "owner", "date")
BAA_FIELDS = ("vendor", "document", "owner", "date", "expires")
WAIVER_FIELDS = ("item", "reason", "approved_by", "date")

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


# --- dates -------------------------------------------------------------------

def parse_date(value):
    """A date from a datetime.date (YAML's unquoted 2026-09-15) or an ISO
    YYYY-MM-DD string; None when it is neither."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_time(value):
    """An aware UTC datetime from an ISO 8601 string ('...Z' or with an offset;
    naive means UTC), or a datetime; None otherwise."""
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str) and value.strip():
        try:
            when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def _now(now):
    when = parse_time(now) if now is not None else dt.datetime.now(dt.timezone.utc)
    if when is None:
        raise ValueError("now is not an ISO 8601 time: %r" % (now,))
    return when


def _today(today):
    if today is None:
        return dt.datetime.now(dt.timezone.utc).date()
    if isinstance(today, dt.datetime):
        return _now(today).date()
    day = parse_date(today)
    if day is None:
        when = parse_time(today)
        if when is None:
            raise ValueError("today is not an ISO date: %r" % (today,))
        day = when.date()
    return day


def _text(value):
    """The value as stripped text ('' for None; dates in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


# --- inputs refused before any host is read --------------------------------------

def _entry_problems(entry, fields, today, date_fields=("date",)):
    """What is wrong with one attestation or waiver (a dict with `fields`), in words."""
    if not isinstance(entry, dict):
        return ["is not a mapping of %s" % ", ".join(fields)]
    out = []
    unknown = sorted(str(k) for k in entry if k not in fields)
    if unknown:
        out.append("has unknown field(s) %s (known: %s)" % (", ".join(unknown), ", ".join(fields)))
    missing = [f for f in fields if _text(entry.get(f)) == ""]
    if missing:
        out.append("has no %s" % ", no ".join(missing))
    for field in date_fields:
        if field in missing:
            continue
        day = parse_date(entry.get(field))
        if day is None:
            out.append("%s %r is not an ISO date (YYYY-MM-DD)" % (field, _text(entry.get(field))))
        elif field == "date" and day > today:
            out.append("is dated %s, in the future (today is %s UTC)" % (day.isoformat(), today.isoformat()))
    if "expires" in date_fields and not missing:
        signed, expires = parse_date(entry.get("date")), parse_date(entry.get("expires"))
        if signed and expires and expires < signed:
            out.append("expires (%s) before it was signed (%s)" % (expires.isoformat(), signed.isoformat()))
    return out


def problems(attestations, waivers=None, vendors=None, today=None):
    """The go-live inputs the gate refuses to judge, each in words ([] when
    none): golive_attestations, golive_waivers and golive_vendors as the
    inventory gives them. A vendor without a BAA is not refused: it is a red item."""
    today = _today(today)
    out = []
    if attestations is None:
        attestations = {}
    if not isinstance(attestations, dict):
        out.append("golive_attestations is not a mapping of item to attestation")
        attestations = {}
    for key, value in attestations.items():
        if key not in ITEM_KEYS:
            out.append("golive_attestations: unknown item %r (attested items: %s)" % (key, ", ".join(ATTESTED_KEYS)))
        elif key not in ATTESTED_KEYS:
            out.append("golive_attestations: %s is judged from the evidence rows (%s), not attested; a site that meets it "
                       "another way waives it in golive_waivers" % (key, ", ".join(_item(key)["rows"])))
        elif key == "baa":
            if value is None:
                continue
            if not isinstance(value, list):
                out.append("golive_attestations.baa is not a list (one entry per vendor: %s)" % ", ".join(BAA_FIELDS))
                continue
            for i, entry in enumerate(value):
                label = "golive_attestations.baa[%d]" % i
                if isinstance(entry, dict) and _text(entry.get("vendor")):
                    label += " (%s)" % _text(entry.get("vendor"))
                out.extend("%s %s" % (label, p) for p in _entry_problems(entry, BAA_FIELDS, today, ("date", "expires")))
        else:
            out.extend("golive_attestations.%s %s" % (key, p) for p in _entry_problems(value, ATTESTATION_FIELDS, today))

    if waivers is None:
        waivers = []
    if not isinstance(waivers, list):
        out.append("golive_waivers is not a list of {item, reason, approved_by, date}")
        waivers = []
    seen = set()
    for i, waiver in enumerate(waivers):
        label = "golive_waivers[%d]" % i
        if isinstance(waiver, dict) and _text(waiver.get("item")):
            item = _text(waiver.get("item"))
            label += " (%s)" % item
            if item not in ITEM_KEYS:
                out.append("%s names an unknown item (items: %s)" % (label, ", ".join(ITEM_KEYS)))
            elif item in seen:
                out.append("%s waives an item already waived" % label)
            seen.add(item)
        out.extend("%s %s" % (label, p) for p in _entry_problems(waiver, WAIVER_FIELDS, today))
        if isinstance(waiver, dict) and _text(waiver.get("reason")) and len(_text(waiver.get("reason"))) < WAIVER_MIN_LENGTH:
            out.append("%s has a reason shorter than %d characters: write why the item is met otherwise"
                       % (label, WAIVER_MIN_LENGTH))

    if vendors is not None:
        if not isinstance(vendors, list):
            out.append("golive_vendors is not a list of vendor names")
        elif any(_text(v) == "" or isinstance(v, (dict, list)) for v in vendors):
            out.append("golive_vendors has an empty or non-text entry")
    return out


# --- the judgement -------------------------------------------------------------------

def _item(key):
    return next(item for item in ITEMS if item["key"] == key)


def _valid_waivers(waivers, today):
    """The waivers that count: complete, known item, dated, long enough (the
    first one per item). problems() refuses the others before the gate runs."""
    valid = {}
    for waiver in waivers or []:
        if not isinstance(waiver, dict) or _entry_problems(waiver, WAIVER_FIELDS, today):
            continue
        item, reason = _text(waiver.get("item")), _text(waiver.get("reason"))
        if item in ITEM_KEYS and item not in valid and len(reason) >= WAIVER_MIN_LENGTH:
            valid[item] = {"reason": reason, "approved_by": _text(waiver.get("approved_by")),
                           "date": parse_date(waiver.get("date")).isoformat()}
    return valid


def _judge_rows(item, by_check, stale):
    """(state, reason, details, rows) of an item proven by evidence rows."""
    reds, ambers, details, seen = [], [], [], []
    if stale:
        reds.append(stale)
    hosts = set()
    for check in item["rows"]:
        rows = by_check.get(check, [])
        if not rows:
            reds.append("not evidenced: row %s absent" % check)
            continue
        for row in rows:
            host, status = _text(row.get("host")) or "?", _text(row.get("status"))
            hosts.add(host)
            seen.append({"check": check, "host": host, "status": status, "checked_at": _text(row.get("checked_at"))})
            if status == "pass":
                continue
            if status == "waived":
                ambers.append("row %s waived on %s" % (check, host))
                details.append("row %s on %s waived: %s" % (check, host, _text(row.get("waiver"))))
            else:
                reds.append("row %s %s on %s" % (check, "failed" if status == "fail" else "is %r" % status, host))
                details.append("row %s on %s observed: %s" % (check, host, _short(row.get("observed"))))
    if reds:
        return "red", "; ".join(reds), details, seen
    if ambers:
        return "amber", "; ".join(ambers), details, seen
    return "green", "rows %s passed on %s" % (", ".join(item["rows"]), ", ".join(sorted(hosts))), details, seen


def _short(value, limit=300):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _judge_attestation(key, attestation, today):
    """(state, reason, details, attestation shown) of a dated attestation."""
    if attestation is None or attestation == {}:
        return "red", "not attested: golive_attestations.%s needs document, owner and date" % key, [], None
    shown = dict((f, _text(attestation.get(f))) for f in ATTESTATION_FIELDS) if isinstance(attestation, dict) else None
    bad = _entry_problems(attestation, ATTESTATION_FIELDS, today)
    if bad:
        return "red", "attestation refused: %s" % "; ".join(bad), [], shown
    signed = parse_date(attestation.get("date"))
    age, limit = (today - signed).days, ATTESTATION_MAX_AGE_DAYS[key]
    what = "%s (%s), %s" % (shown["document"], shown["owner"], signed.isoformat())
    if age > limit:
        return "red", "%s is %d days old (at most %d): attest again" % (what, age, limit), [], shown
    return "green", "%s, %d days ago (at most %d)" % (what, age, limit), [], shown


def _judge_baa(entries, vendors, today):
    """(state, reason, details, attestation shown) of the BAA item: one current BAA per declared vendor."""
    if vendors is None:
        return ("red", "golive_vendors is not declared: list every vendor and sub-processor that creates, receives, "
                "keeps or transmits ePHI (an empty list when there is none)", [], None)
    if not isinstance(vendors, (list, tuple)):
        return "red", "golive_vendors is not a list of vendor names", [], None
    entries = [e for e in (entries if isinstance(entries, list) else []) if isinstance(e, dict)]
    shown = [dict((f, _text(e.get(f))) for f in BAA_FIELDS) for e in entries]
    declared = [_text(v) for v in vendors]
    details = ["BAA %s with %s, a vendor not in golive_vendors" % (_text(e.get("document")), _text(e.get("vendor")))
               for e in entries if _text(e.get("vendor")).casefold() not in [v.casefold() for v in declared]]
    if not declared:
        return "green", "no vendor or sub-processor declared (golive_vendors is empty)", details, shown
    reds, greens = [], []
    for vendor in declared:
        mine = [e for e in entries if _text(e.get("vendor")).casefold() == vendor.casefold()]
        if not mine:
            reds.append("no BAA with %s" % vendor)
            continue
        valid = [e for e in mine if not _entry_problems(e, BAA_FIELDS, today, ("date", "expires"))]
        if not valid:
            bad = _entry_problems(mine[0], BAA_FIELDS, today, ("date", "expires"))
            reds.append("BAA with %s refused: %s" % (vendor, "; ".join(bad)))
            continue
        best = max(valid, key=lambda e: parse_date(e.get("expires")))
        expires = parse_date(best.get("expires"))
        if expires < today:
            reds.append("BAA %s with %s expired on %s" % (_text(best.get("document")), vendor, expires.isoformat()))
        else:
            greens.append("%s (%s, until %s)" % (vendor, _text(best.get("document")), expires.isoformat()))
    if reds:
        return "red", "; ".join(reds), details, shown
    return "green", "BAAs with " + ", ".join(greens), details, shown


def _stale(generated, now, max_age_hours):
    """Why the evidence is too old (or undated) to judge, or ''."""
    if generated is None:
        return "evidence has no generation time (summary.generated_at): run playbooks/verify.yml again"
    hours = (now - generated).total_seconds() / 3600.0
    if hours < -1:
        return "evidence is dated %s, in the future" % generated.strftime("%Y-%m-%dT%H:%M:%SZ")
    if max_age_hours and hours > max_age_hours:
        return ("evidence of %s is %.0f h old (at most %d h): run playbooks/verify.yml again"
                % (generated.strftime("%Y-%m-%dT%H:%M:%SZ"), hours, max_age_hours))
    return ""


def verdict(evidence, attestations=None, waivers=None, vendors=None, now=None, evidence_file="",
            evidence_max_age_hours=24):
    """The go-live checklist: every item of ITEMS with its state (green, amber,
    red) and the reason, from an evidence report ({summary, controls: [rows]})
    and the inventory's attestations, waivers and vendors. `passed` is false
    while any item is red: the gate then fails."""
    if not isinstance(evidence, dict) or not isinstance(evidence.get("controls"), list):
        raise ValueError("%s is not an evidence report (a JSON object with a 'controls' list of rows, as role "
                         "evidence writes it)" % (evidence_file or "the evidence"))
    now = _now(now)
    today = now.date()
    attestations = attestations if isinstance(attestations, dict) else {}
    summary = evidence.get("summary") if isinstance(evidence.get("summary"), dict) else {}
    generated = parse_time(summary.get("generated_at"))
    stale = _stale(generated, now, int(evidence_max_age_hours or 0))
    by_check = {}
    for row in evidence["controls"]:
        if isinstance(row, dict):
            by_check.setdefault(_text(row.get("check")), []).append(row)
    waived = _valid_waivers(waivers, today)

    results = []
    for item in ITEMS:
        key = item["key"]
        result = {"key": key, "title": item["title"], "citation": item["citation"],
                  "kind": "attestation" if item.get("attested") else "evidence"}
        if key == "baa":
            state, reason, details, shown = _judge_baa(attestations.get("baa"), vendors, today)
            result["attestation"] = shown
        elif item.get("attested"):
            state, reason, details, shown = _judge_attestation(key, attestations.get(key), today)
            result["attestation"] = shown
        else:
            state, reason, details, seen = _judge_rows(item, by_check, stale)
            result["rows"] = seen
            result["needs_rows"] = list(item["rows"])
        if key in waived:
            waiver = waived[key]
            result["waiver"] = waiver
            if state == "green":
                details = details + ["a written waiver exists (%s, %s) but is not needed" % (waiver["approved_by"], waiver["date"])]
            else:
                details = ["without the waiver: %s" % reason] + details
                state = "amber"
                reason = "waived by %s on %s: %s [%s]" % (waiver["approved_by"], waiver["date"], waiver["reason"], reason)
        result.update(state=state, reason=reason, details=details)
        results.append(result)

    counts = dict((s, sum(1 for r in results if r["state"] == s)) for s in ("green", "amber", "red"))
    overall = "red" if counts["red"] else ("amber" if counts["amber"] else "green")
    hosts = summary.get("hosts") if isinstance(summary.get("hosts"), list) else sorted(
        set(_text(r.get("host")) for r in evidence["controls"] if isinstance(r, dict)))
    out = {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "today": today.isoformat(),
        "verdict": overall,
        "passed": counts["red"] == 0,
        "counts": counts,
        "red": [r["key"] for r in results if r["state"] == "red"],
        "evidence": {"file": evidence_file, "generated_at": _text(summary.get("generated_at")),
                     "hosts": [_text(h) for h in hosts], "stale": stale,
                     "max_age_hours": int(evidence_max_age_hours or 0)},
        "items": results,
    }
    out["lines"] = checklist(out)
    return out


def checklist(result):
    """The checklist as text lines: a heading, then one line per item (state, item, reason)."""
    counts = result["counts"]
    lines = ["Go-live gate %s: %d green, %d amber, %d red (evidence %s of %s)" % (
        result["verdict"].upper(), counts["green"], counts["amber"], counts["red"],
        result["evidence"]["file"] or "-", result["evidence"]["generated_at"] or "?")]
    for item in result["items"]:
        lines.append("%-5s %-17s %s" % (item["state"].upper(), item["key"], item["reason"]))
    return lines
