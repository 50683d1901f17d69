"""Bad input to role pgbackrest is refused before any change, with a message
that names the variable (molecule/conftest.py, refused_batch: one playbook, a
snapshot of the role's files, units and packages around every case), on both
releases; and to its entry point `repository` on the repository host. The
passphrase cases run where the repository is local (pitr-d13): pitr-d12's
repository host holds its passphrase."""

import pytest

HOSTS = ["pitr-d12", "pitr-d13"]
LOCAL = ["pitr-d13"]
REMOTE = ["pitr-d12"]
PKI = "{{ lab_pki }}"
WATCHED = ["/etc/pgbackrest/pgbackrest.conf", "/etc/odoo-hipaa-pitr/config.json",
           "/etc/systemd/system/odoo-hipaa-pitr-drill.timer"]
WATCHED_COMMANDS = [
    "find /etc/pgbackrest /etc/odoo-hipaa-pitr /etc/postgresql -printf '%p %m %u %s\\n' | sort",
    "systemctl list-timers --all --no-legend 'odoo-hipaa-*' | awk '{print $(NF-1), $NF}' | sort",
    "runuser -u postgres -- psql -XAtc 'SELECT name, setting FROM pg_settings WHERE name LIKE $$archive%$$'",
    "dpkg-query -W pgbackrest",
]

# "what a careless sysadmin did": ({variable: value}, "expected message")
REFUSED = {
    "a short passphrase": ({"pgbackrest_cipher_pass": "short"}, "pgbackrest_cipher_pass (not shown) has 5 characters", LOCAL),
    "a placeholder passphrase": ({"pgbackrest_cipher_pass": "<vault_pgbackrest_cipher_pass>"}, "pgbackrest_cipher_pass (not shown) looks like a placeholder", LOCAL),
    "no passphrase": ({"pgbackrest_cipher_pass": ""}, "pgbackrest_cipher_pass (not shown) is missing or empty", LOCAL),
    "an archive timeout of ten minutes without a waiver": ({"pgbackrest_archive_timeout": 600}, "pgbackrest_archive_timeout is '600'"),
    "an archive timeout above the ceiling even with a waiver": ({"pgbackrest_archive_timeout": 7200, "pgbackrest_archive_timeout_waiver_reason": "nightly batch system, RPO agreed at 2 h"}, "pgbackrest_archive_timeout is '7200'"),
    "an archive timeout of zero": ({"pgbackrest_archive_timeout": 0}, "pgbackrest_archive_timeout is '0'"),
    "a negative archive timeout": ({"pgbackrest_archive_timeout": -60}, "pgbackrest_archive_timeout is '-60'"),
    "an archive timeout in words": ({"pgbackrest_archive_timeout": "one minute"}, "pgbackrest_archive_timeout"),
    "three days of PITR": ({"pgbackrest_retention_days": 3}, "pgbackrest_retention_days is '3'"),
    "a stanza with capitals": ({"pgbackrest_stanza": "Odoo"}, "pgbackrest_stanza is 'Odoo'"),
    "a stanza with a space": ({"pgbackrest_stanza": "odoo prod"}, "pgbackrest_stanza is 'odoo prod'"),
    "a relative repository path": ({"pgbackrest_repo_path": "srv/backup/pgbackrest"}, "pgbackrest_repo_path is 'srv/backup/pgbackrest'", LOCAL),
    "a repository path with a space": ({"pgbackrest_repo_path": "/srv/backup/pg backrest"}, "pgbackrest_repo_path is '/srv/backup/pg backrest'", LOCAL),
    "the repository in /etc": ({"pgbackrest_repo_path": "/etc"}, "pgbackrest_repo_path is '/etc'", LOCAL),
    "the scratch space in /tmp (emptied at boot)": ({"pgbackrest_drill_scratch_dir": "/tmp/pitr-drill"}, "pgbackrest_drill_scratch_dir is '/tmp/pitr-drill': it lies inside /tmp"),
    "the repository below /usr": ({"pgbackrest_repo_path": "/usr/lib/pgbackrest"}, "pgbackrest_repo_path is '/usr/lib/pgbackrest': it lies inside /usr", LOCAL),
    "the scratch space inside the repository": ({"pgbackrest_drill_scratch_dir": "/srv/backup/pgbackrest/drill"}, "must not contain one another", LOCAL),
    "a schedule in English": ({"pgbackrest_full_schedule": "every sunday night"}, "pgbackrest_full_schedule is 'every sunday night'"),
    "a drill schedule as cron": ({"pgbackrest_drill_schedule": "0 7 * * 0"}, "pgbackrest_drill_schedule is '0 7 * * 0'"),
    "a schedule that injects a line": ({"pgbackrest_verify_schedule": "daily\nExecStartPre=/bin/rm -rf /srv"}, "pgbackrest_verify_schedule is 'daily"),
    # A repository on another host: every TLS input is pinned and checked on the controller.
    "a repository host without the site CA": ({"pgbackrest_tls_ca_file": ""}, "pgbackrest_tls_ca_file ('': no such file)", REMOTE),
    "a repository host without this host's key": ({"pgbackrest_tls_key_file": ""}, "pgbackrest_tls_key_file ('': no such file)", REMOTE),
    "a certificate file that does not exist": ({"pgbackrest_tls_cert_file": "/nonexistent/pitr-d12.crt"}, "pgbackrest_tls_cert_file ('/nonexistent/pitr-d12.crt': no such file)", REMOTE),
    "a certificate for server use only": ({"pgbackrest_tls_cert_file": PKI + "/server-only.crt", "pgbackrest_tls_key_file": PKI + "/server-only.key"}, "with the extended key usages serverAuth and clientAuth", REMOTE),
    "a certificate for another name": ({"pgbackrest_tls_cert_file": PKI + "/stranger.crt", "pgbackrest_tls_key_file": PKI + "/stranger.key"}, "must be a current certificate for pitr-d12 (pgbackrest_tls_name)", REMOTE),
    "a certificate another CA issued": ({"pgbackrest_tls_cert_file": PKI + "/foreign/intruder.crt", "pgbackrest_tls_key_file": PKI + "/foreign/intruder.key"}, "is not issued by the site CA", REMOTE),
    "a key that is not the certificate's": ({"pgbackrest_tls_key_file": PKI + "/stranger.key"}, "key matches: False", REMOTE),
    "no address for the TLS server": ({"pgbackrest_tls_address": ""}, "needs pgbackrest_tls_address", REMOTE),
    "a repository host not in the inventory": ({"pgbackrest_repository_host": "backup-9"}, "pgbackrest_repository_host is 'backup-9'", REMOTE),
    "this host as its own repository host": ({"pgbackrest_repository_host": "pitr-d12"}, "pgbackrest_repository_host is 'pitr-d12'", REMOTE),
}

REPOSITORY = ["pitr-repo-d12"]
REPOSITORY_WATCHED = ["/etc/pgbackrest/pgbackrest.conf", "/etc/systemd/system/odoo-hipaa-pgbackrest-server.service"]
REPOSITORY_COMMANDS = [
    "find /etc/pgbackrest /etc/odoo-hipaa-pitr /srv/backup -maxdepth 2 -printf '%p %m %u %s\\n' | sort",
    "systemctl list-timers --all --no-legend 'odoo-hipaa-*' | awk '{print $(NF-1), $NF}' | sort",
    "dpkg-query -W pgbackrest",
]
REFUSED_REPOSITORY = {
    "a short passphrase on the repository host": ({"pgbackrest_cipher_pass": "short"}, "pgbackrest_cipher_pass (not shown) has 5 characters"),
    "no passphrase on the repository host": ({"pgbackrest_cipher_pass": ""}, "pgbackrest_cipher_pass (not shown) is missing or empty"),
    "three days of PITR on the repository host": ({"pgbackrest_retention_days": 3}, "pgbackrest_retention_days is '3'"),
    "the repository in /usr": ({"pgbackrest_repo_path": "/usr"}, "pgbackrest_repo_path is '/usr'"),
    "the repository below /usr on the repository host": ({"pgbackrest_repo_path": "/usr/lib/pgbackrest"}, "pgbackrest_repo_path is '/usr/lib/pgbackrest': it lies inside /usr"),
    "a repository host without its certificate": ({"pgbackrest_tls_cert_file": ""}, "pgbackrest_tls_cert_file ('': no such file)"),
    "a repository host certificate from another CA": ({"pgbackrest_tls_cert_file": PKI + "/foreign/intruder.crt", "pgbackrest_tls_key_file": PKI + "/foreign/intruder.key"}, "is not issued by the site CA"),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("pgbackrest", REFUSED, HOSTS, WATCHED, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)


@pytest.fixture(scope="module")
def refused_repository(refused_batch):
    return refused_batch("pgbackrest", REFUSED_REPOSITORY, REPOSITORY, REPOSITORY_WATCHED, REPOSITORY_COMMANDS,
                         tasks_from="repository")


@pytest.mark.parametrize("case", sorted(REFUSED_REPOSITORY))
def test_bad_input_to_the_repository_host_is_refused_and_changes_nothing(case, refused_repository):
    refused_repository.check(case)
