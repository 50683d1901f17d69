"""Bad input to role backup_server is refused before any change, with a
message that names the variable (molecule/conftest.py, refused_batch: one
playbook, a snapshot of the role's files, units and packages around every
case) on bk-srv-d13 (Debian 13) and bk-srv-d12 (Debian 12)."""

import os

import pytest

HOSTS = ["bk-srv-d12", "bk-srv-d13"]
WATCHED = ["/etc/ssh/sshd_config.d/50-odoo-hipaa-restic-sftp.conf",
           "/etc/systemd/system/odoo-hipaa-restic-rest@.service",
           "/etc/systemd/system/odoo-hipaa-offsite-retention@.timer"]
WATCHED_COMMANDS = [
    "find /etc/odoo-hipaa-backup-server /etc/ssh/authorized_keys /srv/restic -maxdepth 2 -printf '%p %m %u %s\\n' | sort",
    "systemctl list-units --all --no-legend 'odoo-hipaa-*' | awk '{print $1, $3, $4}' | sort",
    "dpkg-query -W rclone restic apache2-utils openssh-server",
]
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "pki")
PW = {"rest_password": "lab-only-rest-password-of-bk-app-d12", "retention_password": "lab-only-retention-key-passw0rd"}
REST = dict(name="bk-app-d12", protocol="rest", rest_port=8101, **PW)
SFTP = {"name": "bk-app-d13", "protocol": "sftp", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIlab bk-app-d13"}

# "what a careless sysadmin did": ({variable: value}, "expected message")
REFUSED = {
    "clients as a string": ({"backup_server_clients": "bk-app-d12"}, "backup_server_clients"),
    "a client name with a space": ({"backup_server_clients": [dict(REST, name="bk app")]}, "(name 'bk app', protocol 'rest')"),
    "two clients with one name": ({"backup_server_clients": [REST, dict(REST, rest_port=8102)]}, "the name must be unique"),
    "a protocol typo": ({"backup_server_clients": [dict(REST, protocol="https")]}, "value of protocol must be one of: rest, sftp, got: https"),
    "sftp without a waiver": ({"backup_server_clients": [SFTP], "backup_server_sftp_waiver_reason": ""}, "use protocol sftp: a client holding its SFTP key can delete every off-site backup"),
    "sftp without a key": ({"backup_server_clients": [{"name": "bk-app-d13", "protocol": "sftp"}], "backup_server_sftp_waiver_reason": "lab: testing the SFTP path"}, "public_key must be one OpenSSH public key line"),
    "rest without a port": ({"backup_server_clients": [{k: v for k, v in REST.items() if k != "rest_port"}]}, "rest_port is ''"),
    "a rest port outside the firewall's range": ({"backup_server_clients": [dict(REST, rest_port=443)]}, "rest_port is '443'"),
    "a negative rest port": ({"backup_server_clients": [dict(REST, rest_port=-8101)]}, "rest_port is '-8101'"),
    "two clients on one port": ({"backup_server_clients": [REST, dict(REST, name="bk-app-d14")]}, "that no other client uses"),
    "a short rest password": ({"backup_server_clients": [dict(REST, rest_password="short")]}, "rest_password (not shown) has 5 characters"),
    "a placeholder retention password": ({"backup_server_clients": [dict(REST, retention_password="changeme-changeme-changeme")]}, "retention_password (not shown) looks like a placeholder"),
    "no retention password": ({"backup_server_clients": [{k: v for k, v in REST.items() if k != "retention_password"}]}, "retention_password (not shown) is missing or empty"),
    "rest without a certificate": ({"backup_server_tls_cert_file": ""}, "backup_server_tls_cert_file is ''"),
    "a key file that is not there": ({"backup_server_tls_key_file": "/nonexistent/server.key"}, "backup_server_tls_key_file is '/nonexistent/server.key'"),
    "a listen address with a space": ({"backup_server_rest_address": "10.0.0.1 10.0.0.2"}, "backup_server_rest_address is '10.0.0.1 10.0.0.2'"),
    "TLS 1.1": ({"backup_server_tls_min_version": "tls1.1"}, "value of backup_server_tls_min_version must be one of: tls1.2, tls1.3, got: tls1.1"),
    "retention of one year": ({"backup_server_retention": {"keep_within_daily": "14d", "keep_within_yearly": "1y"}}, "keeps less than the policy minimum"),
    "retention without yearly copies": ({"backup_server_retention": {"keep_within_daily": "14d"}}, "keeps less than the policy minimum"),
    "retention in words": ({"backup_server_retention": {"keep_within_yearly": "six years"}}, "each a number followed by y, m, d or h"),
    "retention with a typo in a key": ({"backup_server_retention": {"keep_within_yearl": "6y"}}, "backup_server_retention is"),
    "a retention schedule in English": ({"backup_server_retention_schedule": "every saturday"}, "backup_server_retention_schedule is 'every saturday'"),
    "a tolerance of a week": ({"backup_server_future_snapshot_tolerance": 604800}, "backup_server_future_snapshot_tolerance is '604800'"),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("backup_server", REFUSED, HOSTS, WATCHED, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)
