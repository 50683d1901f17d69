"""AIDE: the baseline is clean after converge on both releases; a modified
watched file is reported by the daily check, in the journal/syslog."""

from baseline_lab import APP

testinfra_hosts = ["baseline"]

CONF = "/etc/aide/odoo-hipaa.conf"
CHECK = f"aide --check --config {CONF}"


def test_baseline_is_clean_after_converge(host):
    r = host.run(CHECK)
    assert r.rc == 0 and "found NO differences" in r.stdout, r.stdout[-3000:]


def test_the_scope_is_binaries_and_configuration(host):
    conf = host.file(CONF).content_string
    for path in ("/etc", "/usr/bin", "/usr/sbin", "/usr/lib", "/boot"):
        assert f"\n{path} OdooHipaa" in conf
    assert "\n/var" not in conf and "\n/home" not in conf and "\n/srv" not in conf


def test_a_changed_file_is_reported_to_syslog(lab_host):
    app = lab_host(APP)
    assert app.service("odoo-hipaa-aide-check.timer").is_enabled
    app.check_output("echo 'tampered by the test' >> /etc/issue.net")
    try:
        r = app.run("systemctl start odoo-hipaa-aide-check.service")
        assert r.rc != 0   # changes found: the unit fails, which monitoring sees
        log = app.check_output("journalctl -t aide --no-pager -n 200")
        assert "/etc/issue.net" in log and "Changed entries" in log, log[-3000:]
    finally:
        # Restore the file's content and accept the state into the baseline.
        app.run("sed -i '/tampered by the test/d' /etc/issue.net")
        app.run(f"aide --update --config {CONF} >/dev/null; mv /var/lib/aide/odoo-hipaa.db.new /var/lib/aide/odoo-hipaa.db")
        app.run("systemctl reset-failed odoo-hipaa-aide-check.service")
    assert app.run(CHECK).rc == 0
