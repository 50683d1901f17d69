"""Every source of an app host arrives on the aggregator under the app's host
name with a timestamp; rogue senders are refused; an outage loses nothing.
All checks read the aggregator's store, i.e. from outside the sender."""

import re
import time

import pytest
from ls_lab import AGG, APP, LINE_HEAD, STORE, TEST_DIR, marker, probe, stored_lines, wait_stored

testinfra_hosts = ["log_shipping_clients"]

SITE_CERT = "--tls --ca /etc/odoo-hipaa-log-shipping/tls/ca.crt " \
            "--cert /etc/odoo-hipaa-log-shipping/tls/host.crt --key /etc/odoo-hipaa-log-shipping/tls/host.key"
FOREIGN_CERT = f"--tls --ca {TEST_DIR}/site-ca.crt --cert {TEST_DIR}/foreign.crt --key {TEST_DIR}/foreign.key"

# source: (command on the app that logs the way the real program does, facility.severity, tag)
SOURCES = {
    "sshd (auth)": ("logger -p authpriv.info -t sshd 'Accepted publickey for admin from 10.0.0.9 port 50000 ssh2: {m}'",
                    "authpriv.info", "sshd"),
    "sudo": ("sudo -u nobody /bin/echo {m}", "authpriv.notice", "sudo"),
    "Odoo (syslog)": ("logger -p user.info -t odoo 'INFO odoo odoo.addons.base.models.res_users: "
                      "Login failed for db:odoo login:admin from 10.0.0.9 {m}'", "user.info", "odoo"),
    "PostgreSQL pgaudit": ("logger -p local0.info -t postgres '[2101-1] odoo@odoo LOG:  AUDIT: SESSION,1,1,DDL,"
                           "CREATE TABLE,TABLE,public.{m},create table {m} (id int),<not logged>'",
                           "local0.info", "postgres"),
    "backup failure alert": ("echo 'BACKUP JOB FAILED: odoo-hipaa-backup.service {m}' | systemd-cat -t odoo-hipaa-backup-alert -p err",
                             "user.err", "odoo-hipaa-backup-alert"),
    "restore drill result": ("echo 'restore drill passed: rows match, RTO 41 s {m}' | systemd-cat -t odoo-hipaa-restore-drill -p info",
                             "user.info", "odoo-hipaa-restore-drill"),
    "nginx JSON access log": ("echo '{{\"time\":\"2026-11-22T10:00:00+00:00\",\"client\":\"10.0.0.9\",\"method\":\"GET\","
                              "\"path\":\"/web/{m}\",\"status\":200}}' >> /var/log/nginx/odoo-access.json.log",
                              "local6.info", "nginx-access"),
    "nginx error log": ("echo '2026/11/22 10:00:00 [error] 812#812: *7 upstream timed out {m}' >> /var/log/nginx/error.log",
                        "local6.err", "nginx-error"),
    # Written the way auditd writes it: the kernel-audit path itself needs a VM (test_audit_watch_fires).
    "auditd log file": ("echo 'type=SYSCALL msg=audit(1763805600.123:4242): arch=c000003e syscall=257 success=yes "
                        "exit=3 auid=1000 uid=0 comm=\"vi\" exe=\"/usr/bin/vim.basic\" key=\"odoo-config\" {m}' "
                        ">> /var/log/audit/audit.log", "authpriv.info", "auditd"),
}


@pytest.fixture(scope="module")
def app(lab_host):
    return lab_host(APP)


@pytest.fixture(scope="module")
def agg(lab_host):
    return lab_host(AGG)


def assert_stored_line(line: str, facility_severity: str, tag: str) -> None:
    m = re.match(LINE_HEAD, line)
    assert m, f"no timestamp/host head: {line}"
    assert m["host"] == APP, line
    assert f"{m['facility']}.{m['severity']}" == facility_severity, line
    assert re.search(rf" {re.escape(tag)}(\[\d+\])?:? ", line), line


@pytest.mark.parametrize("source", list(SOURCES))
def test_source_arrives_under_the_app_name_with_a_timestamp(source, app, agg):
    command, facility_severity, tag = SOURCES[source]
    m = marker(source.split()[0].lower())
    app.check_output(command.format(m=m))
    lines = wait_stored(agg, m)
    assert lines, f"{source}: {m} never reached {AGG}:{STORE}/{APP}/"
    assert_stored_line(lines[0], facility_severity, tag)


def test_kernel_messages_arrive(app, agg):
    """The journal's kernel lines (_TRANSPORT=kernel, read from the kernel
    ring buffer by journald) are shipped with facility kern."""
    last = app.check_output("journalctl _TRANSPORT=kernel SYSLOG_IDENTIFIER=kernel -o cat -n 1 --no-pager")
    assert last, "the app's journal holds no kernel message"
    text = last.strip()[-50:]
    lines = wait_stored(agg, text)
    assert lines, f"kernel line {text!r} never reached the aggregator"
    assert any(re.match(LINE_HEAD + r"kernel", line) and f" {APP} " in line and " kern." in line for line in lines), lines


def test_journal_is_persistent_and_capped(app):
    conf = app.check_output("systemd-analyze cat-config systemd/journald.conf")
    settings = dict(re.findall(r"^(\w+)=(.*)$", conf, re.M))
    assert settings["Storage"] == "persistent"
    assert settings["SystemMaxUse"] == "2G"
    assert settings["ForwardToSyslog"] == "no"   # imjournal is the one input path
    assert app.run("ls /var/log/journal/*/system.journal").rc == 0


def test_plaintext_sender_is_refused(app, agg):
    m = marker("plaintext")
    result = probe(app, m)
    assert result["connected"], result           # the port is open...
    assert not (result["open"] or "").startswith("1 rsp 200"), result   # ...but RELP without TLS gets no session
    # A message from a good client sent afterwards arrives; the plaintext one never does.
    sentinel = marker("after-plaintext")
    good = probe(app, sentinel, SITE_CERT)
    assert good["tls"] and " rsp " in good["open"] and "200" in good["open"], good
    assert wait_stored(agg, sentinel, host_dir="*"), good
    assert stored_lines(agg, m) == []


def test_client_with_a_certificate_from_another_ca_is_refused(app, agg):
    m = marker("foreign-ca")
    result = probe(app, m, FOREIGN_CERT)
    assert result["connected"], result
    assert not (result["open"] and " rsp " in result["open"] and "200" in result["open"]), result
    # Control: the same client with the site's certificate is served.
    sentinel = marker("after-foreign")
    good = probe(app, sentinel, SITE_CERT)
    assert good["tls"] and "200" in (good["syslog"] or ""), good
    assert wait_stored(agg, sentinel, host_dir="*")
    assert stored_lines(agg, m) == []


def test_tls_below_1_2_is_refused(app):
    result = probe(app, marker("tls11"), SITE_CERT, "--max-tls", "1.1")
    assert result["connected"] and not result["tls"], result


def test_only_the_tls_listener_is_open(agg):
    listeners = agg.check_output("ss -Hltnu | awk '{print $1, $5}'")
    ports = {line.split()[1].rsplit(":", 1)[1] for line in listeners.splitlines()}
    assert "2514" in ports
    assert not ports & {"514", "10514", "6514", "20514"}, listeners


def test_the_store_is_root_owned_and_not_world_readable(agg):
    for path in (STORE, f"{STORE}/{APP}"):
        d = agg.file(path)
        assert (d.user, d.group, d.mode) == ("root", "adm", 0o750), path
    f = agg.file(f"{STORE}/{APP}/messages.log")
    assert (f.user, f.group, f.mode) == ("root", "adm", 0o640)


def wait_until(host, command: str, timeout: int = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.run(command).rc == 0:
            return True
        time.sleep(1)
    return False


def test_five_thousand_messages_survive_an_outage_and_a_client_restart(app, agg):
    """Aggregator stopped; 5,000 numbered messages logged on the app, with a
    restart of the app's rsyslog in the middle (the queue is saved to disk on
    shutdown and reloaded); aggregator started: all 5,000 arrive, none missing.

    The restart comes after the client has noticed the outage (its action is
    suspended): messages written into the connection as it breaks wait in
    librelp's unacknowledged window in memory; RELP resends them on reconnect,
    but a restart of the client before the aggregator is back drops them
    (they stay in the client's journal; see the role's README)."""
    run = marker("outage")
    since = app.check_output("date +%s")
    agg.check_output("systemctl stop rsyslog.service")
    try:
        # Canaries until the client's action is suspended: writes into the dead
        # connection succeed until RELP's window (128 unacknowledged frames) is full.
        assert wait_until(app, f"seq 1 50 | sed 's/^/RUN={run} canary /' | logger -t lsh-seq; sleep 1; "
                               f"journalctl -u rsyslog.service --since @{since} -o cat --no-pager "
                               "| grep -q \"action 'odoo_hipaa_to_aggregator' suspended\""), \
            "the app's rsyslog never noticed that the aggregator is down"
        app.check_output(f"seq 1 2500 | sed 's/^/RUN={run} SEQ=/' | logger -t lsh-seq")
        time.sleep(3)
        app.check_output("systemctl restart rsyslog.service")
        restarted = app.check_output(f"journalctl -u rsyslog.service --since @{since} -o cat --no-pager")
        assert "odoo_hipaa_to_aggregator queue[DA]: queue files exist on disk, re-starting with" in restarted
        app.check_output(f"seq 2501 5000 | sed 's/^/RUN={run} SEQ=/' | logger -t lsh-seq")
        time.sleep(3)
        assert stored_lines(agg, f"RUN={run} ") == []
    finally:
        agg.check_output("systemctl start rsyslog.service")
    deadline = time.monotonic() + 300
    seqs: list[int] = []
    while time.monotonic() < deadline:
        seqs = [int(s) for s in re.findall(rf"RUN={run} SEQ=(\d+)", "\n".join(stored_lines(agg, f"RUN={run} ", APP)))]
        if len(set(seqs)) >= 5000:
            break
        time.sleep(3)
    missing = sorted(set(range(1, 5001)) - set(seqs))
    duplicates = len(seqs) - len(set(seqs))
    print(f"outage test: {len(set(seqs))} distinct of 5000 arrived, {duplicates} duplicates")
    assert not missing, f"{len(missing)} missing, first: {missing[:20]}"
    assert set(seqs) == set(range(1, 5001))


def test_logrotate_waits_while_rsyslog_is_down(app, agg):
    """The gate: no rotation of shipped files while rsyslog is stopped. Its
    warning, logged while rsyslog was down, is shipped once rsyslog is back
    (the journal cursor picks up where it stopped)."""
    since = app.check_output("date +%s")
    app.check_output("systemctl stop rsyslog.service")
    try:
        app.run("systemctl start logrotate.service")
        log = app.check_output(f"journalctl -t odoo-hipaa-logrotate-gate --since @{since} -o cat --no-pager")
        assert "log rotation postponed: rsyslog.service is not running" in log
        assert app.run(f"journalctl -u logrotate.service --since @{since} -o cat --no-pager | grep -q 'Finished'").rc != 0
    finally:
        app.check_output("systemctl start rsyslog.service")
    lines = wait_stored(agg, "log rotation postponed")
    assert any(re.match(LINE_HEAD, line) and ".warning odoo-hipaa-logrotate-gate" in line for line in lines), lines


def test_a_file_rotated_by_renaming_is_shipped_to_its_end(app, agg):
    """logrotate renames nginx's log (no copytruncate): lines written just
    before the rename are still read from the renamed file, and the new file
    is followed."""
    run = marker("rename")
    app.check_output(f"seq 1 5000 | sed 's/^/RUN={run} SEQ=/' >> /var/log/nginx/error.log && "
                     "mv /var/log/nginx/error.log /var/log/nginx/error.log.1 && "
                     f"seq 5001 5100 | sed 's/^/RUN={run} SEQ=/' > /var/log/nginx/error.log")
    deadline = time.monotonic() + 180
    seqs: set[int] = set()
    while time.monotonic() < deadline and len(seqs) < 5100:
        seqs = {int(s) for s in re.findall(rf"RUN={run} SEQ=(\d+)", "\n".join(stored_lines(agg, f"RUN={run} ", APP)))}
        time.sleep(2)
    assert seqs == set(range(1, 5101)), f"{5100 - len(seqs)} lines missing"
