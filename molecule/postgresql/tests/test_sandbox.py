"""Every cluster unit runs in the role's sandbox (systemd drop-in) and still
does its whole job: accepts connections (socket; TLS on the pg-tls hosts,
tested in test_tls_mode.py through the sandbox), writes data, reloads without
a restart, restarts."""

import time

VERSION = {"12": "15", "13": "17"}


def unit(host):
    return f"postgresql@{VERSION[host.system_info.release.split('.')[0]]}-main.service"


def postmaster(host):
    return host.check_output(f"systemctl show -p MainPID --value {unit(host)}")


def test_exposure_is_within_the_collections_limit(host, sandbox_exposure):
    figure, limit = sandbox_exposure(host, unit(host))
    print(f"{host.backend.get_hostname()}: systemd-analyze security {unit(host)} exposure {figure} (limit {limit})")
    assert figure <= limit


def test_the_sandbox_is_in_force(host):
    status = host.check_output(f"cat /proc/{postmaster(host)}/status")
    bounding = int(next(l for l in status.splitlines() if l.startswith("CapBnd:")).split()[1], 16)
    assert bounding == (1 << 6) | (1 << 7), hex(bounding)        # CAP_SETGID, CAP_SETUID only
    assert "NoNewPrivs:\t1" in status
    pid = postmaster(host)
    assert host.run(f"nsenter -t {pid} -m touch /etc/postgresql/sandbox-probe").rc != 0
    assert host.run(f"nsenter -t {pid} -m touch /usr/lib/postgresql/sandbox-probe").rc != 0


def test_it_writes_reloads_and_restarts(host):
    sql = "runuser -u postgres -- psql -XAt -d postgres -c "
    host.check_output(sql + "'CREATE TABLE IF NOT EXISTS sandbox_probe (n int); INSERT INTO sandbox_probe VALUES (1); CHECKPOINT'")
    before = postmaster(host)
    host.check_output(f"systemctl reload {unit(host)}")
    time.sleep(1)
    assert postmaster(host) == before
    host.check_output(f"systemctl restart {unit(host)}")
    assert host.check_output(f"systemctl is-active {unit(host)}") == "active"
    assert int(host.check_output(sql + "'SELECT count(*) FROM sandbox_probe'")) >= 1
    host.check_output(sql + "'DROP TABLE sandbox_probe'")
