"""Bad input is refused before any change, with a message that names the
variable and says what is allowed. The table runs as one playbook
(molecule/conftest.py, refused_batch) on baseline-d12 and baseline-d13; for
each case: refused with the message, no task reported a change, and the
role's files, the live ruleset, sshd's effective settings and the daemons'
processes are identical."""

import pytest

TARGET = "baseline-d12"
WATCHED_FILES = [
    "/etc/nftables.conf",
    "/etc/nftables.d/odoo-hipaa-baseline.nft",
    "/etc/ssh/sshd_config.d/00-odoo-hipaa-baseline.conf",
    "/etc/chrony/chrony.conf",
    "/etc/default/chrony",
    "/etc/fail2ban/jail.d/odoo-hipaa.local",
    "/etc/apt/apt.conf.d/52odoo-hipaa-unattended-upgrades",
    "/etc/sysctl.d/90-odoo-hipaa-baseline.conf",
    "/etc/aide/odoo-hipaa.conf",
]
WATCHED_COMMANDS = [
    "nft list table inet odoo_hipaa_baseline",
    "sshd -T",
    "systemctl show -p MainPID --value ssh chrony fail2ban",
    "getent group ssh-admins",
]

HOSTS = ["baseline-d12", "baseline-d13"]

# "what a careless sysadmin did": ({variable: value}, "expected message"[, hosts])
REFUSED = {
    # networks
    "an empty admin network list": ({"baseline_admin_networks": []}, "baseline_admin_networks is empty: SSH would be closed to everyone and every administrator locked out"),
    "an admin network that is a name": ({"baseline_admin_networks": ["any"]}, "baseline_admin_networks entry 'any' is not a network in CIDR form"),
    "admin networks as a string": ({"baseline_admin_networks": "10.89.0.0/16"}, "baseline_admin_networks must be a YAML list (e.g. [a, b]), got the string '10.89.0.0/16'"),
    "SSH open to the world": ({"baseline_admin_networks": ["0.0.0.0/0"]}, "baseline_admin_networks entry '0.0.0.0/0' is broader than /16 (IPv4)"),
    "SSH open to a public network": ({"baseline_admin_networks": ["192.0.2.0/24"]}, "baseline_admin_networks entry '192.0.2.0/24' is not a private network"),
    "an admin network with host bits": ({"baseline_admin_networks": ["10.89.0.7/16"]}, "baseline_admin_networks entry '10.89.0.7/16' has host bits set"),
    "a client network with an impossible octet": ({"baseline_client_networks": ["10.300.0.0/16"]}, "baseline_client_networks entry '10.300.0.0/16' is not a valid IPv4 or IPv6 network"),
    "an unknown port name": ({"baseline_open_ports": [{"name": "telnet", "sources": ["10.0.0.0/8"]}]}, "Unknown port name(s): telnet"),
    "a port without source networks": ({"baseline_open_ports": [{"name": "tang", "sources": []}]}, "baseline_open_ports entry 'tang' has no sources"),
    "an outbound rule to port zero": ({"baseline_outbound_allow": [{"to": "10.20.0.0/24", "port": 0}]}, "needs port 1-65535 and proto tcp or udp"),
    "an outbound rule over icmp": ({"baseline_outbound_allow": [{"to": "10.20.0.0/24", "port": 53, "proto": "icmp"}]}, "value of proto must be one of: tcp, udp, got: icmp"),
    # SSH (§164.312(d))
    "password authentication turned on": ({"baseline_ssh_password_authentication": True}, "baseline_ssh_password_authentication is true: this role allows SSH with keys only"),
    "no SSH group": ({"baseline_ssh_allow_groups": []}, "baseline_ssh_allow_groups is []; it must list one or more group names"),
    "an SSH group with a space": ({"baseline_ssh_allow_groups": ["ssh admins"]}, "baseline_ssh_allow_groups is ['ssh admins']"),
    "an SSH idle timeout of ten seconds": ({"baseline_ssh_idle_timeout": 10}, "baseline_ssh_idle_timeout is 10; it must be at least 60 (seconds)"),
    "zero SSH authentication tries": ({"baseline_ssh_max_auth_tries": 0}, "baseline_ssh_max_auth_tries is 0; it must be at least 1"),
    "a negative login grace time": ({"baseline_ssh_login_grace_time": -30}, "baseline_ssh_login_grace_time is -30; it must be at least 1"),
    "an SSH idle timeout in words": ({"baseline_ssh_idle_timeout": "ten minutes"}, "baseline_ssh_idle_timeout"),
    # time (§164.312(b): audit timestamps)
    "no time source": ({"baseline_ntp_servers": [], "baseline_ntp_local_stratum": 0}, "baseline_ntp_servers is empty: audit-log timestamps need a time source"),
    "a local stratum of 16": ({"baseline_ntp_local_stratum": 16}, "baseline_ntp_local_stratum is 16; it must be between 0 and 15"),
    # updates and integrity
    "a reboot time with a typo": ({"baseline_unattended_reboot_time": "3:30am"}, "baseline_unattended_reboot_time is '3:30am'; it must be a time of day HH:MM"),
    "an AIDE check time in English": ({"baseline_aide_check_time": "every night"}, "baseline_aide_check_time is 'every night': systemd does not read it as a calendar expression"),
    "an AIDE path that is relative": ({"baseline_aide_paths": ["etc"]}, "baseline_aide_paths is ['etc']; it must list one or more absolute paths"),
    "no AIDE path": ({"baseline_aide_paths": []}, "baseline_aide_paths is []"),
    "a firewall confirmation timeout of 5 s": ({"baseline_firewall_confirm_timeout": 5}, "baseline_firewall_confirm_timeout is 5; it must be at least 20 (seconds)"),
    "fail2ban maxretry of zero": ({"baseline_fail2ban_maxretry": 0}, "baseline_fail2ban_maxretry is 0; it must be at least 1"),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("baseline", REFUSED, HOSTS, WATCHED_FILES, WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)


def test_check_mode_on_the_converged_host_passes_and_changes_nothing(role_runner, lab_host, fingerprint):
    """--check with the converged input: no failure, no change reported or
    made, so the refusals above come from the bad input alone."""
    target = lab_host(TARGET)
    before = fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS)
    run = role_runner(TARGET, "baseline", {}, check=True)
    assert run.rc == 0 and run.changed(TARGET) == 0, run.output[-3000:]
    assert fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS) == before
