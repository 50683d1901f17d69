"""The backup, repository-check and restore-drill units run sandboxed; that
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


@pytest.mark.parametrize("name", ["bk-app-d12", "bk-app-d13"])
def test_the_units_keep_only_the_capabilities_they_need(name, lab_host):
    caps = lab_host(name).check_output("systemctl show -p CapabilityBoundingSet --value odoo-hipaa-backup.service")
    assert set(caps.split()) == {"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
                                 "cap_setgid", "cap_setuid"}
