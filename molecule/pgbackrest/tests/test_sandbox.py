"""The pgBackRest units run as postgres without capabilities or network
(roles/pgbackrest/README.md); PostgreSQL keeps its own sandbox with the one
writable path archive-push needs. That they still back up, verify and drill
through the sandbox is what test_pitr.py proves (it starts the units)."""

import pytest

UNITS = ["odoo-hipaa-pgbackrest-full.service", "odoo-hipaa-pgbackrest-diff.service",
         "odoo-hipaa-pgbackrest-verify.service", "odoo-hipaa-pitr-drill.service"]
CLUSTER = {"pitr-d12": "postgresql@15-main.service", "pitr-d13": "postgresql@17-main.service"}


@pytest.mark.parametrize("name", ["pitr-d12", "pitr-d13"])
@pytest.mark.parametrize("unit", UNITS + ["cluster"])
def test_exposure_is_within_the_collections_limit(name, unit, lab_host, sandbox_exposure):
    unit = CLUSTER[name] if unit == "cluster" else unit
    figure, limit = sandbox_exposure(lab_host(name), unit)
    print(f"{name}: systemd-analyze security {unit} exposure {figure} (limit {limit})")
    assert figure <= limit
