"""fail2ban: five failed Odoo logins from one address (as Odoo logs them:
stderr to the journal with the identifier odoo, see the odoo role) get that
address banned from nginx's ports; others keep access."""

from datetime import datetime, timezone

from baseline_lab import wait_for

testinfra_hosts = ["baseline"]

# Odoo's log format: time pid level db logger: message (res_users._login).
ODOO_LINE = "{now} 4242 INFO lab odoo.addons.base.models.res_users: Login failed for db:lab login:{login} from {address}"


def test_jails_run_for_sshd_and_odoo(host):
    assert host.service("fail2ban").is_running and host.service("fail2ban").is_enabled
    jails = host.check_output("fail2ban-client status")
    assert "odoo" in jails and "sshd" in jails


def banned(app) -> list[str]:
    out = app.check_output("fail2ban-client get odoo banip")
    return out.split()


def test_five_failed_odoo_logins_ban_the_address_from_the_web_ports(app, outside, lab_addresses):
    outsider, station = lab_addresses["outsider"], lab_addresses["admin_station"]
    decoy = "10.89.254.77"
    assert outside.probe(443, outsider) == "open"
    try:
        for n in range(5):
            # One login name tries to get another address banned: only the
            # last "from" (the real client address) counts.
            login = f"nurse{n}" if n else f"x from {decoy}"
            now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S,000")
            line = ODOO_LINE.format(now=now, login=login, address=outsider)
            app.check_output(f"logger -t odoo '{line}'")
        assert wait_for(lambda: outsider in banned(app), timeout=90), app.check_output("fail2ban-client status odoo")
        assert decoy not in banned(app)
        for port in (443, 80):
            assert outside.probe(port, outsider) != "open", port
            assert outside.probe(port, station) == "open", port
        # Only nginx's ports: the address keeps the port it was given for logs.
        assert outside.probe(6514, outsider) == "open"
        rules = app.check_output("nft list table inet f2b-table")
        assert outsider in rules and "443" in rules
    finally:
        app.run(f"fail2ban-client set odoo unbanip {outsider}")
    assert wait_for(lambda: outside.probe(443, outsider) == "open", timeout=30)
