#!/usr/bin/python3
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""odoo-hipaa-privacy-review: the scheduled audit-log review (onprem.odoo_hipaa,
role privacy_review). §164.308(a)(1)(ii)(D), §164.308(a)(5)(ii)(C), §164.312(b).

  odoo-hipaa-privacy-review db [--period LABEL] [--emit stdout|syslog]
      On the database host, as odoo_hipaa_review (peer, SELECT on named columns
      only, a read-only transaction): reads Odoo's auditlog and logins of the
      period and logs one JSON line per finding, then a closing db_done line
      with the SHA-256 of those lines (tag odoo-hipaa-review). The log shipping
      carries them to the aggregator. Writes <state>/db-last.json.
  odoo-hipaa-privacy-review aggregator [--period LABEL]
      On the aggregator: the database half's last run for the period and the
      failed logins of every Odoo host from the log store; writes
      <state>/reviews/<period>.json and .html and <state>/last.json. Exit 0
      when the review is complete, 2 when it is incomplete (no database half,
      or its lines do not match their digest), 3 when it could not be made
      (last.json then says why).
  odoo-hipaa-privacy-review check db|aggregator
      Reads what the half would read and prints counts; changes nothing.

--period: 2026-11 (monthly) or 2026-W48 (weekly); default: the last whole
period before now on the site's clock. --config: the role's JSON file.
"""

import argparse
import datetime as dt
import json
import os
import socket
import sys
import syslog
import traceback

sys.path.insert(0, "/usr/local/lib/odoo-hipaa/privacy-review")
import privacy_review as pr  # noqa: E402  pylint: disable=wrong-import-position

CONFIG = "/etc/odoo-hipaa-privacy-review/review.json"
UTC = dt.timezone.utc


def load(path):
    with open(path, encoding="utf-8") as handle:
        cfg = json.load(handle)
    problems = pr.config_problems(cfg)
    if problems:
        sys.exit("odoo-hipaa-privacy-review: %s: %s" % (path, "; ".join(problems)))
    return cfg


def period_of(cfg, label, now):
    if label:
        return pr.period_from_label(label, cfg["timezone"])
    return pr.previous_period(now, cfg["period"], cfg["timezone"])


def write_json(path, obj, mode=0o640):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=1, sort_keys=True, default=str)
        handle.write("\n")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def names_of(text):
    """A partner tag's names: Odoo 18 stores a translated name as JSON."""
    try:
        obj = json.loads(text)
    except (TypeError, ValueError):
        return {str(text)}
    return {str(v) for v in obj.values()} if isinstance(obj, dict) else {str(obj)}


# --- the database half ----------------------------------------------------------

def read_database(cfg, start, end):
    import psycopg2  # pylint: disable=import-outside-toplevel
    from psycopg2 import sql  # pylint: disable=import-outside-toplevel

    naive = [t.astimezone(UTC).replace(tzinfo=None) for t in (start, end)]   # Odoo stores UTC without a zone
    conn = psycopg2.connect(dbname=cfg["database"], application_name="odoo-hipaa-privacy-review")
    conn.set_session(readonly=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT l.create_date, u.login, l.method, m.model, l.res_id, l.res_ids"
                " FROM auditlog_log l JOIN res_users u ON u.id = l.user_id JOIN ir_model m ON m.id = l.model_id"
                " WHERE l.create_date >= %s AND l.create_date < %s ORDER BY l.id", naive)
            audit = cur.fetchall()
            cur.execute(
                "SELECT l.create_date, u.login FROM res_users_log l JOIN res_users u ON u.id = l.create_uid"
                " WHERE l.create_date >= %s AND l.create_date < %s", naive)
            logins = cur.fetchall()
            cur.execute("SELECT login, partner_id, share FROM res_users")
            users = cur.fetchall()
            flagged = {pid for _login, pid, share in users if pid and not share} if cfg.get("flag_staff") else set()
            tags = set(cfg.get("flagged_tags") or [])
            if tags:
                cur.execute("SELECT rel.partner_id, c.name::text FROM res_partner_res_partner_category_rel rel"
                            " JOIN res_partner_category c ON c.id = rel.category_id")
                flagged |= {pid for pid, name in cur.fetchall() if names_of(name) & tags}
            for column in cfg.get("flagged_partner_columns") or []:
                cur.execute(sql.SQL("SELECT id FROM res_partner WHERE {c} IS NOT NULL"
                                    " AND {c}::text NOT IN ('', 'false', '0')").format(c=sql.Identifier(column)))
                flagged |= {row[0] for row in cur.fetchall()}
            clinical = set()
            if cfg.get("clinical_groups"):
                cur.execute(
                    "SELECT DISTINCT u.login FROM res_users u JOIN res_groups_users_rel r ON r.uid = u.id"
                    " JOIN ir_model_data d ON d.model = 'res.groups' AND d.res_id = r.gid"
                    " WHERE d.module || '.' || d.name = ANY(%s)", [list(cfg["clinical_groups"])])
                clinical = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    own = {login: pid for login, pid, _share in users}
    return audit, logins, flagged, own, clinical


def run_db(cfg, label, start, end, now, emit):
    audit, logins, flagged, own, clinical = read_database(cfg, start, end)
    found = pr.review_database(cfg, audit, logins, flagged, own, clinical)
    run = "%s-%s" % (socket.gethostname(), now.strftime("%Y%m%dT%H%M%SZ"))
    lines = pr.database_half(label, found, cfg["max_findings_per_kind"], len(audit), run=run)
    if emit == "syslog":
        syslog.openlog(pr.TAG, 0, syslog.LOG_AUTHPRIV)
        for line in lines:
            syslog.syslog(syslog.LOG_NOTICE, line)
    else:
        for line in lines:
            print(line, flush=True)
    done = json.loads(lines[-1])
    write_json(os.path.join(cfg["state_dir"], "db-last.json"), {
        "period": label, "run": run, "generated_at": now.isoformat(), "result": "done",
        "counts": done["counts"], "auditlog_rows": len(audit), "logins": len(logins),
        "sha256": done["sha256"]})
    return 0


# --- the aggregator half ----------------------------------------------------------

def run_aggregator(cfg, label, start, end, now):
    review = pr.review_store(cfg, cfg["store"], label, start, end, now)
    out = os.path.join(cfg["state_dir"], "reviews")
    # the role makes it (setgid, the readers' group); the sandbox's
    # RestrictSUIDSGID refuses a mkdir that asks for the setgid bit itself
    os.makedirs(out, mode=0o750, exist_ok=True)
    write_json(os.path.join(out, label + ".json"), review)
    page = os.path.join(out, label + ".html")
    with open(page + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(pr.render_html(review))
    os.chmod(page + ".tmp", 0o640)
    os.replace(page + ".tmp", page)
    write_json(os.path.join(cfg["state_dir"], "last.json"), {
        "period": label, "generated_at": review["generated_at"], "result": review["result"],
        "database_half": review["database_half"], "counts": review["counts"], "total": review["total"],
        "review": os.path.join(out, label + ".html")})
    print("PRIVACY REVIEW %s: %d findings, %s (database half: %s)"
          % (label, review["total"], review["result"], review["database_half"]), flush=True)
    return 0 if review["result"] == "complete" else 2


def check(cfg, half, start, end):
    if half == "db":
        audit, logins, flagged, own, clinical = read_database(cfg, start, end)
        print(json.dumps({"auditlog_rows": len(audit), "logins": len(logins), "flagged": len(flagged),
                          "users": len(own), "clinical": len(clinical)}))
    else:
        files = pr.store_files(cfg["store"], start, end)
        print(json.dumps({"store": cfg["store"], "files": len(files)}))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="odoo-hipaa-privacy-review",
                                     description="The audit-log review (onprem.odoo_hipaa).")
    parser.add_argument("half", choices=["db", "aggregator", "check"])
    parser.add_argument("what", nargs="?", choices=["db", "aggregator"], help="for check: which half")
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--period", default="", help="2026-11 or 2026-W48; default: the last whole period")
    parser.add_argument("--emit", choices=["stdout", "syslog"], default="syslog",
                        help="db: where the lines go (the service: stdout, which journald tags)")
    args = parser.parse_args(argv)
    cfg = load(args.config)
    now = dt.datetime.now(UTC)
    try:
        label, start, end = period_of(cfg, args.period, now)
    except ValueError as exc:
        sys.exit("odoo-hipaa-privacy-review: %s" % exc)
    if args.half == "check":
        return check(cfg, args.what or "db", start, end)
    if args.half == "db":
        return run_db(cfg, label, start, end, now, args.emit)
    try:
        return run_aggregator(cfg, label, start, end, now)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # The review could not be made: say so where the evidence looks, then fail.
        traceback.print_exc()
        write_json(os.path.join(cfg["state_dir"], "last.json"), {
            "period": label, "generated_at": now.isoformat(), "result": "error",
            "error": "%s: %s" % (type(exc).__name__, exc)})
        print("PRIVACY REVIEW %s: not made (%s: %s)" % (label, type(exc).__name__, exc), flush=True)
        return 3


if __name__ == "__main__":
    sys.exit(main())
