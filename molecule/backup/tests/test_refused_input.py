"""Bad input is refused before any change, with a message that names the
variable and says what is allowed. The table runs as one playbook
(molecule/conftest.py, refused_batch) on bk-app-d12 and bk-app-d13; for each
case: refused with the message, no task reported a change, and the role's
files, units, timers, packages and the repositories' snapshots are identical."""

import os

import pytest

TARGET = "bk-app-d12"
HOSTS = ["bk-app-d12", "bk-app-d13"]
WATCHED = ["/etc/odoo-hipaa-backup/config.json", "/etc/odoo-hipaa-backup/restic.pass",
           "/etc/systemd/system/odoo-hipaa-backup.service", "/etc/systemd/system/odoo-hipaa-backup.timer",
           "/etc/systemd/system/odoo-hipaa-backup-check.timer", "/etc/systemd/system/odoo-hipaa-restore-drill.timer"]
WATCHED_COMMANDS = [
    "find /etc/odoo-hipaa-backup /etc/systemd/system /usr/local/lib/odoo-hipaa-backup -printf '%p %m %u %s\\n' | sort",
    "systemctl list-timers --all --no-legend 'odoo-hipaa-*' | awk '{print $(NF-1), $NF}' | sort",
    "dpkg-query -W restic openssh-client",
    "ls -R /srv/backup/restic/snapshots | sort",
]
SFTP = {"name": "offsite", "type": "sftp", "host": "x", "user": "u", "path": "/repo", "private_key": "k"}
LOCAL = [{"name": "local", "type": "local", "path": "/srv/backup/restic"}]
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "pki")
REST = {"name": "offsite", "type": "rest", "host": "bk-srv-d13", "port": 8101, "user": "restic-bk-app-d12",
        "path": "/repo", "password": "lab-only-rest-password-of-bk-app-d12",
        "retention_password": "lab-only-retention-key-passw0rd", "ca_file": f"{PKI}/ca.crt",
        "client_cert_file": f"{PKI}/bk-app-d12.crt", "client_key_file": f"{PKI}/bk-app-d12.key"}
WAIVED = {"backup_sftp_waiver_reason": "lab: the SFTP path stays tested"}

# "what a careless sysadmin did": ({variable: value}, "expected message"[, hosts])
REFUSED = {
    # repositories
    "no repository": ({"backup_repositories": []}, "No backup repository configured"),
    "unknown repository type": ({"backup_repositories": [{"name": "s3", "type": "s3", "path": "/bucket"}]}, "value of type must be one of: local, rest, sftp, got: s3"),
    "sftp without a pinned host key": ({"backup_repositories": LOCAL + [SFTP], **WAIVED}, "an sftp repository needs host, user, host_key"),
    # off-site copies a compromised host could erase, or could not reach
    "sftp without a waiver": ({"backup_repositories": LOCAL + [dict(SFTP, host_key="ssh-ed25519 AAAA")], "backup_sftp_waiver_reason": ""}, "is of type sftp: this host's SFTP key can delete every off-site backup"),
    "sftp with a one-word waiver": ({"backup_repositories": LOCAL + [dict(SFTP, host_key="ssh-ed25519 AAAA")], "backup_sftp_waiver_reason": "legacy"}, "set backup_sftp_waiver_reason to the written reason"),
    "rest as the primary": ({"backup_repositories": [REST] + LOCAL}, "is of type rest and first"),
    "rest without the site CA": ({"backup_repositories": LOCAL + [dict(REST, ca_file="")]}, "ca_file ''"),
    "rest with a CA file that is not there": ({"backup_repositories": LOCAL + [dict(REST, ca_file="/nonexistent/ca.crt")]}, "ca_file '/nonexistent/ca.crt'"),
    "rest without a port": ({"backup_repositories": LOCAL + [{k: v for k, v in REST.items() if k != "port"}]}, "port ''"),
    "rest with an account that is not restic-NAME": ({"backup_repositories": LOCAL + [dict(REST, user="root")]}, "user 'root'"),
    "rest with a short password": ({"backup_repositories": LOCAL + [dict(REST, password="short")]}, "offsite (rest): password (not shown) has 5 characters"),
    "rest with a placeholder retention password": ({"backup_repositories": LOCAL + [dict(REST, retention_password="<vault_backup_retention_password>")]}, "offsite (rest): retention_password (not shown) looks like a placeholder"),
    "two repositories with one name": ({"backup_repositories": LOCAL + LOCAL}, "names must be unique and paths absolute"),
    "a relative repository path": ({"backup_repositories": [{"name": "local", "type": "local", "path": "srv/backup"}]}, "names must be unique and paths absolute"),
    "repositories as a string": ({"backup_repositories": "/srv/backup/restic"}, "backup_repositories"),
    # the password (shown never; the rule always)
    "short password": ({"backup_password": "too-short"}, "backup_password (not shown) has 9 characters; at least 20 are required"),
    "placeholder password from the example inventory": ({"backup_password": "<at least 20 characters; store a copy offline: without it the backups cannot be read>"}, "backup_password (not shown) looks like a placeholder"),
    "password changeme": ({"backup_password": "changeme-changeme-changeme"}, "backup_password (not shown) looks like a placeholder"),
    "empty password": ({"backup_password": ""}, "backup_password (not shown) is missing or empty"),
    # components
    "no component": ({"backup_components": []}, "backup_components must list what this host backs up"),
    "components as a string": ({"backup_components": "database"}, "backup_components must be a YAML list (e.g. [a, b]), got the string 'database'"),
    "unknown component": ({"backup_components": ["database", "logs"]}, "value of backup_components must be one or more of: database, filestore. Got no match for: logs"),
    # schedules (issue: an invalid schedule was found after restic, the password and the units were written)
    "a schedule in English": ({"backup_schedule": "daily at 01:30"}, "backup_schedule is 'daily at 01:30': systemd does not read it as a calendar expression"),
    "a check schedule with a typo": ({"backup_check_schedule": "Sun *-*-* 25:00:00"}, "backup_check_schedule is 'Sun *-*-* 25:00:00': systemd does not read it"),
    "a drill schedule as cron": ({"backup_drill_schedule": "0 6 * * 0"}, "backup_drill_schedule is '0 6 * * 0': systemd does not read it"),
    "a schedule that injects a line": ({"backup_schedule": "daily\nExecStartPre=/bin/rm -rf /srv"}, "backup_schedule is 'daily"),
    "an empty schedule": ({"backup_schedule": ""}, "backup_schedule is '': systemd does not read it"),
    "a randomized delay in words": ({"backup_randomized_delay": "half an hour"}, "backup_randomized_delay is 'half an hour': systemd does not read it as a time span"),
    # retention (§164.316(b)(2)(i))
    "retention below policy": ({"backup_retention": {"keep_daily": 3, "keep_yearly": 1}}, "keeps less than the policy minimum"),
    "retention without yearly copies": ({"backup_retention": {"keep_daily": 7}}, "keeps less than the policy minimum"),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("backup", REFUSED, HOSTS, WATCHED, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)


def test_retention_waiver_is_accepted_with_a_reason(role_runner):
    """The same short retention, with its written reason, passes validation
    (where the refusal above happens). Only validate.yml runs: a full run
    with the waiver and another to put the policy back cost five minutes of
    CI for no more proof; the unit template that records the reason is
    rendered by tests/unit/test_backup_templates.py."""
    run = role_runner(TARGET, "backup", {"backup_retention": {"keep_daily": 3, "keep_yearly": 1},
                                         "backup_retention_waiver_reason": "test: archive kept elsewhere"},
                      tasks_from="validate")
    assert run.rc == 0, run.output[-3000:]
    assert run.changed(TARGET) == 0, "validation changed the host"
