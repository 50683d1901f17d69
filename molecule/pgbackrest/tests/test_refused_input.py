"""Bad input to role pgbackrest is refused before any change, with a message
that names the variable (molecule/conftest.py, refused_batch: one playbook, a
snapshot of the role's files, units and packages around every case), on both
releases."""

import pytest

HOSTS = ["pitr-d12", "pitr-d13"]
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
    "a short passphrase": ({"pgbackrest_cipher_pass": "short"}, "pgbackrest_cipher_pass (not shown) has 5 characters"),
    "a placeholder passphrase": ({"pgbackrest_cipher_pass": "<vault_pgbackrest_cipher_pass>"}, "pgbackrest_cipher_pass (not shown) looks like a placeholder"),
    "no passphrase": ({"pgbackrest_cipher_pass": ""}, "pgbackrest_cipher_pass (not shown) is missing or empty"),
    "an archive timeout of ten minutes without a waiver": ({"pgbackrest_archive_timeout": 600}, "pgbackrest_archive_timeout is '600'"),
    "an archive timeout above the ceiling even with a waiver": ({"pgbackrest_archive_timeout": 7200, "pgbackrest_archive_timeout_waiver_reason": "nightly batch system, RPO agreed at 2 h"}, "pgbackrest_archive_timeout is '7200'"),
    "an archive timeout of zero": ({"pgbackrest_archive_timeout": 0}, "pgbackrest_archive_timeout is '0'"),
    "a negative archive timeout": ({"pgbackrest_archive_timeout": -60}, "pgbackrest_archive_timeout is '-60'"),
    "an archive timeout in words": ({"pgbackrest_archive_timeout": "one minute"}, "pgbackrest_archive_timeout"),
    "three days of PITR": ({"pgbackrest_retention_days": 3}, "pgbackrest_retention_days is '3'"),
    "a stanza with capitals": ({"pgbackrest_stanza": "Odoo"}, "pgbackrest_stanza is 'Odoo'"),
    "a stanza with a space": ({"pgbackrest_stanza": "odoo prod"}, "pgbackrest_stanza is 'odoo prod'"),
    "a relative repository path": ({"pgbackrest_repo_path": "srv/backup/pgbackrest"}, "pgbackrest_repo_path is 'srv/backup/pgbackrest'"),
    "a repository path with a space": ({"pgbackrest_repo_path": "/srv/backup/pg backrest"}, "pgbackrest_repo_path is '/srv/backup/pg backrest'"),
    "the repository in /etc": ({"pgbackrest_repo_path": "/etc"}, "pgbackrest_repo_path is '/etc'"),
    "the scratch space inside the repository": ({"pgbackrest_drill_scratch_dir": "/srv/backup/pgbackrest/drill"}, "must not contain one another"),
    "a schedule in English": ({"pgbackrest_full_schedule": "every sunday night"}, "pgbackrest_full_schedule is 'every sunday night'"),
    "a drill schedule as cron": ({"pgbackrest_drill_schedule": "0 7 * * 0"}, "pgbackrest_drill_schedule is '0 7 * * 0'"),
    "a schedule that injects a line": ({"pgbackrest_verify_schedule": "daily\nExecStartPre=/bin/rm -rf /srv"}, "pgbackrest_verify_schedule is 'daily"),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("pgbackrest", REFUSED, HOSTS, WATCHED, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)
