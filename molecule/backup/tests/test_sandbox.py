"""The backup, repository-check and restore-drill units run sandboxed (2.3,
limit 3.0: see roles/backup/README.md); that
they still back up, check and restore through the sandbox is what
test_backup.py proves (it starts the units, not the script)."""

import pytest

UNITS = ["odoo-hipaa-backup.service", "odoo-hipaa-backup-check.service", "odoo-hipaa-restore-drill.service"]


@pytest.mark.parametrize("name", ["bk-app-d12", "bk-app-d13"])
@pytest.mark.parametrize("unit", UNITS)
def test_exposure_is_within_the_collections_limit(name, unit, lab_host, sandbox_exposure):
    figure, limit = sandbox_exposure(lab_host(name), unit)
    print(f"{name}: systemd-analyze security {unit} exposure {figure} (limit {limit})")
    assert figure <= limit

