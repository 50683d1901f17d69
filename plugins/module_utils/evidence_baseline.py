# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The baseline layer's evidence: the host itself (listeners, SSH, firewall, time,
updates, fail2ban, auditd, AIDE) and the systemd sandbox of its services.

Both sandbox checks live here: they judge every sandboxed unit of the
collection's limit table (Odoo, nginx, PostgreSQL, rsyslog, the backup units)
with one host tool, systemd-analyze, as the baseline role's hardening does.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import json
import re

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import Fail, _exposure, _is_loopback, _listeners, _out, _unit_active
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS


def _sandboxed_units(ctx):
    """The units of the collection's sandbox table present here, with their limits
    (postgresql@ stands for every loaded cluster unit)."""
    units = []
    for name, limit in sorted(LIMITS["sandbox_exposure_max"].items()):
        if name == "odoo.service":
            continue  # odoo_sandbox
        if name.endswith("@"):
            rc, out, _err = ctx.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", name + "*.service"])
            units += [(line.split()[0], limit) for line in out.splitlines() if rc == 0 and line.strip()]
            continue
        rc, out, _err = ctx.run(["systemctl", "show", "-p", "LoadState", "--value", name])
        if rc == 0 and out.strip() == "loaded":
            units.append((name, limit))
    return units


# --- checks: each returns (passed, observed, expected) --------------------------

def check_listeners(ctx):
    allowed = set(ctx.s("public_listeners", []))
    public = sorted({"%s:%s %s" % ("[%s]" % a if ":" in a else a, p, proc)
                     for a, p, proc in _listeners(ctx) if not _is_loopback(a)})
    unexpected = sorted({"%s/%s" % (p, proc) for a, p, proc in _listeners(ctx)
                         if not _is_loopback(a) and "%s/%s" % (p, proc) not in allowed})
    observed = {"public": public, "unexpected": unexpected}
    return not unexpected, observed, "only %s on non-loopback addresses" % (", ".join(sorted(allowed)) or "nothing")


def check_odoo_sandbox(ctx):
    unit = ctx.s("odoo_service", "odoo.service")
    limit = LIMITS["sandbox_exposure_max"]["odoo.service"]
    figure = _exposure(ctx, unit)
    return figure <= limit, "exposure %s" % figure, "<= %s" % limit


def check_service_sandbox(ctx):
    units = _sandboxed_units(ctx)
    if not units:
        raise Fail("none of the sandboxed services (%s) is installed here" % ", ".join(sorted(LIMITS["sandbox_exposure_max"])))
    observed, over = {}, []
    for unit, limit in units:
        figure = _exposure(ctx, unit)
        observed[unit] = figure
        if figure > limit:
            over.append("%s %s > %s" % (unit, figure, limit))
    observed["over the limit"] = over
    return not over, observed, "exposure <= %s" % ", ".join(
        "%s %s" % (u, lim) for u, lim in sorted(LIMITS["sandbox_exposure_max"].items()) if u != "odoo.service")


def check_sshd(ctx):
    out = _out(ctx, ["sshd", "-T"], "sshd -T")
    conf = dict((line.split(None, 1) + [""])[:2] for line in out.splitlines() if line.strip())
    want = {"permitrootlogin": "no", "passwordauthentication": "no", "kbdinteractiveauthentication": "no",
            "pubkeyauthentication": "yes"}
    observed = dict((k, conf.get(k)) for k in list(want) + ["allowgroups", "clientaliveinterval"])
    ok = all(conf.get(k) == v for k, v in want.items()) and bool(conf.get("allowgroups"))
    return ok, observed, "keys only, no root login, AllowGroups set"


def check_nftables(ctx):
    data = json.loads(_out(ctx, ["nft", "-j", "list", "ruleset"], "nft list ruleset"))
    chains = [c["chain"] for c in data.get("nftables", []) if "chain" in c]
    inputs = ["%s %s policy %s" % (c.get("family"), c.get("name"), c.get("policy")) for c in chains
              if c.get("hook") == "input"]
    ok = any(c.get("hook") == "input" and c.get("policy") == "drop" for c in chains)
    return ok, {"input chains": inputs}, "an input hook with policy drop"


def check_unattended_upgrades(ctx):
    out = _out(ctx, ["apt-config", "dump", "APT::Periodic"], "apt-config dump")
    enabled = re.search(r'APT::Periodic::Unattended-Upgrade "1";', out) is not None
    lists = re.search(r'APT::Periodic::Update-Package-Lists "1";', out) is not None
    return enabled and lists, "Update-Package-Lists %s, Unattended-Upgrade %s" % (
        "1" if lists else "off", "1" if enabled else "off"), "both 1 (daily)"


def check_time_sync(ctx):
    out = _out(ctx, ["chronyc", "-n", "sources"], "chronyc sources")
    selected = [line.split()[1] for line in out.splitlines() if line[:2] in ("^*", "^+", "=*", "=+")]
    return bool(selected), {"usable sources": selected}, "at least one reachable, selected time source"


def check_fail2ban(ctx):
    out = _out(ctx, ["fail2ban-client", "status"], "fail2ban-client status")
    m = re.search(r"Jail list:\s*(.*)", out)
    jails = [j.strip() for j in (m.group(1) if m else "").split(",") if j.strip()]
    want = ctx.s("fail2ban_jails", ["sshd", "odoo"])
    return all(j in jails for j in want), {"jails": jails}, "jails %s active" % ", ".join(want)


def check_auditd_rules(ctx):
    out = _out(ctx, ["auditctl", "-l"], "auditctl -l")
    keys = sorted({a or b for a, b in re.findall(r"-k (\S+)|key=(\S+)", out)})
    want = ctx.s("auditd_keys", [])
    missing = [k for k in want if k not in keys]
    return not missing and bool(keys), {"keys": keys, "missing": missing}, "rules loaded with keys %s" % ", ".join(want)


def check_aide(ctx):
    conf = ctx.s("aide_config", "/etc/aide/odoo-hipaa.conf")
    db = ctx.s("aide_database", "/var/lib/aide/odoo-hipaa.db")
    try:
        ctx.stat(db)
    except OSError:
        raise Fail("no AIDE database at %s" % db)
    timer_ok, timer = _unit_active(ctx, ctx.s("aide_timer", "odoo-hipaa-aide-check.timer"))
    # aide --check only reads: the baseline is compared, never rewritten.
    rc, out, err = ctx.run(["aide", "--check", "--config", conf])
    changed = [line.strip() for line in out.splitlines() if re.match(r"^[a-z!][^:]{8,}: /", line)]
    counts = dict((k.lower(), int(v)) for k, v in re.findall(r"^\s*(Added|Removed|Changed) entries:\s*(\d+)", out, re.M))
    verdict = {0: "clean"}.get(rc, "differences found (rc %s)" % rc if rc < 14 else "error (rc %s): %s" % (
        rc, err.strip()[:200]))
    return timer_ok and rc == 0, {"aide --check": verdict, "entries": counts, "differences": changed[:20],
                                  "timer": timer}, \
        "baseline present, aide --check clean, daily check timer active"


CHECKS = {
    "listeners": ("AC-1", "Only the declared services listen on public addresses", check_listeners),
    "nftables": ("AC-1", "Firewall default-deny inbound", check_nftables),
    "sshd": ("AC-1", "SSH: keys only, no root login, allowed groups", check_sshd),
    "auditd_rules": ("AU-1", "auditd rules loaded", check_auditd_rules),
    "fail2ban": ("AU-3", "fail2ban jails for SSH and Odoo logins", check_fail2ban),
    "aide": ("IN-1", "AIDE file-integrity baseline and daily check", check_aide),
    "odoo_sandbox": ("SH-1", "Odoo service sandbox exposure", check_odoo_sandbox),
    "service_sandbox": ("SH-1", "nginx, PostgreSQL, rsyslog and backup sandbox exposure", check_service_sandbox),
    "unattended_upgrades": ("SH-1", "Automatic security updates", check_unattended_upgrades),
    "time_sync": ("SH-1", "Time synchronised", check_time_sync),
}
