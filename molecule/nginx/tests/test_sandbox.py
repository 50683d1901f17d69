"""nginx runs in the role's sandbox (systemd drop-in) and still does its
whole job: serves TLS, reloads, reopens its logs after logrotate."""

import time

LOG = "/var/log/nginx/odoo-access.json.log"


def test_exposure_is_within_the_collections_limit(host, sandbox_exposure):
    figure, limit = sandbox_exposure(host, "nginx.service")
    print(f"{host.backend.get_hostname()}: systemd-analyze security nginx.service exposure {figure} (limit {limit})")
    assert figure <= limit


def test_the_sandbox_is_in_force(host):
    pid = host.check_output("systemctl show -p MainPID --value nginx.service")
    status = host.check_output(f"cat /proc/{pid}/status")
    # only the capabilities the drop-in names: net_bind_service, setuid/gid, chown, dac_override, kill
    bounding = int(next(l for l in status.splitlines() if l.startswith("CapBnd:")).split()[1], 16)
    assert bounding == (1 << 10) | (1 << 7) | (1 << 6) | (1 << 0) | (1 << 1) | (1 << 5), hex(bounding)
    assert "NoNewPrivs:\t1" in status
    # the master cannot write outside its logs, temp files and /run
    assert host.run(f"nsenter -t {pid} -m touch /etc/nginx/sandbox-probe").rc != 0
    assert host.run(f"nsenter -t {pid} -m touch /usr/sbin/sandbox-probe").rc != 0


def test_reload_keeps_serving(host, client):
    before = host.check_output("systemctl show -p MainPID --value nginx.service")
    host.check_output("systemctl reload nginx.service")
    time.sleep(1)
    assert host.check_output("systemctl is-active nginx.service") == "active"
    assert host.check_output("systemctl show -p MainPID --value nginx.service") == before
    assert client.curl("/web").status == 200


def test_rotation_reopens_the_access_log(host, client):
    """What Debian's /etc/logrotate.d/nginx does: move the file away, then
    USR1 to the master (invoke-rc.d nginx rotate), which reopens its logs as
    root inside the sandbox."""
    host.check_output(f"mv {LOG} {LOG}.1 && kill -USR1 $(cat /run/nginx.pid)")
    time.sleep(1)
    marker = f"/web/rotate-probe-{time.time_ns()}"
    client.curl(marker)
    time.sleep(1)
    assert host.file(LOG).exists, "nginx did not reopen its access log after rotation"
    assert marker in host.file(LOG).content_string
    assert marker not in host.file(f"{LOG}.1").content_string
