"""Bad input is refused before any change, with a message that says what is
allowed. Each case runs the role again on nginx-d12 with one bad input and
checks: the run fails, the message names the problem, nothing changed on the
host (recap changed=0, the files under /etc/nginx, `nginx -T` and the worker
processes identical: no reload happened)."""

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
]
WATCHED_COMMANDS = [
    "nginx -T 2>/dev/null",
    "find /etc/nginx -printf '%p %m %u %s\\n' | sort",
    "ps -o pid= --ppid $(cat /run/nginx.pid) | sort",   # new workers after any reload
]

REFUSED = {
    "TLSv1.1 in the protocols": (
        {"nginx_tls_protocols": ["TLSv1.1", "TLSv1.2", "TLSv1.3"]},
        "value of nginx_tls_protocols must be one or more of: TLSv1.2, TLSv1.3. Got no match for: TLSv1.1",
    ),
    "HSTS max-age of one day": (
        {"nginx_hsts_max_age": 86400},
        "nginx_hsts_max_age must be at least 31536000 (one year), got 86400",
    ),
    "certificate file missing": (
        {"nginx_tls_cert_file": "/nonexistent/odoo.crt"},
        "TLS file(s) not found on the controller: /nonexistent/odoo.crt",
    ),
    "key that does not match the certificate": (
        {"nginx_tls_key_file": f"{PKI}/nginx-d13.key"},
        f"{PKI}/nginx-d13.key does not match the certificate {PKI}/nginx-d12.crt",
    ),
    "certificate that does not cover the server name": (
        {"nginx_server_name": "erp.example.org"},
        "does not cover erp.example.org (nginx_server_name); its subject alternative names are: nginx-d12",
    ),
    "certificate that expires within the minimum days": (
        {"nginx_tls_cert_file": f"{PKI}/nginx-expiring.crt", "nginx_tls_key_file": f"{PKI}/nginx-expiring.key"},
        "nginx-expiring.crt expires within 14 days",
    ),
    "a CBC cipher": (
        {"nginx_tls_ciphers": ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA"]},
        "refused: ECDHE-RSA-AES128-SHA",
    ),
    "HSTS without includeSubDomains (the evidence report's limit)": (
        {"nginx_hsts_include_subdomains": False},
        "nginx_hsts_include_subdomains is false; the collection requires includeSubDomains",
    ),
    "database manager open to a name instead of a network": (
        {"nginx_database_manager_networks": ["all"]},
        "nginx_database_manager_networks entry 'all' is not a network in CIDR form",
    ),
    "OCSP stapling forced for a CA without OCSP": (
        {"nginx_ocsp_stapling": "enabled"},
        "OCSP stapling needs a certificate with an OCSP responder URL",
    ),
    "SameSite none for the session cookie": (
        {"nginx_session_cookie_samesite": "none"},
        "value of nginx_session_cookie_samesite must be one of: lax, strict, got: none",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, assert_refused):
    extra_vars, message = REFUSED[case]
    assert_refused(TARGET, "nginx", extra_vars, message, WATCHED_FILES, WATCHED_COMMANDS)


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
