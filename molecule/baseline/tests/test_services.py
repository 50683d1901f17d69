"""Time, updates, kernel settings and core dumps on both releases."""

import re
from pathlib import Path

from baseline_lab import APP, OUTSIDE, wait_for

testinfra_hosts = ["baseline"]


def test_chronyd_runs_without_touching_the_clock(host):
    assert host.service("chrony").is_running and host.service("chrony").is_enabled
    assert "-x" in host.check_output("ps -o args= -C chronyd").split()


def test_the_app_host_follows_its_configured_time_source(lab_host):
    app, server = lab_host(APP), lab_host(OUTSIDE)
    server_ip = server.interface("eth0").addresses[0]
    assert app.file("/etc/chrony/chrony.conf").contains(f"^server {OUTSIDE} iburst")

    def selected():
        out = app.check_output("chronyc -n sources")
        return [line for line in out.splitlines() if server_ip in line and line[:2] in ("^*", "^+")]
    assert wait_for(selected, timeout=120), app.check_output("chronyc -n sources")


def test_the_time_server_serves_only_its_networks(lab_host):
    conf = lab_host(OUTSIDE).file("/etc/chrony/chrony.conf").content_string
    assert "allow 10.89.0.0/16" in conf and "local stratum 8" in conf
    assert "port 0" in lab_host(APP).file("/etc/chrony/chrony.conf").content_string


def test_unattended_security_upgrades_are_enabled(host):
    dump = host.check_output("apt-config dump")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump
    assert 'APT::Periodic::Update-Package-Lists "1";' in dump
    origins = [line for line in dump.splitlines() if line.startswith("Unattended-Upgrade::Origins-Pattern::")]
    assert origins and all("Debian-Security" in line for line in origins), origins
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in dump
    assert host.service("apt-daily-upgrade.timer").is_enabled
    assert host.package("unattended-upgrades").is_installed


NET = {
    "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv6.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0",
}
KERNEL_WIDE = ["kernel.kptr_restrict", "kernel.dmesg_restrict", "fs.protected_symlinks",
               "fs.protected_hardlinks", "fs.suid_dumpable"]


def test_network_parameters_apply_in_the_container(host):
    for key, value in NET.items():
        assert host.check_output(f"sysctl -n {key}") == value, key


def test_kernel_wide_parameters_are_written_not_applied_in_a_container(host):
    """Written for the next boot of a real host; the lab host's kernel (this
    machine's) keeps its own values."""
    text = host.file("/etc/sysctl.d/90-odoo-hipaa-baseline.conf").content_string
    for key in KERNEL_WIDE:
        assert f"{key} = " in text
        local = Path("/proc/sys", *key.split(".")).read_text().strip()
        assert host.check_output(f"sysctl -n {key}") == local, key


def test_core_dumps_are_off(host):
    assert host.check_output("systemctl show -p DefaultLimitCORE --value") == "0"
    limits = host.file("/etc/security/limits.d/90-odoo-hipaa-no-core.conf").content_string
    assert re.search(r"^\*\s+hard\s+core\s+0$", limits, re.M), limits
