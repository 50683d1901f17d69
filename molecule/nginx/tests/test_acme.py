"""Certificates that renew themselves (nginx_tls_source: acme, issue 19 part 4),
against a real ACME server: Debian's pebble on nginx-d13 (prepare.yml), which
issues 20-day certificates, inside certbot's 30-day renewal window, so every
`certbot renew` that Debian's certbot.service runs does renew. Seen from the
other host (nginx-d12) with openssl s_client; the evidence rows are asked of
the real hosts through the collection's module.

The tests run in this order and leave the host serving: the last one stops
pebble, which forgets every account when it starts again (its state lives in
memory), so no test after it renews."""

from __future__ import annotations

import json
import time

import pytest
from lab_evidence import evidence_rows

ACME = "nginx-d13"
CLIENT = "nginx-d12"
SERVER = "https://nginx-d13:14000/dir"
PEBBLE_UNIT = "test-acme-pebble.service"
LIVE = "/etc/letsencrypt/live/odoo-hipaa"
RENEWAL_CONF = "/etc/letsencrypt/renewal/odoo-hipaa.conf"
STATE = "/var/lib/odoo-hipaa-acme"
SITE = "/etc/nginx/conf.d/odoo-hipaa.conf"
HOOK = "/usr/local/sbin/odoo-hipaa-acme-deploy"
BUNDLE = "/root/nginx-client/ca.crt"   # the lab CA (pebble's TLS) and pebble's root at prepare time


@pytest.fixture(scope="module")
def acme(lab_host):
    return lab_host(ACME)


@pytest.fixture(scope="module")
def client(lab_host):
    return lab_host(CLIENT)


def served(client, *args: str) -> str:
    """s_client's output for nginx-d13, from nginx-d12."""
    return client.run("echo | timeout 20 openssl s_client -connect nginx-d13:443 -servername nginx-d13 "
                      + " ".join(args) + " 2>&1").stdout


def served_serial(client) -> str:
    out = client.check_output("echo | timeout 20 openssl s_client -connect nginx-d13:443 -servername nginx-d13 "
                              "2>/dev/null | openssl x509 -noout -serial")
    return out.split("=", 1)[1].strip()


def live_serial(acme) -> str:
    return acme.check_output(f"openssl x509 -in {LIVE}/cert.pem -noout -serial").split("=", 1)[1].strip()


def wait_served(client, serial: str, timeout: float = 15) -> str:
    """The served serial once it is `serial` (nginx's old workers drain), or the last one seen."""
    deadline = time.time() + timeout
    while True:
        now = served_serial(client)
        if now == serial or time.time() > deadline:
            return now
        time.sleep(0.5)


def last_renewal(acme) -> dict:
    return json.loads(acme.check_output(f"cat {STATE}/last-renewal.json"))


def evidence(host: str, checks: list[str]) -> dict:
    """The rows of onprem.odoo_hipaa.hipaa_evidence run on the lab host, by check."""
    return evidence_rows(host, checks, {"https_server_name": host, "acme_server": SERVER})


def start_certbot(acme):
    """The real unit (Debian's certbot.service with the role's drop-in), as certbot.timer starts it."""
    return acme.run("systemctl start certbot.service")


def test_the_served_chain_verifies_against_pebbles_current_root(client):
    # pebble's management port, whose TLS certificate the lab CA issued
    client.check_output(f"curl -sf --max-time 20 --cacert {BUNDLE} -o /root/nginx-client/pebble-root.pem "
                        "https://nginx-d13:15000/roots/0")
    assert client.file("/root/nginx-client/pebble-root.pem").content_string.startswith("-----BEGIN CERTIFICATE-----")
    out = served(client, "-showcerts", "-CAfile /root/nginx-client/pebble-root.pem", "-verify_return_error",
                 "-verify_hostname nginx-d13")
    assert "Verify return code: 0 (ok)" in out, out
    assert "i:CN=Pebble Intermediate CA" in out.replace(" = ", "=") and out.count("-----BEGIN CERTIFICATE-----") == 2
    # without pebble's root the chain is not trusted (the lab CA alone, or the system store, do not make it)
    assert "Verify return code: 0 (ok)" not in served(client, "-verify_return_error")


def test_the_lineage_renews_from_pebble_with_the_deploy_hook_and_a_20_day_ecdsa_certificate(acme):
    conf = acme.file(RENEWAL_CONF).content_string
    assert f"server = {SERVER}\n" in conf and f"renew_hook = {HOOK}\n" in conf and "key_type = ecdsa\n" in conf
    text = acme.check_output(f"openssl x509 -in {LIVE}/cert.pem -noout -text")
    assert "id-ecPublicKey" in text and "DNS:nginx-d13" in text
    start, end = (acme.check_output(f"date -u -d \"$(openssl x509 -in {LIVE}/cert.pem -noout -{w} | cut -d= -f2)\" +%s")
                  for w in ("startdate", "enddate"))
    assert abs(int(end) - int(start) - 20 * 86400) <= 86400   # pebble's certificateValidityPeriod
    # the site names what certbot keeps current; the EAB file is gone after the registration
    assert f"ssl_certificate {LIVE}/fullchain.pem;" in acme.file(SITE).content_string
    assert not acme.file("/etc/odoo-hipaa-acme/eab.ini").exists
    assert acme.file(HOOK).mode == 0o755 and acme.file(HOOK).user == "root"


def test_certbot_service_is_sandboxed_within_the_collections_limit(acme, sandbox_exposure):
    figure, limit = sandbox_exposure(acme, "certbot.service")
    print(f"{ACME}: systemd-analyze security certbot.service exposure {figure} (limit {limit})")
    assert figure <= limit
    show = acme.check_output("systemctl show certbot.service -p Environment -p OnFailure -p ProtectSystem "
                             "-p CapabilityBoundingSet")
    assert "REQUESTS_CA_BUNDLE=/etc/odoo-hipaa-acme/ca.pem" in show
    assert "OnFailure=odoo-hipaa-acme-failed.service" in show and "ProtectSystem=strict" in show
    assert "CapabilityBoundingSet=\n" in show + "\n"
    assert acme.check_output("systemctl is-enabled certbot.timer") == "enabled"


def test_the_evidence_rows_pass_on_the_converged_hosts(acme):
    rows = evidence(ACME, ["tls_certificate", "acme_renewal", "service_sandbox"])
    assert {c: r["status"] for c, r in rows.items()} == {c: "pass" for c in rows}, rows
    assert rows["tls_certificate"]["observed"]["serial"] == live_serial(acme)
    assert "certbot.service" in rows["service_sandbox"]["observed"]
    files = evidence(CLIENT, ["tls_certificate"])["tls_certificate"]   # nginx-d12: the lab CA's files
    assert files["status"] == "pass" and files["observed"]["configured_file"] == "/etc/nginx/tls/odoo-hipaa.crt", files


def test_certbot_service_renews_and_nginx_serves_the_new_certificate(acme, client):
    before = served_serial(client)
    assert before == live_serial(acme)
    result = start_certbot(acme)
    assert result.rc == 0, result.stderr
    renewed = live_serial(acme)
    assert renewed != before
    assert wait_served(client, renewed) == renewed      # seen from the other host
    state = last_renewal(acme)
    assert state["result"] == "ok" and state["serial"] == renewed, state
    assert evidence(ACME, ["tls_certificate"])["tls_certificate"]["status"] == "pass"


def test_a_broken_site_makes_the_deploy_hook_refuse_the_reload_and_the_old_certificate_stays(acme, client):
    before = served_serial(client)
    since = acme.check_output("date +%s")
    acme.check_output(f"cp -a {SITE} /root/site.good && echo 'this_is_not_a_directive on;' >> {SITE}")
    broken = True
    try:
        start_certbot(acme)          # certbot renews; its hook fails (certbot only logs that)
        renewed = live_serial(acme)
        assert renewed != before                                   # certbot did renew ...
        assert wait_served(client, renewed, timeout=5) == before   # ... and nginx still serves the old one
        state = last_renewal(acme)
        assert state["serial"] == renewed and state["result"].startswith("reload refused: nginx -t failed"), state
        assert acme.run("systemctl is-failed odoo-hipaa-nginx-reload.service").stdout.strip() == "failed"
        logged = acme.check_output(f"journalctl -p err -t odoo-hipaa-acme --since @{since} --no-pager -o cat")
        assert f"ACME DEPLOY REFUSED: certificate {renewed} was renewed but nginx -t failed" in logged
        rows = evidence(ACME, ["tls_certificate", "acme_renewal"])
        assert rows["acme_renewal"]["status"] == "fail"
        assert rows["acme_renewal"]["observed"]["problems"][0].startswith("last renewal: reload refused")
        # the broken file on disk: the row cannot tell what nginx would load, and says why
        assert rows["tls_certificate"]["status"] == "fail"
        assert rows["tls_certificate"]["observed"]["serial"] == before
        assert "nginx -T failed" in rows["tls_certificate"]["observed"]["problems"][0]
        # the site repaired but nginx not reloaded: the row names the mismatch
        acme.check_output(f"mv /root/site.good {SITE}")
        broken = False
        row = evidence(ACME, ["tls_certificate"])["tls_certificate"]
        assert row["status"] == "fail" and row["observed"]["problems"] == [
            f"serves serial {before} but {LIVE}/fullchain.pem holds serial {renewed} (not reloaded since the renewal?)"]
    finally:
        # put back: the good site, and a renewal whose hook reloads
        if broken:
            acme.check_output(f"mv /root/site.good {SITE}")
        assert start_certbot(acme).rc == 0
    assert wait_served(client, live_serial(acme)) == live_serial(acme)
    assert last_renewal(acme)["result"] == "ok"
    rows = evidence(ACME, ["tls_certificate", "acme_renewal"])
    assert {c: r["status"] for c, r in rows.items()} == {"tls_certificate": "pass", "acme_renewal": "pass"}, rows


def test_a_renewal_with_pebble_stopped_is_logged_at_err_and_turns_the_row_red(acme, client):
    serving = served_serial(client)
    since = acme.check_output("date +%s")
    acme.check_output(f"systemctl stop {PEBBLE_UNIT}")
    try:
        result = start_certbot(acme)
        assert result.rc != 0
        assert acme.check_output("systemctl show -p Result --value certbot.service") == "exit-code"
        # OnFailure= starts the failure unit right after certbot.service failed
        deadline = time.time() + 30
        while True:
            logged = acme.check_output(
                f"journalctl -p err -u odoo-hipaa-acme-failed.service --since @{since} --no-pager -o cat")
            if "ACME RENEWAL FAILED" in logged or time.time() > deadline:
                break
            time.sleep(0.5)
        assert "ACME RENEWAL FAILED: certbot.service failed at" in logged, logged
        failure = json.loads(acme.check_output(f"cat {STATE}/last-failure.json"))
        assert failure["result"] == "failed"
        rows = evidence(ACME, ["acme_renewal", "tls_certificate"])
        assert rows["acme_renewal"]["status"] == "fail"
        assert rows["acme_renewal"]["observed"]["problems"] == [
            f"renewal failed at {failure['time']}, after the last successful one"]
        # the certificate in place is still served and still good
        assert served_serial(client) == serving and rows["tls_certificate"]["status"] == "pass"
    finally:
        acme.check_output(f"systemctl start {PEBBLE_UNIT}")
