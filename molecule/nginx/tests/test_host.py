"""What holds on each nginx host itself: Debian's package, the listening
sockets, the files the role installs, the checker that guards every change."""

import pytest
from nginx_lab import TLS_SOURCE

testinfra_hosts = ["nginx"]

VERSION = {"12": "1.22.", "13": "1.26."}


def test_debian_nginx_of_this_release_runs(host):
    pkg = host.package("nginx")
    assert pkg.is_installed
    assert pkg.version.startswith(VERSION[host.system_info.release.split(".")[0]])
    svc = host.service("nginx")
    assert svc.is_running and svc.is_enabled


def test_only_nginx_listens_publicly(host):
    for port in (80, 443):
        assert host.socket(f"tcp://0.0.0.0:{port}").is_listening
    for port in (8069, 8072):
        assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
        assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


@pytest.mark.parametrize("port", [8069, 8072])
def test_odoo_ports_are_refused_from_another_host(client, port):
    probe = client.host.run(
        "python3 -c \"import socket; socket.create_connection(('%s', %d), 5)\"" % (client.server, port)
    )
    assert probe.rc != 0 and "ConnectionRefusedError" in probe.stderr, probe.stderr


# nginx_tls_source files: the installed files; acme: the bootstrap certificate
# and certbot's archive of issued keys.
TLS_FILES = {
    "files": [("/etc/nginx/tls", 0o700), ("/etc/nginx/tls/odoo-hipaa.key", 0o600),
              ("/etc/nginx/tls/odoo-hipaa.crt", 0o644)],
    "acme": [("/etc/nginx/tls", 0o700), ("/etc/nginx/tls/odoo-hipaa-bootstrap.key", 0o600),
             ("/etc/letsencrypt/archive", 0o700), ("/etc/letsencrypt/accounts", 0o700)],
}


@pytest.mark.parametrize("source,path,mode", [(s, p, m) for s, files in TLS_FILES.items() for p, m in files])
def test_tls_files_are_root_only(host, source, path, mode):
    if TLS_SOURCE[host.backend.get_hostname()] != source:
        pytest.skip(f"nginx_tls_source {source} only")
    f = host.file(path)
    assert f.exists and f.user == "root" and f.group == "root" and f.mode == mode


def test_debian_default_site_is_disabled(host):
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_configuration_is_managed_and_cites_the_control(host):
    for path in ("/etc/nginx/nginx.conf", "/etc/nginx/conf.d/odoo-hipaa.conf"):
        text = host.file(path).content_string
        assert "Ansible managed" in text and "§164.312(e)(1)" in text, path
    dump = host.check_output("nginx -T 2>/dev/null")
    assert "server_tokens off;" in dump
    assert "ssl_session_tickets off;" in dump
    assert "proxy_read_timeout 720s;" in dump


def test_checker_refuses_a_broken_candidate_and_changes_nothing(host, fingerprint):
    site = "/etc/nginx/conf.d/odoo-hipaa.conf"
    watched = [site, "/etc/nginx/nginx.conf"]
    before = fingerprint(host, watched, ["nginx -T 2>/dev/null", "ps -o pid= --ppid $(cat /run/nginx.pid) | sort"])
    host.check_output(f"cp {site} /tmp/candidate.conf && echo 'this_is_not_a_directive on;' >> /tmp/candidate.conf")
    bad = host.run(f"/usr/local/sbin/odoo-hipaa-nginx-checkconf {site} /tmp/candidate.conf")
    assert bad.rc != 0 and "unknown directive" in bad.stderr, bad.stderr
    good = host.run(f"/usr/local/sbin/odoo-hipaa-nginx-checkconf {site} {site}")
    assert good.rc == 0, good.stderr
    assert fingerprint(host, watched, ["nginx -T 2>/dev/null", "ps -o pid= --ppid $(cat /run/nginx.pid) | sort"]) == before
