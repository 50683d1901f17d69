"""The role run again on the real Odoo: bad input is refused before any
change, with a message that says what is allowed; --check passes on the
converged host. (A second run changing nothing, the master password hash kept
despite its random salt and the database policy included, is Molecule's
idempotence step: odoo.conf would otherwise be reported changed.)"""

import pytest

WATCHED_FILES = ["/etc/odoo/odoo.conf", "/etc/systemd/system/odoo.service", "/usr/local/sbin/odoo-hipaa-odoo-checkconf"]
WATCHED_COMMANDS = [
    "systemctl show -p MainPID --value odoo.service",
    # the code and configuration trees; the data directory itself only (a
    # live Odoo writes sessions and attachments below it)
    "find /opt/odoo /etc/odoo -printf '%p %m %u %l\\n' | sort",
    "stat -c '%n %a %U %G' /var/lib/odoo",
    "getent passwd odoo",
]
PASSWORD = {"odoo_admin_password": "{{ odoo_lab_admin_password }}"}

REFUSED = {
    "idle timeout of an hour without a waiver": (
        "odoo-d12", dict(PASSWORD, odoo_session_idle_timeout=3600),
        "odoo_session_idle_timeout is 3600 s; more than 900 s needs odoo_session_idle_timeout_waiver",
    ),
    "an absolute lifetime of 9 h without a waiver (the evidence report's limit)": (
        "odoo-d13", dict(PASSWORD, odoo_session_absolute_lifetime=32400),
        "odoo_session_absolute_lifetime is 32400 s; more than 28800 s (8 h) needs odoo_session_absolute_lifetime_waiver",
    ),
    "trusted devices for 30 days without a waiver": (
        "odoo-d12", dict(PASSWORD, odoo_mfa_trusted_device_days=30),
        "odoo_mfa_trusted_device_days is 30; allowed 0 (refused, the default) to 1",
    ),
    "workers 0 (threaded mode) is refused, not replaced": (
        "odoo-d13", dict(PASSWORD, odoo_workers=0),
        "odoo_workers must be at least 1",
    ),
    "Odoo 19.0 on Debian 12": (
        "odoo-d12", dict(PASSWORD, odoo_version="19.0"),
        "Odoo 19.0 is not supported on Debian 12. Supported pairs: 17.0 on Debian 12; 18.0 on Debian 12 and 13; 19.0 on Debian 13.",
    ),
    "Odoo 17.0 on Debian 13": (
        "odoo-d13", dict(PASSWORD, odoo_version="17.0"),
        "Odoo 17.0 is not supported on Debian 13.",
    ),
    "no master password": (
        "odoo-d13", {},
        "missing required arguments: odoo_admin_password",
    ),
    "an unknown series": (
        "odoo-d13", dict(PASSWORD, odoo_version="16.0"),
        "value of odoo_version must be one of: 17.0, 18.0, 19.0, got: 16.0",
    ),
    "Odoo on every interface": (
        "odoo-d13", dict(PASSWORD, odoo_http_interface="0.0.0.0"),
        "odoo_http_interface must be 127.0.0.1 or ::1 (got 0.0.0.0)",
    ),
    "a remote database without Odoo's client certificate": (
        "odoo-d12", dict(PASSWORD, odoo_db_host="db.example.org", odoo_db_ssl_ca_file="/etc/ssl/certs/ca-certificates.crt"),
        "with odoo_db_ssl_ca_file (the CA of the database server) and Odoo's client certificate",
    ),
    "a remote database whose key file is missing": (
        "odoo-d12", dict(PASSWORD, odoo_db_host="db.example.org", odoo_db_ssl_ca_file="/etc/ssl/certs/ca-certificates.crt",
                         odoo_db_ssl_cert_file="/etc/ssl/certs/ca-certificates.crt", odoo_db_ssl_key_file="/nonexistent/odoo.key"),
        "/nonexistent/odoo.key (a TLS file for the remote database) is not a file on the controller.",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, assert_refused):
    host, extra_vars, message = REFUSED[case]
    assert_refused(host, "odoo", extra_vars, message, WATCHED_FILES, WATCHED_COMMANDS)


def test_check_mode_passes_on_a_converged_host(role_runner):
    run = role_runner("odoo-d13", "odoo", PASSWORD, check=True)
    assert run.rc == 0 and run.changed("odoo-d13") == 0, run.output[-3000:]
