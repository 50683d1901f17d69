"""The audit-log review end to end on the whole site (role privacy_review,
§164.308(a)(1)(ii)(D), §164.308(a)(5)(ii)(C)): real failed logins through
nginx on the real Odoo, the database half on site-app, its lines carried to
site-logs by the log shipping (RELP over TLS), and the aggregator half's review
there. A line forged on the app host makes the review incomplete; a new run
of the database half completes it again. The timers' own services run the
previous period's review in their sandboxes."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import time

import pytest

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import privacy_review as pr

testinfra_hosts = ["odoo_app"]

AGGREGATOR = "site-logs"
TOOL = "/usr/local/sbin/odoo-hipaa-privacy-review"
REVIEWS = "/var/lib/odoo-hipaa-privacy/reviews"
ATTEMPTS = 10

# Failed logins through nginx from the app host itself (127.0.0.1: fail2ban
# ignores it, the controller keeps its access), one every 2.2 s to stay
# inside nginx's login rate (30/min); Odoo's cooldown still logs each one.
FAILED_LOGINS = r'''
import http.client, re, ssl, sys, time
login, attempts = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
cookies = {}
def request(method, body=None):
    c = http.client.HTTPSConnection("127.0.0.1", 443, context=ctx, timeout=60)
    headers = {"Host": sys.argv[3], "Cookie": "; ".join("%s=%s" % kv for kv in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, "/web/login", body=body, headers=headers)
    r = c.getresponse()
    for name, value in r.getheaders():
        if name.lower() == "set-cookie":
            k, v = value.split(";", 1)[0].split("=", 1)
            cookies[k] = v
    return r.status, r.read().decode("utf-8", "replace")
status, page = request("GET")
csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
from urllib.parse import urlencode
codes = []
for _ in range(attempts):
    time.sleep(2.2)
    codes.append(request("POST", urlencode({"login": login, "password": "not-the-password", "csrf_token": csrf,
                                            "db": "odoo"}))[0])
print(" ".join(map(str, codes)))
'''


def wait_for(check, what: str, timeout: int = 180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(3)
    pytest.fail(f"waited {timeout} s for {what}")


def stored(agg, pattern: str) -> list[str]:
    out = agg.run(f"grep -h -- {shlex.quote(pattern)} /var/log/remote/site-app/messages.log")
    return out.stdout.splitlines()


def run_db_half(host, label: str) -> str:
    """The database half for `label`, logged to the journal (and so shipped); its run id."""
    run = host.run(f"runuser -u odoo_hipaa_review -- {TOOL} db --period {label}")
    assert run.rc == 0, run.stderr[-2000:]
    last = json.loads(host.check_output("cat /var/lib/odoo-hipaa-privacy/db-last.json"))
    assert last["period"] == label
    return last["run"]


def run_aggregator_half(agg, label: str):
    run = agg.run(f"runuser -u odoo_hipaa_review -- {TOOL} aggregator --period {label}")
    review = json.loads(agg.check_output(f"cat {REVIEWS}/{label}.json"))
    return run, review


@pytest.fixture(scope="module")
def current(host, lab_host):
    """Ten failed logins for a login nobody has, the database half, the aggregator half."""
    agg = lab_host(AGGREGATOR)
    cfg = json.loads(host.check_output("cat /etc/odoo-hipaa-privacy-review/review.json"))
    here = dt.datetime.now(pr.zone(cfg["timezone"]))
    label = f"{here:%Y-%m}" if cfg["period"] == "monthly" else "{0}-W{1:02d}".format(*here.isocalendar()[:2])
    login = f"review-probe-{int(time.time())}"
    codes = host.run(f"python3 -c {shlex.quote(FAILED_LOGINS)} {login} {ATTEMPTS} {host.backend.get_hostname()}")
    assert codes.rc == 0 and codes.stdout.split() == ["200"] * ATTEMPTS, (codes.stdout, codes.stderr[-1500:])
    wait_for(lambda: len(stored(agg, f"login:{login} from")) >= ATTEMPTS, "the failed logins at the aggregator")
    run = run_db_half(host, label)
    wait_for(lambda: stored(agg, f'"run":"{run}"') and [x for x in stored(agg, f'"run":"{run}"') if "db_done" in x],
             "the database half's closing line at the aggregator")
    result, review = run_aggregator_half(agg, label)
    return {"agg": agg, "label": label, "login": login, "run": run, "rc": result.rc, "review": review,
            "output": result.stdout + result.stderr}


def test_the_review_is_complete_and_names_the_failed_logins(current):
    review = current["review"]
    assert current["rc"] == 0 and review["result"] == "complete", current["output"]
    assert review["database_run"] == current["run"]
    mine = [f for f in review["findings"] if f["kind"] == "failed_logins" and f["login"] == current["login"]]
    # exactly ten: each failed login reached the store once (journal only, no second copy)
    assert [f["count"] for f in mine] == [ATTEMPTS], review["findings"]
    by_ip = [f for f in review["findings"] if f["kind"] == "failed_logins" and f.get("ip") == "127.0.0.1"]
    assert by_ip and by_ip[0]["count"] >= ATTEMPTS


def test_the_review_is_readable_by_the_privacy_group_only(current):
    agg, label = current["agg"], current["label"]
    for name in (f"{label}.json", f"{label}.html"):
        page = agg.file(f"{REVIEWS}/{name}")
        assert page.mode == 0o640 and page.group == "odoo-hipaa-privacy", name
    assert current["login"] in agg.check_output(f"cat {REVIEWS}/{label}.html")
    last = json.loads(agg.check_output("cat /var/lib/odoo-hipaa-privacy/last.json"))
    assert last["period"] == label and last["result"] == "complete"


def test_a_forged_line_makes_it_incomplete_and_a_new_run_completes_it(current, host):
    agg, label, run = current["agg"], current["label"], current["run"]
    forged = pr.canonical({"kind": "bulk_read", "login": "someone-else", "day": "2026-01-01", "detail": "forged",
                           "count": 999, "period": label, "run": run})
    host.run_expect([0], f"logger -t odoo-hipaa-review -- {shlex.quote(forged)}")
    wait_for(lambda: stored(agg, "someone-else"), "the forged line at the aggregator")
    result, review = run_aggregator_half(agg, label)
    assert result.rc == 2 and review["result"] == "incomplete" and review["database_half"] == "mismatch", review
    again = run_db_half(host, label)
    wait_for(lambda: [x for x in stored(agg, f'"run":"{again}"') if "db_done" in x], "the new run's closing line")
    result, review = run_aggregator_half(agg, label)
    assert result.rc == 0 and review["result"] == "complete" and review["database_run"] == again


def test_the_timers_services_review_the_previous_period(host, lab_host):
    agg = lab_host(AGGREGATOR)
    host.run_expect([0], "systemctl start odoo-hipaa-privacy-review-db.service")
    last = json.loads(host.check_output("cat /var/lib/odoo-hipaa-privacy/db-last.json"))
    wait_for(lambda: [x for x in stored(agg, f'"run":"{last["run"]}"') if "db_done" in x],
             "the service's closing line at the aggregator")
    start = agg.run("systemctl start odoo-hipaa-privacy-review.service")
    assert start.rc == 0, agg.run("journalctl -u odoo-hipaa-privacy-review --no-pager -n 20").stdout
    review = json.loads(agg.check_output("cat /var/lib/odoo-hipaa-privacy/last.json"))
    assert review["period"] == last["period"] and review["result"] == "complete"
    assert "PRIVACY REVIEW " + last["period"] in agg.check_output(
        "journalctl -u odoo-hipaa-privacy-review --no-pager -o cat -n 5")
