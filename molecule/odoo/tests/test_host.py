"""What holds on each Odoo host after the role: the user, odoo.conf, the
master password hash, the OCA addons, the sandboxed service on the loopback.
A real Odoo 18.0 on Debian 12 and Debian 13 (molecule.yml); what it does for
users through nginx is in test_safeguards.py."""

import re
import time

import pytest
from passlib.hash import pbkdf2_sha512

testinfra_hosts = ["odoo"]

LAB_PASSWORD = "lab-only-odoo-master-passw0rd"   # molecule.yml: odoo_lab_admin_password
CONF = "/etc/odoo/odoo.conf"
SERIES = {"12": "18.0", "13": "18.0"}
OCA = {
    "18.0": {"auditlog": "18.0.2.0.9.5", "password_security": "18.0.1.0.3"},
    "19.0": {"auditlog": "19.0.2.0.0", "password_security": "19.0.1.0.3"},
}


def conf_options(host):
    text = host.file(CONF).content_string
    return dict(re.findall(r"^(\w+) = (.*)$", text, re.M))


def series(host):
    return SERIES[host.system_info.release.split(".")[0]]


def get(host, port, path):
    """HTTP GET from inside the host (Odoo listens on the loopback only)."""
    return host.run(
        "python3 -c \"import urllib.request,sys; r=urllib.request.urlopen('http://127.0.0.1:%d%s', timeout=10);"
        " sys.stdout.write(str(r.status)+' '+r.read().decode())\"" % (port, path))


def wait_healthy(host, port=8069, tries=30):
    for _ in range(tries):
        probe = get(host, port, "/web/health")
        if probe.rc == 0:
            return probe
        time.sleep(2)
    return probe


def test_odoo_user_is_a_system_user_without_login(host):
    user = host.user("odoo")
    assert user.exists and user.group == "odoo"
    assert user.shell == "/usr/sbin/nologin"
    assert user.home == "/var/lib/odoo"
    assert user.uid < 1000
    data = host.file("/var/lib/odoo")
    assert data.is_directory and data.user == "odoo" and data.mode == 0o750


def test_conf_is_root_owned_readable_by_odoo_only(host):
    conf = host.file(CONF)
    assert conf.user == "root" and conf.group == "odoo" and conf.mode == 0o640
    assert host.file("/etc/odoo").mode == 0o750
    assert "Ansible managed" in conf.content_string and "§164.312(a)(1)" in conf.content_string


def test_conf_values(host):
    opts = conf_options(host)
    assert opts["list_db"] == "False"
    assert opts["dbfilter"] == "^odoo$"
    assert opts["proxy_mode"] == "True"
    assert opts["http_interface"] == "127.0.0.1"
    assert (opts["http_port"], opts["gevent_port"]) == ("8069", "8072")
    assert opts["db_host"] == "False" and opts["db_password"] == "False"   # unix socket, peer auth
    assert opts["data_dir"] == "/var/lib/odoo"
    assert opts["syslog"] == "False" and "logfile" not in opts   # stderr -> journal as "odoo"
    assert opts["server_wide_modules"].endswith(",odoo_hipaa_session_policy")
    if series(host) == "19.0":
        assert opts["with_demo"] == "False" and "without_demo" not in opts
    else:
        assert opts["without_demo"] == "all"
    assert int(opts["workers"]) >= 2
    assert int(opts["limit_memory_hard"]) > int(opts["limit_memory_soft"]) > 0


def test_master_password_is_a_strong_hash_of_the_vaulted_password(host):
    stored = conf_options(host)["admin_passwd"]
    assert stored.startswith("$pbkdf2-sha512$") and LAB_PASSWORD not in host.file(CONF).content_string
    assert int(stored.split("$")[2]) >= 600000
    assert pbkdf2_sha512.verify(LAB_PASSWORD, stored)
    assert not pbkdf2_sha512.verify("wrong-password", stored)


@pytest.mark.parametrize("addon", ["auditlog", "password_security"])
def test_oca_addons_at_the_pinned_versions(host, addon):
    pinned = OCA[series(host)][addon]
    link = host.file(f"/opt/odoo/addons-extra/{addon}")
    assert link.is_symlink and f"/{addon}-{pinned}/" in link.linked_to
    manifest = host.file(f"/opt/odoo/addons-extra/{addon}/__manifest__.py").content_string
    version = re.search(r"[\"']version[\"']\s*:\s*[\"']([^\"']+)", manifest).group(1)
    # The wheel version is the manifest version plus OCA's build number.
    assert pinned.startswith(version) and version.startswith(series(host))


def test_session_addon_installed_without_caches(host):
    files = host.check_output("find /opt/odoo/addons-hipaa -type f | sort").split()
    assert sorted(f.rsplit("/", 1)[1] for f in files) == [
        "__init__.py", "__manifest__.py", "controllers.py", "models.py", "session_policy.py"]


def test_listens_on_the_loopback_only(host):
    for port in (8069, 8072):
        assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
        assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening
        assert not host.socket(f"tcp://:::{port}").is_listening


def test_health_and_login_pages_answer(host):
    probe = wait_healthy(host)
    assert probe.rc == 0 and probe.stdout.startswith("200 ") and '"status": "pass"' in probe.stdout
    login = get(host, 8069, "/web/login")
    assert login.rc == 0 and login.stdout.startswith("200 ") and "<form" in login.stdout
    assert get(host, 8072, "/web/health").stdout.startswith("200 ")


def test_odoo_logs_reach_syslog_as_program_odoo(host):
    out = host.check_output("journalctl -t odoo --no-pager -o short")
    assert "HTTP service (werkzeug) running on 127.0.0.1:8069" in out


def test_service_is_sandboxed(host):
    out = host.check_output("systemd-analyze security --no-pager odoo.service")
    figure = float(re.search(r"Overall exposure level for odoo\.service: (\d+\.\d+)", out).group(1))
    print(f"{host.backend.get_hostname()}: systemd-analyze security odoo.service exposure {figure}")
    assert figure <= 2.5, out
    show = host.check_output(
        "systemctl show odoo.service -p User -p NoNewPrivileges -p ProtectSystem -p ReadWritePaths"
        " -p CapabilityBoundingSet -p MemoryMax -p PrivateTmp")
    assert "User=odoo" in show and "NoNewPrivileges=yes" in show and "ProtectSystem=strict" in show
    assert "ReadWritePaths=/var/lib/odoo" in show and "CapabilityBoundingSet=\n" in show + "\n"
    assert "MemoryMax=infinity" not in show


def test_sandbox_denies_writes_outside_the_data_dir(host):
    # The service's own process cannot write its configuration or code.
    pid = host.check_output("systemctl show -p MainPID --value odoo.service")
    root = host.check_output(f"nsenter -t {pid} -m -- sh -c 'touch /opt/odoo/x 2>&1; touch /etc/odoo/x 2>&1' || true")
    assert root.count("Read-only file system") == 2, root


def test_service_survives_a_restart(host):
    before = host.check_output("systemctl show -p MainPID --value odoo.service")
    host.check_output("systemctl restart odoo.service")
    probe = wait_healthy(host)
    assert probe.rc == 0 and probe.stdout.startswith("200 ")
    after = host.check_output("systemctl show -p MainPID --value odoo.service")
    assert after != before and host.service("odoo").is_enabled


def test_checker_refuses_an_unknown_option_and_leaves_the_live_file(host, fingerprint):
    before = fingerprint(host, [CONF], ["systemctl show -p MainPID --value odoo.service"])
    host.check_output(f"cp {CONF} /tmp/candidate.conf && echo 'bogus_option = 1' >> /tmp/candidate.conf")
    cmd = "/usr/local/sbin/odoo-hipaa-odoo-checkconf {} /usr/bin/python3 /opt/odoo/server/odoo-bin"
    bad = host.run(cmd.format("/tmp/candidate.conf"))
    assert bad.rc != 0 and "unknown to Odoo" in bad.stderr and "bogus_option" in bad.stderr, bad.stderr
    good = host.run(cmd.format(CONF))
    assert good.rc == 0, good.stderr
    assert fingerprint(host, [CONF], ["systemctl show -p MainPID --value odoo.service"]) == before
