"""The aggregator keeps the logs six years (renamed daily, then sealed),
writes an alert line when its disk fills, and auditd's rules are in place on
both hosts (loaded only where the kernel allows it: not in a container)."""

import json
import re
import time

import pytest
from ls_lab import AGG, APP, LINE_HEAD, STORE, marker, wait_stored

testinfra_hosts = ["log_aggregator"]

LOGROTATE = "/etc/logrotate.d/odoo-hipaa-log-aggregator"


def test_retention_is_six_years_in_the_seal_and_logrotate_removes_nothing(host):
    """As logrotate itself reads the configuration: it renames daily and never
    removes or compresses (sealed files are immutable); the seal's
    configuration holds the six years."""
    out = host.run(f"logrotate -d {LOGROTATE}")
    assert out.rc == 0, out.stderr
    assert f"rotating pattern: {STORE}/*/*.log after 1 days" in out.stderr
    assert "old logs are removed" not in out.stderr and "compress" not in out.stderr.replace("nocompress", "")
    conf = host.file(LOGROTATE).content_string
    assert re.search(r"^\s+rotate -1$", conf, re.M) and re.search(r"^\s+create 0640 root adm$", conf, re.M)
    assert not re.search(r"^\s+(maxage|compress)\b", conf, re.M)
    seal = json.loads(host.file("/etc/odoo-hipaa-log-seal/seal.json").content_string)
    assert seal["retention_days"] == 2190 and seal["stores"] == [STORE]


def test_rotation_keeps_files_private_and_loses_nothing(host, lab_host):
    """A forced rotation: the file is renamed (with the time, so a second
    rotation the same day gets its own name), rsyslog reopens, and the next
    message lands in a new private file."""
    first = marker("before-rotation")     # notifempty: an empty file is not rotated
    lab_host(APP).check_output(f"logger -t lshtest {first}")
    assert wait_stored(host, first)
    before = set(host.run(f"ls {STORE}/{APP}/").stdout.split())
    host.check_output(f"logrotate -f {LOGROTATE}")
    renamed = [f for f in host.run(f"ls {STORE}/{APP}/").stdout.split() if f not in before]
    assert len(renamed) == 1 and re.match(r"^messages\.log-\d{8}-\d+$", renamed[0]), renamed
    f = host.file(f"{STORE}/{APP}/{renamed[0]}")
    assert (f.user, f.group, f.mode) == ("root", "adm", 0o640)
    m = marker("after-rotation")
    lab_host(APP).check_output(f"logger -t lshtest {m}")
    assert wait_stored(host, m)
    assert m in host.file(f"{STORE}/{APP}/messages.log").content_string
    new = host.file(f"{STORE}/{APP}/messages.log")
    assert (new.user, new.group, new.mode) == ("root", "adm", 0o640)


def test_disk_use_alert_line(host):
    """Above the threshold the check logs an error line, which the aggregator
    keeps with its own logs; the timer runs it hourly."""
    assert host.service("odoo-hipaa-log-disk-check.timer").is_enabled
    assert host.run("systemctl is-active odoo-hipaa-log-disk-check.timer").stdout.strip() == "active"
    unit = host.check_output("systemctl cat odoo-hipaa-log-disk-check.service")
    assert f"ExecStart=/usr/local/sbin/odoo-hipaa-log-disk-check {STORE} 80" in unit
    run = host.run(f"/usr/local/sbin/odoo-hipaa-log-disk-check {STORE} 1")
    assert run.rc == 1
    lines = wait_stored(host, "LOG STORAGE ABOVE THRESHOLD", host_dir=AGG)
    assert any(re.match(LINE_HEAD, line) and f" {AGG} " in line and "user.err odoo-hipaa-log-disk" in line for line in lines), lines
    assert host.run(f"/usr/local/sbin/odoo-hipaa-log-disk-check {STORE} 99").rc == 0


@pytest.mark.parametrize("name", [AGG, APP])
def test_audit_rules_are_merged(lab_host, name):
    """The role's rules file is merged by augenrules into /etc/audit/audit.rules."""
    h = lab_host(name)
    rules_file = h.file("/etc/audit/rules.d/50-odoo-hipaa.rules")
    assert (rules_file.user, rules_file.mode) == ("root", 0o640)
    rules = h.file("/etc/audit/audit.rules").content_string
    for rule in (
        "-w /etc/odoo/odoo.conf -p r -k odoo-config-read",
        "-w /etc/odoo/ -p wa -k odoo-config",
        "-w /etc/nginx/ -p wa -k nginx-config",
        "-w /etc/postgresql/ -p wa -k postgresql-config",
        "-w /etc/ssh/ -p wa -k ssh-config",
        "-w /etc/crypttab -p wa -k crypttab",
        "-w /etc/shadow -p wa -k identity",
        "-w /etc/sudoers.d/ -p wa -k sudoers",
        "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change",
        "-a always,exit -F arch=b64 -S mount,umount2 -k mounts",
        "-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=unset -k privileged",
    ):
        assert rule in rules, rule
    assert rules.count("-k odoo-config\n") == 1   # no duplicate watch
    assert "-e 2" not in rules                    # log_shipping_audit_immutable is off by default


def test_audit_watch_fires_and_reaches_the_aggregator(host, lab_host):
    """Needs a kernel that takes audit rules: in a container the kernel
    refuses audit from a non-initial PID namespace, so this runs in the VM lab."""
    app = lab_host(APP)
    if app.run("auditctl -s").rc != 0:
        pytest.skip("kernel audit unavailable in this container (Operation not permitted); covered in the VM lab")
    m = marker("audit-watch")
    app.check_output(f"mkdir -p /etc/odoo && echo '# {m}' >> /etc/odoo/lshtest.conf")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        out = host.run(f"zcat -f {STORE}/{APP}/messages.log* | grep -F 'key=\"odoo-config\"' | grep -F lshtest.conf")
        if out.stdout:
            break
        time.sleep(2)
    assert out.stdout, "no odoo-config audit event for /etc/odoo/lshtest.conf on the aggregator"
