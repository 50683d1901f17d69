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



@pytest.mark.parametrize("unit", ["odoo-hipaa-restic-rest@bk-app-d12.service",
                                  "odoo-hipaa-offsite-retention@bk-app-d12.service"])
def test_backup_host_units_are_within_the_collections_limit(unit, lab_host, sandbox_exposure):
    """The REST service faces the network; it and the retention job run as the
    client's account without capabilities (roles/backup_server/README.md)."""
    figure, limit = sandbox_exposure(lab_host("bk-srv-d13"), unit)
    print(f"bk-srv-d13: systemd-analyze security {unit} exposure {figure} (limit {limit})")
    assert figure <= limit


def test_the_rest_service_sees_only_its_clients_repository(lab_host):
    server = lab_host("bk-srv-d13")
    pid = server.check_output("systemctl show -p MainPID --value odoo-hipaa-restic-rest@bk-app-d12.service")
    assert pid != "0"
    listing = server.check_output(f"nsenter -t {pid} -m ls -A /srv/restic")
    assert listing.split() == ["restic-bk-app-d12"], listing
    assert server.run(f"nsenter -t {pid} -m ls /srv/restic/restic-bk-app-d13").rc != 0
    status = server.check_output(f"cat /proc/{pid}/status")
    assert "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status
    assert server.check_output(f"stat -c %U /proc/{pid}") == "restic-bk-app-d12"
