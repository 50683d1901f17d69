"""Fixtures of the baseline scenario (helpers in baseline_lab.py)."""

import pytest
from baseline_lab import APP, OUTSIDE, Outside, addresses


@pytest.fixture(scope="module")
def app(lab_host):
    """baseline-d12, the Odoo host under test."""
    return lab_host(APP)


@pytest.fixture(scope="module")
def outside(lab_host):
    """baseline-d13 as the client of baseline-d12."""
    return Outside(lab_host(OUTSIDE))


@pytest.fixture(scope="module")
def lab_addresses(app):
    """{'admin_station': ..., 'outsider': ...} (addresses of baseline-d13)."""
    return addresses(app)
