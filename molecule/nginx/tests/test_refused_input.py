"""Bad input is refused before any change, with a message that names the
variable and says what is allowed. The table runs as one playbook
(molecule/conftest.py, refused_batch) on nginx-d12 (nginx_tls_source: files)
and nginx-d13 (acme); for each case: the run is refused with the message, no
task reported a change, and the files under /etc/nginx, certbot's lineage and
units, `nginx -T` and the worker processes are identical (no reload happened)."""

import os
import subprocess
from pathlib import Path

import pytest

TARGET = "nginx-d12"
PKI = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY",
                     str(Path(os.environ.get("MOLECULE_INVENTORY_FILE", "/nonexistent/x/y")).parent.parent)) + "/pki"
WATCHED_FILES = [
    "/etc/nginx/nginx.conf",
    "/etc/nginx/conf.d/odoo-hipaa.conf",
    "/etc/nginx/tls/odoo-hipaa.crt",
    "/etc/nginx/tls/odoo-hipaa.key",
    "/etc/nginx/tls/odoo-hipaa-chain.crt",
    "/etc/nginx/sites-enabled/default",
    "/usr/local/sbin/odoo-hipaa-nginx-checkconf",
    # nginx-d13 (acme): certbot's lineage, the role's drop-in, CA and hook
    "/etc/letsencrypt/renewal/odoo-hipaa.conf",
    "/etc/letsencrypt/live/odoo-hipaa/cert.pem",
    "/etc/systemd/system/certbot.service.d/odoo-hipaa.conf",
    "/etc/odoo-hipaa-acme/ca.pem",
    "/etc/odoo-hipaa-acme/eab.ini",
    "/usr/local/sbin/odoo-hipaa-acme-deploy",
]
WATCHED_COMMANDS = [
    "nginx -T 2>/dev/null",
    "find /etc/nginx -printf '%p %m %u %s\\n' | sort",
    "ps -o pid= --ppid $(cat /run/nginx.pid) | sort",   # new workers after any reload
]

HOSTS = ["nginx-d12", "nginx-d13"]
D12 = ["nginx-d12"]   # nginx_tls_source: files (certificate files on the controller)
D13 = ["nginx-d13"]   # nginx_tls_source: acme (pebble on nginx-d13)

# "what a careless sysadmin did": ({variable: value}, "expected message"[, hosts])
REFUSED = {
    # TLS (§164.312(e)(1))
    "TLSv1.1 in the protocols": ({"nginx_tls_protocols": ["TLSv1.1", "TLSv1.2", "TLSv1.3"]}, "value of nginx_tls_protocols must be one or more of: TLSv1.2, TLSv1.3. Got no match for: TLSv1.1"),
    "TLS protocols with a typo": ({"nginx_tls_protocols": ["TLS1.2"]}, "Got no match for: TLS1.2"),
    "no TLS protocol at all": ({"nginx_tls_protocols": []}, "nginx_tls_protocols is empty"),
    "a CBC cipher": ({"nginx_tls_ciphers": ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA"]}, "refused: ECDHE-RSA-AES128-SHA"),
    "no cipher at all": ({"nginx_tls_ciphers": []}, "refused: (empty list)"),
    "certificate file missing": ({"nginx_tls_cert_file": "/nonexistent/odoo.crt"}, "TLS file(s) not found on the controller: /nonexistent/odoo.crt", D12),
    "no certificate given": ({"nginx_tls_cert_file": ""}, "Set nginx_tls_cert_file and nginx_tls_key_file", D12),
    "key that does not match the certificate": ({"nginx_tls_key_file": f"{PKI}/nginx-d13.key"}, f"{PKI}/nginx-d13.key does not match the certificate {PKI}/nginx-d12.crt", D12),
    "certificate that does not cover the server name": ({"nginx_server_name": "erp.example.org"}, "does not cover erp.example.org (nginx_server_name)", D12),
    "a server name with a space": ({"nginx_server_name": "erp example.org"}, "nginx_server_name 'erp example.org' is not a DNS name or IP address"),
    "certificate that expires within the minimum days": ({"nginx_tls_cert_file": f"{PKI}/nginx-expiring.crt", "nginx_tls_key_file": f"{PKI}/nginx-expiring.key"}, "nginx-expiring.crt expires within 14 days", D12),
    "certificate margin of zero days": ({"nginx_cert_min_days_left": 0}, "nginx_cert_min_days_left is 0; it must be 1 or more"),
    "certificate margin below the collection's limit": ({"nginx_cert_min_days_left": 7}, "nginx_cert_min_days_left is 7; the collection's minimum is 14 days"),
    "an unknown certificate source": ({"nginx_tls_source": "letsencrypt"}, "value of nginx_tls_source must be one of: files, acme, got: letsencrypt"),
    # ACME (issue 19): refused on the acme host before certbot is asked anything
    "ACME server over plain http": ({"nginx_acme_server": "http://nginx-d13:14000/dir"}, "nginx_acme_server is 'http://nginx-d13:14000/dir'; it must be the https:// URL of the ACME directory", D13),
    "ACME without a server": ({"nginx_acme_server": ""}, "nginx_acme_server is ''; it must be the https:// URL", D13),
    "ACME server URL with a shell character": ({"nginx_acme_server": "https://nginx-d13:14000/dir$(id)"}, "nginx_acme_server is 'https://nginx-d13:14000/dir$(id)'", D13),
    "ACME together with a certificate file": ({"nginx_tls_cert_file": f"{PKI}/nginx-d13.crt"}, "nginx_tls_source is acme, so certbot provides the certificate: leave nginx_tls_cert_file, nginx_tls_key_file and nginx_tls_chain_file empty (set: nginx_tls_cert_file)", D13),
    "ACME together with a chain file": ({"nginx_tls_chain_file": f"{PKI}/ca.crt"}, "(set: nginx_tls_chain_file)", D13),
    "an EAB key id without its key": ({"nginx_acme_eab_hmac_key": ""}, "nginx_acme_eab_kid is set but nginx_acme_eab_hmac_key is empty", D13),
    "an EAB key without its key id": ({"nginx_acme_eab_kid": ""}, "nginx_acme_eab_hmac_key is set but nginx_acme_eab_kid is empty", D13),
    "an ACME name with a space": ({"nginx_acme_extra_names": ["erp example.org"]}, "nginx_acme_extra_names entry 'erp example.org' is not a DNS name", D13),
    "an ACME name that is an address": ({"nginx_acme_extra_names": ["10.20.5.7"]}, "nginx_acme_extra_names entry '10.20.5.7' is not a DNS name", D13),
    "an ACME wildcard (http-01 cannot prove it)": ({"nginx_acme_extra_names": ["*.nginx-d13"]}, "nginx_acme_extra_names entry '*.nginx-d13' is not a DNS name", D13),
    "ACME names as a string": ({"nginx_acme_extra_names": "erp.example.org"}, "nginx_acme_extra_names must be a YAML list", D13),
    "ACME server's CA file missing": ({"nginx_acme_ca_file": "/nonexistent/ca.pem"}, "nginx_acme_ca_file /nonexistent/ca.pem not found on the controller", D13),
    "ACME key type with a typo": ({"nginx_acme_key_type": "ec"}, "value of nginx_acme_key_type must be one of: ecdsa, rsa, got: ec", D13),
    "OCSP stapling forced with ACME": ({"nginx_ocsp_stapling": "enabled"}, "nginx_ocsp_stapling enabled is not offered with nginx_tls_source acme", D13),
    "OCSP stapling forced for a CA without OCSP": ({"nginx_ocsp_stapling": "enabled"}, "OCSP stapling needs a certificate with an OCSP responder URL", D12),
    "OCSP stapling with a typo": ({"nginx_ocsp_stapling": "on"}, "value of nginx_ocsp_stapling must be one of: auto, enabled, disabled, got: on"),
    # HSTS
    "HSTS max-age of one day": ({"nginx_hsts_max_age": 86400}, "nginx_hsts_max_age must be at least 31536000 (one year), got 86400"),
    "HSTS max-age negative": ({"nginx_hsts_max_age": -1}, "nginx_hsts_max_age must be at least 31536000 (one year), got -1"),
    "HSTS max-age as words": ({"nginx_hsts_max_age": "two years"}, "nginx_hsts_max_age"),
    "HSTS without includeSubDomains (the evidence report's limit)": ({"nginx_hsts_include_subdomains": False}, "nginx_hsts_include_subdomains is false; the collection requires includeSubDomains"),
    # cookies and headers
    "SameSite none for the session cookie": ({"nginx_session_cookie_samesite": "none"}, "value of nginx_session_cookie_samesite must be one of: lax, strict, got: none"),
    "frame options allowing everyone": ({"nginx_frame_options": "ALLOW-FROM *"}, "nginx_frame_options"),
    # the database manager (issue: 0.0.0.0/0 was accepted without a word)
    "database manager open to a name instead of a network": ({"nginx_database_manager_networks": ["all"]}, "nginx_database_manager_networks entry 'all' is not a network in CIDR form"),
    "database manager open to the world": ({"nginx_database_manager_networks": ["0.0.0.0/0"]}, "nginx_database_manager_networks entry '0.0.0.0/0' is broader than /16 (IPv4)"),
    "database manager open to all of IPv6": ({"nginx_database_manager_networks": ["::/0"]}, "nginx_database_manager_networks entry '::/0' is broader than /48 (IPv6)"),
    "database manager open to a /8": ({"nginx_database_manager_networks": ["10.0.0.0/8"]}, "entry '10.0.0.0/8' is broader than /16"),
    "database manager open to a public network": ({"nginx_database_manager_networks": ["198.51.100.0/24"]}, "entry '198.51.100.0/24' is not a private network"),
    "database manager with a waiver that says nothing": ({"nginx_database_manager_networks": ["0.0.0.0/0"], "nginx_database_manager_networks_waiver": "ok"}, "set nginx_database_manager_networks_waiver to the written reason (at least 20 characters)"),
    "database manager networks as a string": ({"nginx_database_manager_networks": "10.20.5.0/24 10.20.6.0/24"}, "nginx_database_manager_networks must be a YAML list (e.g. [10.20.5.0/24]), got the string '10.20.5.0/24 10.20.6.0/24'"),
    "TLS protocols as a string": ({"nginx_tls_protocols": "TLSv1.2"}, "nginx_tls_protocols must be a YAML list"),
    # login throttling and limits
    "login rate with a typo": ({"nginx_login_rate": "30/m"}, "nginx_login_rate is '30/m'; it must look like 30r/m or 1r/s"),
    "login rate of zero": ({"nginx_login_rate": "0r/m"}, "nginx_login_rate is '0r/m'"),
    "negative login burst": ({"nginx_login_burst": -5}, "nginx_login_burst is -5; it must be 0 or more"),
    "no login path": ({"nginx_login_paths": []}, "nginx_login_paths must list plain URL paths"),
    "a login path with a regex": ({"nginx_login_paths": ["/web/login", "~ ^/web"]}, "refused: ~ ^/web"),
    "body size with a unit typo": ({"nginx_client_max_body_size": "64 MB"}, "nginx_client_max_body_size is '64 MB'; it must be a size like 64m"),
    "proxy timeout of zero": ({"nginx_proxy_timeout": 0}, "nginx_proxy_timeout is 0; it must be 1 or more"),
    "an HTTPS port out of range": ({"nginx_https_port": 70000}, "nginx_https_port is 70000; a port is 1-65535"),
    "Odoo and nginx on the same port": ({"nginx_https_port": 8069, "nginx_odoo_http_port": 8069}, "nginx_https_port is 8069; a port is 1-65535 and each of"),
    # paths (issue: a space in the access log changed the host before nginx -t failed)
    "access log with a space": ({"nginx_access_log": "/var/log/nginx/odoo access.log"}, "nginx_access_log is '/var/log/nginx/odoo access.log': it contains whitespace or a control character"),
    "access log outside /var/log": ({"nginx_access_log": "/tmp/odoo-access.log"}, "nginx_access_log is '/tmp/odoo-access.log': it is not below /var/log"),
    "access log escaping /var/log": ({"nginx_access_log": "/var/log/../etc/nginx/x.log"}, "it has an empty, '.' or '..' component"),
    "access log with a semicolon": ({"nginx_access_log": "/var/log/nginx/a.log; include /etc/shadow"}, "nginx_access_log is '/var/log/nginx/a.log; include /etc/shadow'"),
    "access log relative": ({"nginx_access_log": "odoo-access.log"}, "it is not an absolute path"),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("nginx", REFUSED, HOSTS, WATCHED_FILES, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)


def test_the_converged_input_is_accepted_and_changes_nothing(role_runner, lab_host, fingerprint):
    """The same runner with no bad input: passes and changes nothing, so the
    refusals above come from the bad input alone."""
    target = lab_host(TARGET)
    before = fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS)
    run = role_runner(TARGET, "nginx", {})
    assert run.rc == 0 and run.changed(TARGET) == 0, run.output[-3000:]
    assert fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS) == before


def test_a_vault_encrypted_key_is_accepted(role_runner, lab_host, fingerprint, tmp_path, monkeypatch):
    """Production keeps the key in ansible-vault: the checks read it through
    the vault, and the installed key is the same (nothing changes)."""
    password = tmp_path / "vault-pass"
    password.write_text("lab-only-vault-password\n")
    vaulted = tmp_path / "nginx-d12.key.vault"
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(password),
                    "--output", str(vaulted), f"{PKI}/nginx-d12.key"], check=True, capture_output=True)
    assert vaulted.read_text().startswith("$ANSIBLE_VAULT;")
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password))
    target = lab_host(TARGET)
    before = fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS)
    run = role_runner(TARGET, "nginx", {"nginx_tls_key_file": str(vaulted)})
    assert run.rc == 0 and run.changed(TARGET) == 0, run.output[-3000:]
    assert fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS) == before
