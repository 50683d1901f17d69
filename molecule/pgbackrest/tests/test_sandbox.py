"""The pgBackRest units run without capabilities, as postgres on a database
host and as pgbackrest on the repository host, with network only where
pgBackRest's TLS needs it (roles/pgbackrest/README.md); PostgreSQL keeps its
own sandbox. That they still back up, verify and drill through the sandbox is
what test_pitr.py and test_repository_host.py prove (they start the units)."""

import pytest

UNITS = {
    # the repository is on pitr-repo-d12: the database host keeps the drill and its TLS server
    "pitr-d12": ["odoo-hipaa-pitr-drill.service", "odoo-hipaa-pgbackrest-server.service", "postgresql@15-main.service"],
    "pitr-d13": ["odoo-hipaa-pgbackrest-full.service", "odoo-hipaa-pgbackrest-diff.service",
                 "odoo-hipaa-pgbackrest-verify.service", "odoo-hipaa-pitr-drill.service", "postgresql@17-main.service"],
    "pitr-repo-d12": ["odoo-hipaa-pgbackrest-server.service", "odoo-hipaa-pgbackrest-full@odoo.service",
                      "odoo-hipaa-pgbackrest-diff@odoo.service", "odoo-hipaa-pgbackrest-verify@odoo.service"],
}


@pytest.mark.parametrize("name,unit", [(n, u) for n, units in UNITS.items() for u in units])
def test_exposure_is_within_the_collections_limit(name, unit, lab_host, sandbox_exposure):
    figure, limit = sandbox_exposure(lab_host(name), unit)
    print(f"{name}: systemd-analyze security {unit} exposure {figure} (limit {limit})")
    assert figure <= limit
