"""rsyslog runs in the role's sandbox (systemd drop-in) on the sender and the
aggregator; that it still reads, ships, receives, stores and rotates every
log is what test_shipping.py and test_aggregator.py prove through it."""

import pytest
from ls_lab import AGG, APP


@pytest.mark.parametrize("name", [APP, AGG])
def test_exposure_is_within_the_collections_limit(name, lab_host, sandbox_exposure):
    figure, limit = sandbox_exposure(lab_host(name), "rsyslog.service")
    print(f"{name}: systemd-analyze security rsyslog.service exposure {figure} (limit {limit})")
    assert figure <= limit


@pytest.mark.parametrize("name", [APP, AGG])
def test_the_sandbox_is_in_force(name, lab_host):
    host = lab_host(name)
    pid = host.check_output("systemctl show -p MainPID --value rsyslog.service")
    status = host.check_output(f"cat /proc/{pid}/status")
    bounding = int(next(l for l in status.splitlines() if l.startswith("CapBnd:")).split()[1], 16)
    # CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_NET_BIND_SERVICE
    assert bounding == (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 10), hex(bounding)
    assert "NoNewPrivs:\t1" in status
    assert host.run(f"nsenter -t {pid} -m touch /etc/sandbox-probe").rc != 0
