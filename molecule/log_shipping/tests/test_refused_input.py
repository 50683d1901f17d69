"""Bad input is refused before any change, with a message that names the
variable and says what is allowed. The table runs as one playbook per host
role (molecule/conftest.py, refused_batch): the sender on Debian 12, the
aggregator on Debian 13; for each case: refused with the message, no task
reported a change, and the host's files and rsyslog's process are identical."""

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
    "/etc/odoo-hipaa-log-seal/seal.json",
    "/etc/systemd/system/logrotate.service.d/odoo-hipaa-log-shipping.conf",
]
WATCHED_COMMANDS = [
    "systemctl show -p MainPID --value rsyslog.service",          # no restart
    "find /etc/odoo-hipaa-log-shipping /etc/audit /etc/systemd/system -printf '%p %m %u %s\\n' | sort",
]

# A well-formed ed25519 key that is not the aggregator's.
OTHER_SEAL_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILLD03NoWPaZyJ0KPJsgvCSfevEkjvAwwTmnKc3BWso5 someone@else"

# "what a careless sysadmin did": ({variable: value}, "expected message"[, hosts])
SENDER = {
    "forwarding without TLS": ({"log_shipping_tls": False}, "log_shipping_tls is false: forwarding logs without TLS is refused"),
    "certificate file missing": ({"log_shipping_tls_cert_file": "/nonexistent/app.crt"}, "Certificate file(s) not found on the controller: /nonexistent/app.crt"),
    "certificate from another CA": ({"log_shipping_tls_cert_file": f"{PKI}-foreign/{APP}.crt", "log_shipping_tls_key_file": f"{PKI}-foreign/{APP}.key"}, f"{PKI}-foreign/{APP}.crt must be a valid certificate issued by the CA in {PKI}/ca.crt"),
    "TLS 1.0 as the floor": ({"log_shipping_tls_min_protocol": "TLSv1.0"}, "value of log_shipping_tls_min_protocol must be one of"),
    "a mode with a typo": ({"log_shipping_mode": "sender "}, "value of log_shipping_mode must be one of"),
    "a queue of ten messages": ({"log_shipping_queue_size": 10}, "log_shipping_queue_size is '10'; it must be at least 1000 messages"),
    "a queue size in words": ({"log_shipping_queue_size": "a lot"}, "log_shipping_queue_size"),
    "a disk queue with a space": ({"log_shipping_queue_max_disk_space": "4 GB"}, "log_shipping_queue_max_disk_space is '4 GB'; it must be a size like 4g"),
    "a resume interval of zero": ({"log_shipping_queue_resume_interval": 0}, "log_shipping_queue_resume_interval is '0'; it must be at least 1"),
    "a maximum resume interval below the interval": ({"log_shipping_queue_resume_interval": 30, "log_shipping_queue_resume_interval_max": 10}, "log_shipping_queue_resume_interval_max is '10'; it must not be below"),
    "a journal size in lower case": ({"log_shipping_journal_max_use": "2g"}, "log_shipping_journal_max_use is '2g'; it must be a journald size like 2G"),
    "a log file without a tag": ({"log_shipping_files": [{"path": "/var/log/odoo/odoo.log"}]}, "log_shipping_files"),
    "a log file with a glob": ({"log_shipping_files": [{"path": "/var/log/odoo/*.log", "tag": "odoo"}]}, "log_shipping_files"),
    "privileged directories as a string": ({"log_shipping_audit_privileged_dirs": "/usr/bin"}, "log_shipping_audit_privileged_dirs must be a YAML list (e.g. [a, b]), got the string '/usr/bin'"),
    "a port out of range": ({"log_shipping_port": 0}, "log_shipping_port is 0; a port is 1-65535"),
}
AGGREGATOR = {
    "retention of one year without a waiver": ({"log_shipping_aggregator_retention_days": 365}, "log_shipping_aggregator_retention_days is 365: HIPAA §164.316(b)(2)(i) requires keeping the logs 2190 days"),
    "retention of zero days": ({"log_shipping_aggregator_retention_days": 0, "log_shipping_aggregator_retention_waiver": "a second archive keeps the six years"}, "log_shipping_aggregator_retention_days is 0"),
    "an aggregator directory with a space": ({"log_shipping_aggregator_dir": "/var/log/remote logs"}, "log_shipping_aggregator_dir is '/var/log/remote logs'; it contains whitespace"),
    "the aggregator writing into /var/log itself": ({"log_shipping_aggregator_dir": "/var/log"}, "log_shipping_aggregator_dir is '/var/log'; it is a system directory"),
    "a disk alert at 100 percent": ({"log_shipping_aggregator_disk_alert_percent": 100}, "log_shipping_aggregator_disk_alert_percent is '100'; it must be between 1 and 99"),
    "a disk check interval in English": ({"log_shipping_aggregator_disk_check_interval": "every hour"}, "log_shipping_aggregator_disk_check_interval is 'every hour': systemd does not read it as a calendar expression"),
    "a seal schedule in English": ({"log_shipping_seal_schedule": "nightly please"}, "log_shipping_seal_schedule is 'nightly please': systemd does not read it as a calendar expression"),
    "an RSA key pinned as the seal key": ({"log_shipping_seal_public_key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 x"}, "log_shipping_seal_public_key must be empty or the aggregator's seal key"),
    "another host's seal key pinned": ({"log_shipping_seal_public_key": OTHER_SEAL_KEY}, "log_shipping_seal_public_key does not match the seal key on log-shipping-agg-d13"),
}
REFUSED = {**SENDER, **AGGREGATOR}


@pytest.fixture(scope="module")
def refused(refused_batch):
    sender = refused_batch("log_shipping", SENDER, [APP], WATCHED_FILES, WATCHED_COMMANDS)
    aggregator = refused_batch("log_shipping", AGGREGATOR, [AGG], WATCHED_FILES, WATCHED_COMMANDS)
    return {"sender": sender, "aggregator": aggregator}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused["sender" if case in SENDER else "aggregator"].check(case)


def test_check_mode_on_the_converged_host_changes_nothing(role_runner):
    run = role_runner(APP, "log_shipping", {}, check=True)
    assert run.rc == 0 and run.changed(APP) == 0, run.output[-3000:]
