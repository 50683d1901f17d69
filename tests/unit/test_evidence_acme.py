"""Unit tests for the served certificate and its ACME renewal
(plugins/module_utils/evidence_nginx.py: tls_certificate, acme_renewal): each
row passes on the right observation and fails, naming why, on the drifted one.
Certificates are made here with `cryptography` (the controller's); the module
parses them with the standard library only, as it does on a managed host."""

import datetime as dt
import ipaddress
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils import evidence_nginx
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.hipaa_limits import LIMITS

from test_hipaa_evidence import NOW, ev, make_ctx, one

KEY = ec.generate_private_key(ec.SECP256R1())
LIVE = "/etc/letsencrypt/live/odoo-hipaa/fullchain.pem"
SERVER = "https://acme.example-hospital.org/directory"
HOOK = "/usr/local/sbin/odoo-hipaa-acme-deploy"
STATE = "/var/lib/odoo-hipaa-acme"


def certificate(names=("erp.example.org",), days=(-10, 80), serial=0x1350BE0271243B32, ips=(), critical=False):
    """DER of a certificate valid from NOW + days[0] to NOW + days[1]."""
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "x")]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pebble Intermediate CA 0a1b2c")]))
               .public_key(KEY.public_key()).serial_number(serial)
               .not_valid_before(NOW + dt.timedelta(days=days[0])).not_valid_after(NOW + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=critical)
    return builder.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def pem(der):
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def nginx_t(path=LIVE):
    return "server {\n    ssl_certificate %s;\n    ssl_certificate_key /etc/x/privkey.pem;\n}\n" % path


def tls_ctx(served, on_disk=None, path=LIVE, name="erp.example.org"):
    files = {} if on_disk is False else {
        (path if path.startswith("/") else "/etc/nginx/" + path): pem(on_disk or served)}
    ctx = make_ctx(outputs={"nginx -T": nginx_t(path)}, files=files, settings={"https_server_name": name})
    ctx.served_certificate = lambda host, port, server_name: served
    return ctx


# --- the DER reader ---------------------------------------------------------------

def test_the_stdlib_reader_reads_what_cryptography_wrote():
    der = certificate(names=("erp.example.org", "*.erp.example.org"), ips=("10.20.5.7", "2001:db8::1"),
                      serial=0x00FF00AA, critical=True)
    cert = evidence_nginx.parse_certificate(der)
    assert cert["serial"] == 0x00FF00AA
    assert cert["dns"] == ["erp.example.org", "*.erp.example.org"]
    assert cert["ip"] == ["10.20.5.7", "2001:db8::1"]
    assert cert["not_before"] == (NOW - dt.timedelta(days=10)).replace(microsecond=0)
    assert cert["not_after"] == (NOW + dt.timedelta(days=80)).replace(microsecond=0)


def test_a_serial_with_the_high_bit_set_and_a_certificate_without_names():
    cert = evidence_nginx.parse_certificate(certificate(names=(), serial=(1 << 159) - 1))
    assert cert["serial"] == (1 << 159) - 1 and cert["dns"] == [] and cert["ip"] == []


# --- tls_certificate ---------------------------------------------------------------

def test_tls_certificate_passes_on_a_current_certificate_nginx_names():
    row = one(tls_ctx(certificate()), "tls_certificate")
    assert row["status"] == "pass", row
    assert row["control"] == "TS-1"
    assert row["observed"]["serial"] == "1350BE0271243B32" and row["observed"]["days_left"] == 80.0
    assert row["observed"]["configured_file"] == LIVE


def test_a_relative_ssl_certificate_path_is_read_below_etc_nginx():
    row = one(tls_ctx(certificate(), path="tls/odoo-hipaa.crt"), "tls_certificate")
    assert row["status"] == "pass" and row["observed"]["configured_file"] == "/etc/nginx/tls/odoo-hipaa.crt"


@pytest.mark.parametrize("days_left, status", [(14, "pass"), (13.9, "fail"), (3, "fail")])
def test_tls_certificate_needs_the_collections_days_left(days_left, status):
    assert LIMITS["tls_cert_min_days_left"] == 14
    row = one(tls_ctx(certificate(days=(days_left - 90, days_left))), "tls_certificate")
    assert row["status"] == status, row
    if status == "fail":
        assert "required" in " ".join(row["observed"]["problems"])


@pytest.mark.parametrize("lifetime, days_left, status", [
    (20, 7, "pass"),     # pebble's 20 days: a third (6.7 days) is enough
    (20, 6, "fail"),
    (41, 13.7, "pass"),  # just under 3 x 14: a third of 41 days
    (42, 13.9, "fail"),  # 3 x 14 and longer: the full 14 days
    (1, 0.5, "pass"),    # the role's one-day bootstrap certificate, fresh
])
def test_a_short_lived_certificate_needs_a_third_of_its_lifetime(lifetime, days_left, status):
    row = one(tls_ctx(certificate(days=(days_left - lifetime, days_left))), "tls_certificate")
    assert row["status"] == status, row


def test_serials_read_as_openssl_prints_them():
    assert evidence_nginx.serial_hex(0xDF85ABD730FCCA7) == "0DF85ABD730FCCA7"
    assert evidence_nginx.serial_hex(0x1350BE0271243B32) == "1350BE0271243B32"
    row = one(tls_ctx(certificate(serial=0xDF85ABD730FCCA7)), "tls_certificate")
    assert row["observed"]["serial"] == "0DF85ABD730FCCA7"


def test_required_days_left():
    assert evidence_nginx.required_days_left(90) == 14
    assert evidence_nginx.required_days_left(42) == 14
    assert evidence_nginx.required_days_left(30) == 10


def test_an_expired_certificate_fails():
    assert one(tls_ctx(certificate(days=(-90, -1))), "tls_certificate")["status"] == "fail"


@pytest.mark.parametrize("names, server_name, status", [
    (("erp.example.org",), "ERP.example.org", "pass"),
    (("*.example.org",), "erp.example.org", "pass"),
    (("*.example.org",), "a.erp.example.org", "fail"),   # a wildcard covers one label
    (("portal.example.org",), "erp.example.org", "fail"),
])
def test_tls_certificate_must_cover_the_server_name(names, server_name, status):
    row = one(tls_ctx(certificate(names=names), name=server_name), "tls_certificate")
    assert row["status"] == status, row
    if status == "fail":
        assert "does not cover %s" % server_name in row["observed"]["problems"]


def test_an_address_as_server_name_needs_an_ip_entry():
    der = certificate(names=("erp.example.org",), ips=("10.20.5.7",))
    assert one(tls_ctx(der, name="10.20.5.7"), "tls_certificate")["status"] == "pass"
    assert one(tls_ctx(der, name="10.20.5.8"), "tls_certificate")["status"] == "fail"


def test_a_renewal_nginx_did_not_load_fails_naming_both_serials():
    served, renewed = certificate(serial=0xAAAA), certificate(serial=0xBBBB, days=(0, 20))
    row = one(tls_ctx(served, on_disk=renewed), "tls_certificate")
    assert row["status"] == "fail"
    assert row["observed"]["problems"] == [
        "serves serial AAAA but %s holds serial BBBB (not reloaded since the renewal?)" % LIVE]


def test_a_missing_configured_file_fails_and_no_ssl_certificate_is_no_proof():
    row = one(tls_ctx(certificate(), on_disk=False), "tls_certificate")
    assert row["status"] == "fail" and "is missing or holds no certificate" in " ".join(row["observed"]["problems"])
    ctx = tls_ctx(certificate())
    ctx.run = lambda argv: (0, "server { listen 443 ssl; }\n", "")
    row = one(ctx, "tls_certificate")
    assert row["status"] == "fail" and problems(row) == [
        "cannot tell which certificate nginx's configuration names: nginx -T names no ssl_certificate"]


def test_a_configuration_nginx_t_refuses_fails_but_still_shows_the_served_certificate():
    ctx = tls_ctx(certificate())
    ctx.run = lambda argv: (1, "", 'nginx: [emerg] unknown directive "this_is_not_a_directive"')
    row = one(ctx, "tls_certificate")
    assert row["status"] == "fail" and row["observed"]["serial"] == "1350BE0271243B32"
    assert problems(row) == ["cannot tell which certificate nginx's configuration names: nginx -T failed (rc 1): "
                             'nginx: [emerg] unknown directive "this_is_not_a_directive"']


def test_nothing_listening_is_no_proof():
    ctx = tls_ctx(certificate())

    def refused(host, port, server_name):
        raise ConnectionRefusedError(111, "Connection refused")
    ctx.served_certificate = refused
    row = one(ctx, "tls_certificate")
    assert row["status"] == "fail" and "ConnectionRefusedError" in row["observed"]


# --- acme_renewal ------------------------------------------------------------------

RENEWAL_CONF = """# renew_before_expiry = 30 days
version = 4.0.0
archive_dir = /etc/letsencrypt/archive/odoo-hipaa
cert = /etc/letsencrypt/live/odoo-hipaa/cert.pem

# Options used in the renewal process
[renewalparams]
account = d4b0384e80f8f013a57da532f5eba4b6
key_type = ecdsa
renew_hook = %(hook)s
server = %(server)s
authenticator = webroot
webroot_path = /var/lib/odoo-hipaa-acme/webroot,
[[webroot_map]]
erp.example.org = /var/lib/odoo-hipaa-acme/webroot
"""


def renewal(result="ok", time="2026-11-22T00:00:00.123Z"):
    return json.dumps({"time": time, "serial": "1350BE0271243B32", "not_after": "2026-12-12T00:00:00Z",
                       "result": result})


def acme_ctx(timer=("active", "enabled"), conf=None, last=renewal(), failure=None, hook_mode=0o100755,
             server=SERVER, settings_server=SERVER, hook=HOOK):
    files = {} if conf is False else {"/etc/letsencrypt/renewal/odoo-hipaa.conf": conf if conf is not None else
                                      RENEWAL_CONF % {"hook": hook, "server": server}}
    if last is not None:
        files[STATE + "/last-renewal.json"] = last
    if failure is not None:
        files[STATE + "/last-failure.json"] = json.dumps({"time": failure, "unit": "certbot.service", "result": "failed"})
    return make_ctx(outputs={"systemctl is-active certbot.timer": timer[0] + "\n",
                             "systemctl is-enabled certbot.timer": timer[1] + "\n"},
                    files=files, settings={"acme_server": settings_server},
                    stats={HOOK: (0, hook_mode)} if hook_mode is not None else {})


def problems(row):
    return row["observed"]["problems"]


def test_acme_renewal_passes_with_the_timer_a_good_renewal_the_server_and_the_hook():
    row = one(acme_ctx(), "acme_renewal")
    assert row["status"] == "pass", row
    assert row["control"] == "TS-1" and row["observed"]["server"] == SERVER and row["observed"]["deploy_hook"] == HOOK


@pytest.mark.parametrize("timer", [("inactive", "enabled"), ("active", "disabled"), ("inactive", "masked")])
def test_acme_renewal_needs_the_timer_active_and_enabled(timer):
    row = one(acme_ctx(timer=timer), "acme_renewal")
    assert row["status"] == "fail" and problems(row) == ["certbot.timer is not active and enabled"]


def test_a_failure_after_the_last_renewal_fails_and_one_before_it_does_not():
    row = one(acme_ctx(failure="2026-11-22T06:00:00.000Z"), "acme_renewal")
    assert row["status"] == "fail"
    assert problems(row) == ["renewal failed at 2026-11-22T06:00:00.000Z, after the last successful one"]
    assert one(acme_ctx(failure="2026-11-21T23:59:59.000Z"), "acme_renewal")["status"] == "pass"


def test_a_refused_reload_fails_with_the_hooks_words():
    row = one(acme_ctx(last=renewal("reload refused: nginx -t failed")), "acme_renewal")
    assert row["status"] == "fail" and problems(row) == ["last renewal: reload refused: nginx -t failed"]


def test_no_renewal_recorded_fails():
    row = one(acme_ctx(last=None), "acme_renewal")
    assert row["status"] == "fail" and problems(row) == ["no renewal recorded (%s/last-renewal.json)" % STATE]


def test_a_state_file_that_is_not_json_is_no_proof():
    row = one(acme_ctx(last="{half"), "acme_renewal")
    assert row["status"] == "fail" and row["observed"] == "no proof: %s/last-renewal.json is not JSON" % STATE


def test_acme_renewal_fails_when_the_lineage_renews_from_another_server():
    row = one(acme_ctx(server="https://acme-staging.example.org/dir"), "acme_renewal")
    assert row["status"] == "fail"
    assert problems(row) == ["renews from https://acme-staging.example.org/dir, configured %s" % SERVER]
    assert one(acme_ctx(settings_server=""), "acme_renewal")["status"] == "fail"


def test_acme_renewal_fails_without_a_lineage():
    row = one(acme_ctx(conf=False), "acme_renewal")
    assert row["status"] == "fail"
    assert problems(row) == ["/etc/letsencrypt/renewal/odoo-hipaa.conf is missing (never issued)",
                             "deploy hook is (none), expected %s" % HOOK]


@pytest.mark.parametrize("hook, mode, why", [
    ("/usr/local/bin/other-hook", 0o100755, "deploy hook is /usr/local/bin/other-hook, expected %s" % HOOK),
    (HOOK, None, "%s is missing" % HOOK),
    (HOOK, 0o100644, "%s is not a root-owned executable only root may change" % HOOK),
    (HOOK, 0o100777, "%s is not a root-owned executable only root may change" % HOOK),
])
def test_acme_renewal_needs_the_deploy_hook(hook, mode, why):
    row = one(acme_ctx(hook=hook, hook_mode=mode), "acme_renewal")
    assert row["status"] == "fail" and problems(row) == [why]


def test_the_rows_are_registered_documented_and_read_their_settings_with_the_documented_defaults():
    assert ev.CHECKS["tls_certificate"][0] == ev.CHECKS["acme_renewal"][0] == "TS-1"
    for key, default in (("acme_server", ""), ("acme_cert_name", "odoo-hipaa"),
                         ("acme_deploy_hook", HOOK), ("acme_state_dir", STATE)):
        assert ev.SETTINGS_SPEC[key]["default"] == default
    assert LIMITS["sandbox_exposure_max"]["certbot.service"] <= 5.0
    assert os.path.basename(HOOK) == "odoo-hipaa-acme-deploy"
