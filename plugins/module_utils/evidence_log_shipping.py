# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The log shipping layer's evidence: forwarding over TLS with a disk-assisted
queue, the aggregator's six-year retention, and its sealed (immutable, hash
chained, signed) closed log files.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import datetime as dt
import json
import re

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import Fail, _text
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS


def check_log_forwarding(ctx):
    path = ctx.s("log_shipping_config", "/etc/rsyslog.conf")
    text = _text(ctx, path)
    live = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    actions = re.findall(r'action\(\s*type="(?:omrelp|omfwd)"(.*?)\)\s*$', live, re.S | re.M)
    if not actions:
        raise Fail("no forwarding action (omrelp/omfwd) in %s" % path)
    flat = re.sub(r"\s+", " ", actions[0])
    checks = {
        "TLS": re.search(r'\btls="on"|StreamDriverMode="1"', flat, re.I),
        "peer authenticated by name": re.search(r'tls\.authmode="name"|StreamDriverAuthMode="x509/name"', flat, re.I),
        "disk-assisted queue": re.search(r'queue\.filename="[^"]+"', flat, re.I),
        "queue saved on shutdown": re.search(r'queue\.saveOnShutdown="on"', flat, re.I),
        "retried without end": not re.search(r'action\.resumeRetryCount="(?!-1")', flat, re.I),
    }
    target = re.search(r'target="([^"]+)"', flat)
    missing = [k for k, m in checks.items() if not m]
    return not missing, {"config": path, "target": target.group(1) if target else None, "missing": missing}, \
        "forwarding over TLS with the aggregator's name checked; disk-assisted queue saved on shutdown"


def check_log_retention(ctx):
    """logrotate only renames (never removes: a sealed file is immutable); the
    seal expires files after its retention_days, which must be six years."""
    path = ctx.s("log_retention_file", "/etc/logrotate.d/odoo-hipaa-log-aggregator")
    text = _text(ctx, path)
    seal_path = ctx.s("log_seal_config", "/etc/odoo-hipaa-log-seal/seal.json")
    try:
        days = int(json.loads(_text(ctx, seal_path))["retention_days"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Fail("%s has no retention_days: %s" % (seal_path, exc))
    rotate = re.search(r"^\s*rotate\s+(-?\d+)", text, re.M)
    removes = [k for k in ("maxage", "compress", "maxsize", "shred") if re.search(r"^\s*%s\b" % k, text, re.M)]
    if not rotate or rotate.group(1) != "-1":
        removes.append("rotate %s" % (rotate.group(1) if rotate else "5 (the default)"))
    minimum = LIMITS["log_retention_days_min"]
    return days >= minimum and not removes, {
        "seal_config": seal_path, "retention_days": days, "logrotate": path,
        "logrotate_removes_or_rewrites": removes}, \
        ">= %d days (6 years) in the seal; logrotate renames only (rotate -1, no maxage, no compress)" % minimum


def check_log_seal(ctx):
    """The seal's quick verify passes now (chain, signatures, every sealed file
    present, immutable, the last 40 days hashed, anchors recorded off-host
    still in the chain), and a full verify passed recently."""
    tool = ctx.s("log_seal_tool", "/usr/local/sbin/odoo-hipaa-log-seal")
    config = ctx.s("log_seal_config", "/etc/odoo-hipaa-log-seal/seal.json")
    state = ctx.s("log_seal_state_dir", "/var/lib/odoo-hipaa-log-seal")
    argv = [tool, "verify", "--config", config]
    for anchor in ctx.s("log_seal_anchors", []):
        argv += ["--anchor", anchor]
    rc, out, err = ctx.run(argv)
    try:
        quick = json.loads(out)
    except ValueError:
        raise Fail("%s verify gave no result (exit %s): %s" % (tool, rc, (err or out).strip()[:300]))
    full_path = state + "/last-full-verify.json"
    try:
        full = json.loads(_text(ctx, full_path))
        age = (ctx.now - dt.datetime.fromisoformat(full["time"].replace("Z", "+00:00"))).total_seconds() / 86400
    except (ValueError, KeyError, TypeError, AttributeError, Fail) as exc:
        full, age = {"ok": False, "problems": ["no full verify result (%s)" % exc]}, None
    max_age = LIMITS["log_seal_full_verify_max_age_days"]
    full_ok = bool(full.get("ok")) and age is not None and age <= max_age
    observed = {k: quick.get(k) for k in ("head", "seq", "files", "hashed", "pending", "expired", "anchors", "pinned", "key")}
    observed["problems"] = quick.get("problems", [])[:10]
    observed["full_verify"] = {"ok": full.get("ok"), "age_days": None if age is None else round(age, 1),
                               "problems": full.get("problems", [])[:5]}
    observed["notes"] = quick.get("notes", [])
    return rc == 0 and bool(quick.get("ok")) and full_ok, observed, \
        "the chain verifies (signatures, links, anchors), every sealed file present, immutable and matching; " \
        "a full verify passed within %d days" % max_age


CHECKS = {
    "log_retention": ("AU-2", "Aggregator keeps logs at least 6 years", check_log_retention),
    "log_seal": ("IN-1", "Aggregator's closed logs are sealed: immutable, hash-chained, signed", check_log_seal),
    "log_forwarding": ("IN-1", "Logs shipped over TLS with a disk-assisted queue", check_log_forwarding),
}
