"""Bad input is refused before any change, with a message that says what is
allowed. Each case runs the role again on baseline-d12 with one bad input and
checks: the run fails, the message names the problem, nothing changed on the
host (recap changed=0; the role's files, the live ruleset, sshd's effective
settings and the daemons' processes are identical)."""

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

REFUSED = {
    "an empty admin network list": (
        {"baseline_admin_networks": []},
        "baseline_admin_networks is empty: SSH would be closed to everyone and every administrator locked out",
    ),
    "password authentication turned on": (
        {"baseline_ssh_password_authentication": True},
        "baseline_ssh_password_authentication is true: this role allows SSH with keys only",
    ),
    "an unknown port name": (
        {"baseline_open_ports": [{"name": "telnet", "sources": ["10.0.0.0/8"]}]},
        "Unknown port name(s): telnet",
    ),
    "an admin network that is a name": (
        {"baseline_admin_networks": ["any"]},
        "baseline_admin_networks entry 'any' is not a network in CIDR form",
    ),
    "a port without source networks": (
        {"baseline_open_ports": [{"name": "tang", "sources": []}]},
        "baseline_open_ports entry 'tang' has no sources",
    ),
    "no time source": (
        {"baseline_ntp_servers": []},
        "baseline_ntp_servers is empty: audit-log timestamps need a time source",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, assert_refused):
    extra_vars, message = REFUSED[case]
    assert_refused(TARGET, "baseline", extra_vars, message, WATCHED_FILES, WATCHED_COMMANDS)


def test_check_mode_on_the_converged_host_passes_and_changes_nothing(role_runner, lab_host, fingerprint):
    """--check with the converged input: no failure, no change reported or
    made, so the refusals above come from the bad input alone."""
    target = lab_host(TARGET)
    before = fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS)
    run = role_runner(TARGET, "baseline", {}, check=True)
    assert run.rc == 0 and run.changed(TARGET) == 0, run.output[-3000:]
    assert fingerprint(target, WATCHED_FILES, WATCHED_COMMANDS) == before
