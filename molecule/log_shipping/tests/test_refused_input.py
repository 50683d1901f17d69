"""Bad input is refused before any change, with a message that says what is
allowed: the run fails, the message names the problem, the recap shows no
change, and the host's files and rsyslog's process are identical."""

import os

import pytest
from ls_lab import AGG, APP

# The lab CA and certificates of prepare.yml (onprem.odoo_hipaa.lab_pki).
PKI = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent") + "/pki"
WATCHED_FILES = [
    "/etc/rsyslog.conf",
    "/etc/odoo-hipaa-log-shipping/tls/ca.crt",
    "/etc/odoo-hipaa-log-shipping/tls/host.crt",
    "/etc/odoo-hipaa-log-shipping/tls/host.key",
    "/etc/systemd/journald.conf.d/zz-odoo-hipaa-log-shipping.conf",
    "/etc/audit/rules.d/50-odoo-hipaa.rules",
    "/etc/logrotate.d/odoo-hipaa-log-aggregator",
    "/etc/systemd/system/logrotate.service.d/odoo-hipaa-log-shipping.conf",
]
WATCHED_COMMANDS = [
    "systemctl show -p MainPID --value rsyslog.service",          # no restart
    "find /etc/odoo-hipaa-log-shipping /etc/audit /etc/systemd/system -printf '%p %m %u %s\\n' | sort",
]

REFUSED = {
    "forwarding without TLS": (
        APP, {"log_shipping_tls": False},
        "log_shipping_tls is false: forwarding logs without TLS is refused",
    ),
    "certificate file missing": (
        APP, {"log_shipping_tls_cert_file": "/nonexistent/app.crt"},
        "Certificate file(s) not found on the controller: /nonexistent/app.crt",
    ),
    "certificate from another CA": (
        APP, {"log_shipping_tls_cert_file": f"{PKI}-foreign/{APP}.crt", "log_shipping_tls_key_file": f"{PKI}-foreign/{APP}.key"},
        f"{PKI}-foreign/{APP}.crt must be a valid certificate issued by the CA in {PKI}/ca.crt",
    ),
    "retention of one year without a waiver": (
        AGG, {"log_shipping_aggregator_retention_days": 365},
        "log_shipping_aggregator_retention_days is 365: HIPAA §164.316(b)(2)(i) requires keeping the logs 2190 days",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, assert_refused):
    target, extra_vars, message = REFUSED[case]
    assert_refused(target, "log_shipping", extra_vars, message, WATCHED_FILES, WATCHED_COMMANDS)


def test_check_mode_on_the_converged_host_changes_nothing(role_runner):
    run = role_runner(APP, "log_shipping", {}, check=True)
    assert run.rc == 0 and run.changed(APP) == 0, run.output[-3000:]
