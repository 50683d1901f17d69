# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The privacy officer's layer's evidence (role privacy_review): the scheduled
audit-log review ran for the last period that is due, and its timers run.

- privacy_review (log aggregator): the aggregator half's last review is
  complete (the database half's lines arrived whole) and covers the period due
  now; its timer is active and enabled.
- privacy_review_db (database host): the database half ran for that period; its
  timer is active and enabled.
- odoo_access_matrix (database host): the written access-control matrix, read
  from Odoo's live security tables, equals the site's declared healthcare
  roles (odoo_access_roles): each role's letters on each PHI model, no user
  with groups beyond their roles, without a role, or with two conflicting
  roles, the built-in administrator inactive. The matrix is the row's
  observed value; the evidence role writes it as its own page.
- odoo_privileged_passkey (database host): every active user holding a role
  marked privileged (IT Admin, Privacy Officer) has registered a passkey
  (Odoo's auth_passkey, FIDO2/WebAuthn: a hardware-backed factor); the row
  names those who have none.

A period is due once it has ended and the collection's grace days
(privacy_review_grace_days) have passed; none is owed for a period that ended
before the review was installed (<state>/installed). The period and the site's
clock are read from the host's own review configuration, the file the tool
runs with. Each check returns (passed, observed, expected)."""

from __future__ import annotations

import datetime as dt
import json

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import (
    Fail, _json_file, _psql, _text, _unit_active)
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import access_matrix as am
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import privacy_review as pr

CONFIG = "/etc/odoo-hipaa-privacy-review/review.json"
STATE = "/var/lib/odoo-hipaa-privacy"


def _due(ctx):
    """(config, the label of the period due now, installed time or None)."""
    try:
        cfg = json.loads(_text(ctx, CONFIG, " (role privacy_review is not applied here)"))
    except ValueError:
        raise Fail("%s is not JSON" % CONFIG)
    problems = pr.config_problems(cfg)
    if problems:
        raise Fail("the review's configuration is refused: %s" % "; ".join(problems))
    due = pr.review_due(cfg["period"], cfg["timezone"], ctx.now, LIMITS["privacy_review_grace_days"])
    installed = ctx.read(STATE + "/installed")
    try:
        installed = dt.datetime.fromisoformat(installed.strip()) if installed else None
    except ValueError:
        installed = None
    return cfg, due, installed


def _judge(ctx, unit, result_file, done_ok):
    cfg, due, installed = _due(ctx)
    timer_ok, timer = _unit_active(ctx, unit + ".timer")
    _label, _start, due_end = pr.period_from_label(due, cfg["timezone"])
    owed = installed is None or installed < due_end
    observed = {"period": cfg["period"], "timezone": cfg["timezone"], "due": due, "timer": timer}
    last = None
    if ctx.read(result_file) is not None:
        last = _json_file(ctx, result_file)
        observed["last"] = {k: last.get(k) for k in ("period", "generated_at", "result", "database_half", "total", "counts")
                            if k in last}
    if last is not None and str(last.get("period", "")) >= due and done_ok(last):
        review_ok = True
    elif not owed and (last is None or done_ok(last)):
        review_ok = True
        observed["note"] = "no review owed yet: installed %s, after the due period %s ended" % (
            installed.isoformat(), due)
    else:
        review_ok = False
        observed["problem"] = ("no review has run" if last is None else
                               "the last review (%s, %s) is not a complete one of %s or later"
                               % (last.get("period"), last.get("result"), due))
    return timer_ok and review_ok, observed


def check_privacy_review(ctx):
    ok, observed = _judge(ctx, "odoo-hipaa-privacy-review", STATE + "/last.json",
                          lambda last: last.get("result") == "complete")
    return ok, observed, (
        "a complete review (the database half's lines whole) of the last period due (%d grace days), "
        "its timer active and enabled" % LIMITS["privacy_review_grace_days"])


def check_privacy_review_db(ctx):
    ok, observed = _judge(ctx, "odoo-hipaa-privacy-review-db", STATE + "/db-last.json",
                          lambda last: last.get("result") == "done")
    return ok, observed, (
        "the database half ran for the last period due (%d grace days), its timer active and enabled"
        % LIMITS["privacy_review_grace_days"])


def check_odoo_access_matrix(ctx):
    roles = ctx.s("odoo_access_roles", [])
    phi_models = ctx.s("odoo_phi_models", [])
    conflicts = ctx.s("odoo_access_role_conflicts", [])
    problems = am.role_problems(roles, phi_models, conflicts) + am.domain_problems(
        ctx.s("odoo_access_no_phi_domains", {}), phi_models)
    if problems:
        raise Fail("the declared roles are refused: %s" % "; ".join(problems))
    db = ctx.s("odoo_database", "odoo")
    if _psql(ctx, "SELECT to_regclass('public.ir_rule') IS NOT NULL", db) != [["t"]]:
        raise Fail("database %s has no Odoo schema (ir_rule missing)" % db)
    rows = _psql(ctx, "BEGIN READ ONLY; " + am.live_sql(phi_models) + "; COMMIT", db)
    try:
        doc = json.loads(rows[0][0])
    except (IndexError, ValueError):
        raise Fail("the read of Odoo's security tables gave no JSON")
    result = am.compare(roles, phi_models, conflicts, am.live_from_doc(doc, roles),
                        no_phi=am.no_phi_domains(ctx.s("odoo_access_no_phi_domains", {}), phi_models))
    observed = {"differences": result["differences"], "phi_models": list(phi_models),
                "matrix": result["matrix"], "users": result["users"]}
    return not result["differences"], observed, \
        "the live roles x PHI models equal odoo_access_roles; every internal user holds a role, nothing beyond it, " \
        "no conflicting pair; the built-in administrator inactive"


def check_odoo_privileged_passkey(ctx):
    roles = ctx.s("odoo_access_roles", [])
    privileged = sorted("role_" + r["key"] for r in roles if isinstance(r, dict) and r.get("privileged"))
    db = ctx.s("odoo_database", "odoo")
    if _psql(ctx, "SELECT to_regclass('public.auth_passkey_key') IS NOT NULL", db) != [["t"]]:
        raise Fail("Odoo's auth_passkey is not installed in database %s (Odoo 17.0 has none)" % db)
    names = ", ".join("'%s'" % n for n in privileged if am.KEY.fullmatch(n[5:])) or "''"
    rows = _psql(ctx, "SELECT u.login, count(DISTINCT k.id) FROM res_users u"
                      " JOIN res_groups_users_rel r ON r.uid = u.id"
                      " JOIN ir_model_data d ON d.model = 'res.groups' AND d.res_id = r.gid"
                      " AND d.module = '%s' AND d.name IN (%s)"
                      " LEFT JOIN auth_passkey_key k ON k.create_uid = u.id"
                      " WHERE u.active AND NOT u.share GROUP BY u.login ORDER BY u.login" % (am.ROLE_MODULE, names), db)
    keys = dict((r[0], int(r[1])) for r in rows if len(r) > 1)
    without = sorted(login for login, n in keys.items() if n == 0)
    observed = {"privileged_roles": [n[5:] for n in privileged], "passkeys": keys, "without_passkey": without}
    return not without, observed, "every active user of a privileged role (%s) has a passkey (auth_passkey)" % (
        ", ".join(n[5:] for n in privileged) or "none declared")


CHECKS = {
    "odoo_access_matrix": ("AC-1", "Written access-control matrix, live = declared (minimum necessary)",
                           check_odoo_access_matrix),
    "odoo_privileged_passkey": ("IA-1", "Privileged users hold a passkey (FIDO2, hardware-backed factor)",
                                check_odoo_privileged_passkey),
    "privacy_review": ("AU-3", "Audit-log review done for the last period, complete", check_privacy_review),
    "privacy_review_db": ("AU-3", "Audit-log review's database half ran for the last period", check_privacy_review_db),
}
