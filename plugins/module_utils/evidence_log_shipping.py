# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The log shipping layer's evidence: forwarding over TLS with a disk-assisted
queue, and the aggregator's six-year retention.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import re

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import Fail, _text


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
    path = ctx.s("log_retention_file", "/etc/logrotate.d/odoo-hipaa-log-aggregator")
    text = _text(ctx, path)
    rotate = re.search(r"^\s*rotate\s+(\d+)", text, re.M)
    maxage = re.search(r"^\s*maxage\s+(\d+)", text, re.M)
    days = min(int(m.group(1)) for m in (rotate, maxage)) if rotate and maxage else 0
    compressed = re.search(r"^\s*compress\b", text, re.M) is not None
    return days >= 2190, "%s: daily, rotate %s, maxage %s%s" % (
        path, rotate.group(1) if rotate else "?", maxage.group(1) if maxage else "?",
        ", compressed" if compressed else ""), ">= 2190 days (6 years)"


CHECKS = {
    "log_retention": ("AU-2", "Aggregator keeps logs at least 6 years", check_log_retention),
    "log_forwarding": ("IN-1", "Logs shipped over TLS with a disk-assisted queue", check_log_forwarding),
}
