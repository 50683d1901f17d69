"""The aggregator seals what it has closed (§164.312(b), §164.312(c)(1)): a
renamed log is compressed, made immutable and its hash chained into a signed
manifest; root's edits, deletions, a rewritten manifest and a history that no
longer holds an anchor are each named by the verify; retention expires files
inside the chain. Real chattr, ssh-keygen and systemd units on Debian 13."""

import json
import re
import shlex

import pytest
from ls_lab import APP, LINE_HEAD, STORE, marker, wait_stored

testinfra_hosts = ["log_aggregator"]

TOOL = "/usr/local/sbin/odoo-hipaa-log-seal"
CONF = "/etc/odoo-hipaa-log-seal/seal.json"
STATE = "/var/lib/odoo-hipaa-log-seal"
LOGROTATE = "/etc/logrotate.d/odoo-hipaa-log-aggregator"


def verify(host, *args):
    out = host.run(f"{TOOL} verify --config {CONF} {' '.join(args)}")
    return out.rc, json.loads(out.stdout)


@pytest.fixture(scope="module")
def sealed(host, lab_host):
    """A message from the app host, rotated, left quiet, then sealed by the
    real service: returns (marker, the archive's path)."""
    m = marker("sealed")
    lab_host(APP).check_output(f"logger -t lshtest {m}")
    assert wait_stored(host, m)
    host.check_output(f"logrotate -f {LOGROTATE}")
    renamed = host.check_output(f"grep -l -F -- {m} {STORE}/{APP}/messages.log-* | grep -v gz$")
    # Quiet for the seal: unchanged for longer than its 10 minutes.
    host.check_output(f"touch -d '-20 minutes' {renamed}")
    host.check_output("systemctl start odoo-hipaa-log-seal.service")
    return m, renamed + ".gz"


def test_the_key_stays_private_and_the_timers_run(host):
    key = host.file("/etc/odoo-hipaa-log-seal/seal_ed25519")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o400)
    assert host.file("/etc/odoo-hipaa-log-seal").mode == 0o700
    assert host.file("/etc/odoo-hipaa-log-seal/seal_ed25519.pub").content_string.startswith("ssh-ed25519 ")
    for unit in ("odoo-hipaa-log-seal.timer", "odoo-hipaa-log-seal-verify.timer"):
        assert host.service(unit).is_enabled
        assert host.run(f"systemctl is-active {unit}").stdout.strip() == "active"
    assert "OnCalendar=*-*-* 02:30:00" in host.check_output("systemctl cat odoo-hipaa-log-seal.timer")
    # The first run sealed what was stored (genesis) and verified it in full.
    assert host.file(f"{STATE}/manifests/000001.manifest").exists
    full = json.loads(host.file(f"{STATE}/last-full-verify.json").content_string)
    assert full["ok"] and full["full"], full


def test_a_rotated_file_is_compressed_sealed_and_immutable(host, sealed):
    m, gz = sealed
    assert not host.file(gz[:-3]).exists
    assert m in host.check_output(f"zcat {gz}")
    f = host.file(gz)
    assert (f.user, f.group, f.mode) == ("root", "adm", 0o640)
    assert "i" in host.check_output(f"lsattr {gz}").split()[0]
    # Root itself cannot append, rewrite or remove it while it is immutable.
    assert host.run(f"echo forged >> {gz}").rc != 0
    assert host.run(f"rm -f {gz}").rc != 0
    assert host.run(f"mv {gz} {gz}.x").rc != 0
    rc, out = verify(host)
    assert rc == 0 and out["ok"], out["problems"]
    latest = host.check_output(f"ls {STATE}/manifests | grep -v sig$ | tail -1")
    manifest = host.file(f"{STATE}/manifests/{latest}").content_string
    assert re.search(rf"^file {re.escape(gz)} size \d+ sha256 [0-9a-f]{{64}}$", manifest, re.M)
    assert "i" in host.check_output(f"lsattr {STATE}/manifests/{latest}").split()[0]
    # The run's line reached the aggregator's own log, as any other line.
    lines = wait_stored(host, "LOG SEAL", host_dir=host.check_output("hostname"))
    assert any(re.match(LINE_HEAD, line) and '"result": "sealed"' in line for line in lines), lines[-3:]


def _while_unsealed(host, path, change, expect):
    """Lift +i as root could, change the file, verify, and put it back."""
    host.check_output(f"cp -a {path} /root/seal-backup && chattr -i {path}")
    try:
        host.check_output(change)
        rc, out = verify(host)
        assert rc == 1 and not out["ok"]
        assert any(expect in p for p in out["problems"]), out["problems"]
    finally:
        host.run(f"chattr -i {path}; cp -a /root/seal-backup {path} && chattr +i {path}; rm -f /root/seal-backup")
    rc, out = verify(host)
    assert rc == 0, out["problems"]


def test_an_edited_line_in_a_sealed_archive_is_named(host, sealed):
    m, gz = sealed
    edit = f"zcat {gz} | sed 's/{m}/innocent/' | gzip -n > /root/edited.gz && cat /root/edited.gz > {gz}"
    _while_unsealed(host, gz, edit, gz)


def test_a_deleted_archive_is_named(host, sealed):
    _m, gz = sealed
    _while_unsealed(host, gz, f"rm -f {gz}", f"{gz} is sealed but missing")


def test_a_rewritten_manifest_fails_its_signature(host, sealed):
    _m, gz = sealed
    latest = host.check_output(f"ls {STATE}/manifests | grep -v sig$ | tail -1")
    path = f"{STATE}/manifests/{latest}"
    edit = f"sed -i 's/^file /file /; $a expire {gz} sha256 {'0' * 64}' {path}"
    _while_unsealed(host, path, edit, "signature does not verify")


def test_a_history_without_the_anchor_is_named(host, sealed):
    rc, out = verify(host)
    assert rc == 0
    rc, good = verify(host, "--anchor", out["head"])
    assert rc == 0 and good["anchors"] == 1
    rc, bad = verify(host, "--anchor", "sha256:" + "0" * 64)
    assert rc == 1 and any("is not in the chain" in p for p in bad["problems"])


def test_the_full_verify_unit_hashes_everything(host, sealed):
    host.check_output("systemctl start odoo-hipaa-log-seal-verify.service")
    full = json.loads(host.file(f"{STATE}/last-full-verify.json").content_string)
    assert full["ok"] and full["full"] and full["hashed"] == full["files"] >= 1


def test_retention_expires_inside_a_chain_that_still_verifies(host):
    """On a scratch store with the host's key and real chattr: a file sealed
    now is expired by a run dated six years and a day later."""
    scratch = "/root/seal-scratch"
    host.run(f"chattr -R -i {scratch} 2>/dev/null; rm -rf {scratch}")
    conf = json.loads(host.file(CONF).content_string)
    conf.update(stores=[f"{scratch}/store"], state_dir=f"{scratch}/state")
    host.check_output(f"mkdir -p {scratch}/store/h && echo {shlex.quote(json.dumps(conf))} > {scratch}/seal.json")
    host.check_output(f"echo line > {scratch}/store/h/messages.log-20261201-1 && touch -d '-1 hour' {scratch}/store/h/*")
    try:
        host.check_output(f"{TOOL} seal --config {scratch}/seal.json")
        later = "2033-01-01T00:00:00Z"
        out = host.check_output(f"{TOOL} seal --config {scratch}/seal.json --now {later}")
        assert '"expired": 1' in out
        assert not host.file(f"{scratch}/store/h/messages.log-20261201-1.gz").exists
        assert f"expire {scratch}/store/h/messages.log-20261201-1.gz sha256 " in \
            host.file(f"{scratch}/state/manifests/000002.manifest").content_string
        rc = host.run(f"{TOOL} verify --config {scratch}/seal.json --now {later}").rc
        assert rc == 0
    finally:
        host.run(f"chattr -R -i {scratch}; rm -rf {scratch}")


def test_the_seal_service_is_sandboxed(host, sandbox_exposure):
    for unit in ("odoo-hipaa-log-seal.service", "odoo-hipaa-log-seal-verify.service"):
        figure, limit = sandbox_exposure(host, unit)
        print(f"systemd-analyze security {unit} exposure {figure} (limit {limit})")
        assert figure <= limit
    caps = host.check_output("systemctl show -p CapabilityBoundingSet --value odoo-hipaa-log-seal.service").split()
    assert sorted(caps) == ["cap_chown", "cap_linux_immutable"]
