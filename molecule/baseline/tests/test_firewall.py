"""nftables from outside: only the declared ports answer, each only from its
own networks; the ruleset is checked before loading, loaded at boot, and a
ruleset that cuts the admin off is rolled back by itself."""

import re

import pytest
from baseline_lab import wait_for

TABLE = "nft list table inet odoo_hipaa_baseline"
HELPER = "/usr/local/sbin/odoo-hipaa-nft-apply"
# A ruleset that passes nft -c but forgets SSH: new connections all dropped.
LOCKOUT = [
    "table inet odoo_hipaa_baseline {}",
    "delete table inet odoo_hipaa_baseline",
    "table inet odoo_hipaa_baseline {",
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    "    ct state established,related accept",
    "  }",
    "}",
]

# (port, from, expected): 80/443 to the client networks (the lab is in 10/8),
# SSH only from the admin station, syslog_tls only from the outsider, 8080 has
# a listener but is not declared.
EXPECTED = [
    (443, "admin_station", "open"), (443, "outsider", "open"),
    (80, "admin_station", "open"), (80, "outsider", "open"),
    (22, "admin_station", "open"), (22, "outsider", "filtered"),
    (6514, "outsider", "open"), (6514, "admin_station", "filtered"),
    (8080, "admin_station", "filtered"), (8080, "outsider", "filtered"),
]


@pytest.mark.parametrize("port,source,expected", EXPECTED)
def test_only_declared_ports_answer_from_their_networks(outside, lab_addresses, port, source, expected):
    assert outside.probe(port, lab_addresses[source]) == expected


@pytest.mark.parametrize("port", [80, 443, 6514, 8080])
def test_every_probed_port_has_a_listener(app, port):
    """So 'filtered' above is the firewall's doing, not an empty port."""
    assert app.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_ruleset_is_loaded_at_boot_and_checks(app):
    conf = app.file("/etc/nftables.conf").content_string
    assert 'include "/etc/nftables.d/odoo-hipaa-baseline.nft"' in conf
    assert app.service("nftables").is_enabled
    assert app.run("nft -c -f /etc/nftables.conf").rc == 0
    rules = app.check_output(TABLE)
    assert "policy drop" in rules and 'comment "ssh"' in rules


def test_vrrp_is_admitted_from_the_declared_peers_only(app, lab_addresses):
    """baseline_vrrp_peers: IP protocol 112 (keepalived, role entry_vip) from the outsider alone."""
    vrrp = [line.strip() for line in app.check_output(TABLE).splitlines() if 'comment "vrrp"' in line]
    assert len(vrrp) == 1 and lab_addresses["outsider"] in vrrp[0], vrrp
    assert re.search(r"ip protocol (vrrp|112) accept", vrrp[0]), vrrp


def test_a_ruleset_that_locks_the_admin_out_is_rolled_back(app, outside, lab_addresses):
    """The loader arms a timer before loading; nobody confirms, so the
    previous table comes back by itself and SSH answers again."""
    before = app.check_output(TABLE)
    app.check_output("printf '%s\\n' " + " ".join(f"'{line}'" for line in LOCKOUT) + " > /tmp/lockout.nft")
    app.check_output(f"{HELPER} apply /tmp/lockout.nft 10s")
    assert outside.probe(22, lab_addresses["admin_station"]) == "filtered"
    assert wait_for(lambda: outside.probe(22, lab_addresses["admin_station"]) == "open", timeout=90)
    assert app.check_output(TABLE) == before
    log = app.check_output("journalctl -t odoo-hipaa-nft --no-pager")
    assert "previous table restored" in log


def test_a_ruleset_that_fails_nft_check_is_never_loaded(app):
    before = app.check_output(TABLE)
    app.check_output("printf 'table inet odoo_hipaa_baseline {\\n  chain input { policy maybe; }\\n}\\n' > /tmp/broken.nft")
    r = app.run(f"{HELPER} apply /tmp/broken.nft 10s")
    assert r.rc != 0 and "Error" in r.stderr, r.stderr
    assert app.run("systemctl is-active odoo-hipaa-nft-rollback.timer").stdout.strip() != "active"
    assert app.check_output(TABLE) == before


def test_a_confirmed_ruleset_stays(app):
    before = app.check_output(TABLE)
    app.check_output(f"{HELPER} apply /etc/nftables.d/odoo-hipaa-baseline.nft 30s")
    assert app.run("systemctl is-active odoo-hipaa-nft-rollback.timer").stdout.strip() == "active"
    app.check_output(f"{HELPER} confirm")
    assert app.run("systemctl is-active odoo-hipaa-nft-rollback.timer").stdout.strip() != "active"
    assert app.check_output(TABLE) == before
