"""SSH from the admin station: a key of a member of AllowGroups works;
passwords, root and users outside the groups are refused; weak algorithms
are not offered. sshd -T shows the hardened settings on both releases."""

import pytest
from baseline_lab import KEY

testinfra_hosts = ["baseline"]

HARDENED = {
    "permitrootlogin": "no",
    "passwordauthentication": "no",
    "kbdinteractiveauthentication": "no",
    "pubkeyauthentication": "yes",
    "authenticationmethods": "publickey",
    "permitemptypasswords": "no",
    "allowgroups": "ssh-admins",
    "x11forwarding": "no",
    "allowtcpforwarding": "no",
    "allowagentforwarding": "no",
    "permittunnel": "no",
    "maxauthtries": "3",
    "logingracetime": "30",
    "clientaliveinterval": "300",
    "clientalivecountmax": "3",
    "channeltimeout": "session=900s",
    "unusedconnectiontimeout": "900",
    "loglevel": "VERBOSE",
    "ciphers": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,"
               "aes256-ctr,aes192-ctr,aes128-ctr",
    "macs": "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com",
}
KEX_FIRST = {"12": "sntrup761x25519-sha512@openssh.com", "13": "mlkem768x25519-sha256"}


def sshd_settings(host) -> dict[str, str]:
    out = host.check_output("sshd -T")
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_sshd_runs_with_the_hardened_settings(host):
    settings = sshd_settings(host)
    assert {k: settings.get(k) for k in HARDENED} == HARDENED
    kex = settings["kexalgorithms"].split(",")
    assert kex[0] == KEX_FIRST[host.system_info.release.split(".")[0]]
    assert not [k for k in kex if "sha1" in k or "nistp" in k]
    assert host.service("ssh").is_running and host.service("ssh").is_enabled


def test_key_login_of_an_admin_works(outside):
    r = outside.ssh("labadmin", "-i", KEY, "-o", "BatchMode=yes")
    assert r.rc == 0 and r.stdout.strip() == "labadmin", r.stderr


def test_password_login_is_refused(outside):
    """The right password, offered for real (sshpass): the server only accepts keys."""
    r = outside.ssh("labadmin", "-o", "PubkeyAuthentication=no",
                    "-o", "PreferredAuthentications=password,keyboard-interactive",
                    password="lab-only-passw0rd")
    assert r.rc != 0 and "Permission denied (publickey)" in r.stderr, r.stderr


@pytest.mark.parametrize("user", ["root", "labguest"])
def test_root_and_users_outside_allow_groups_are_refused_with_a_valid_key(outside, user):
    r = outside.ssh(user, "-i", KEY, "-o", "BatchMode=yes")
    assert r.rc != 0 and "Permission denied" in r.stderr, r.stdout + r.stderr


# (MACs are only negotiated with a non-AEAD cipher, hence aes256-ctr there.)
@pytest.mark.parametrize("options", [
    ["Ciphers=aes128-cbc"],
    ["Ciphers=aes256-ctr", "MACs=hmac-sha1"],
    ["KexAlgorithms=diffie-hellman-group14-sha1"],
    ["HostKeyAlgorithms=ecdsa-sha2-nistp256"],
])
def test_weak_algorithms_are_not_negotiated(outside, options):
    r = outside.ssh("labadmin", "-i", KEY, "-o", "BatchMode=yes", *[a for o in options for a in ("-o", o)])
    assert r.rc != 0 and "no matching" in r.stderr, r.stderr

