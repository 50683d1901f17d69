"""Bad input is refused before any change, with a message that says what is allowed."""

import pytest

TARGET = "bk-app-d12"
WATCHED = ["/etc/odoo-hipaa-backup/config.json", "/etc/odoo-hipaa-backup/restic.pass",
           "/etc/systemd/system/odoo-hipaa-backup.service", "/etc/systemd/system/odoo-hipaa-backup.timer"]

REFUSED = {
    "no repository": ({"backup_repositories": []}, "No backup repository configured"),
    "short password": ({"backup_password": "too-short"}, "backup_password is missing or shorter than 20 characters"),
    "retention below policy": (
        {"backup_retention": {"keep_daily": 3, "keep_yearly": 1}},
        "keeps less than the policy minimum",
    ),
    "sftp without a pinned host key": (
        {"backup_repositories": [{"name": "offsite", "type": "sftp", "host": "x", "user": "u", "path": "/repo",
                                  "private_key": "k"}]},
        "an sftp repository needs host, user, host_key",
    ),
    "no component": ({"backup_components": []}, "backup_components must list what this host backs up"),
    "unknown component": (
        {"backup_components": ["database", "logs"]},
        "value of backup_components must be one or more of: database, filestore. Got no match for: logs",
    ),
    "unknown repository type": (
        {"backup_repositories": [{"name": "s3", "type": "s3", "path": "/bucket"}]},
        "value of type must be one of: local, sftp, got: s3",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, assert_refused):
    extra_vars, message = REFUSED[case]
    assert_refused(TARGET, "backup", extra_vars, message, WATCHED)


def test_retention_waiver_is_accepted_with_a_reason(role_runner):
    run = role_runner(TARGET, "backup", {"backup_retention": {"keep_daily": 3, "keep_yearly": 1},
                                         "backup_retention_waiver_reason": "test: archive kept elsewhere"})
    assert run.rc == 0, run.output[-3000:]
    # put the policy back
    assert role_runner(TARGET, "backup").rc == 0
