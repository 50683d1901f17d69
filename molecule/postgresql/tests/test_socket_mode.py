"""Default mode: the unix socket only (pg-socket-* hosts)."""

import pytest

testinfra_hosts = ["postgresql_socket"]


def test_nothing_listens_on_tcp(host):
    assert host.check_output("runuser -u postgres -- psql -XAtc 'SHOW listen_addresses'") == ""
    assert not host.socket("tcp://0.0.0.0:5432").is_listening
    assert not host.socket("tcp://:::5432").is_listening


def test_tcp_5432_is_refused_from_another_host(host, lab_host):
    # Connect from a TLS host on the same lab network.
    other = lab_host("pg-tls-d12")
    target = host.backend.get_hostname()
    probe = other.run(
        "python3 -c \"import socket; socket.create_connection(('%s', 5432), 5)\"" % target
    )
    assert probe.rc != 0 and "ConnectionRefusedError" in probe.stderr, probe.stderr


def test_odoo_os_user_connects_over_the_socket(host):
    assert host.check_output("runuser -u odoo -- psql -XAt -d odoo -c 'SELECT current_user'") == "odoo"


@pytest.mark.parametrize("role", ["odoo", "intruder", "postgres"])
def test_another_os_user_is_refused(host, role):
    r = host.run(f"runuser -u intruder -- psql -XAt -d odoo -U {role} -c 'SELECT 1'")
    assert r.rc != 0
    assert "authentication failed" in r.stderr or "pg_hba.conf rejects" in r.stderr, r.stderr


def test_root_cannot_log_in_as_odoo_either(host):
    r = host.run("psql -XAt -d odoo -U odoo -c 'SELECT 1'")
    assert r.rc != 0 and "Peer authentication failed" in r.stderr, r.stderr


def test_ssl_is_off_without_tcp(host):
    assert host.check_output("runuser -u postgres -- psql -XAtc 'SHOW ssl'") == "off"


def test_cluster_on_its_data_mount(lab_host):
    """pg-socket-d13 has postgresql_data_dir on a separate mount (the LUKS
    volume's stand-in): the cluster runs from there and its service requires it."""
    host = lab_host("pg-socket-d13")
    assert host.check_output("runuser -u postgres -- psql -XAtc 'SHOW data_directory'") == "/srv/pgdata/17/main"
    assert host.check_output("findmnt -no FSTYPE --target /srv/pgdata/17/main") == "tmpfs"
    dropin = host.file("/etc/systemd/system/postgresql@17-main.service.d/odoo-hipaa-mounts.conf")
    assert "RequiresMountsFor=/srv/pgdata /srv/pgdata/17/main" in dropin.content_string
    assert "/srv/pgdata" in host.check_output("systemctl show -p RequiresMountsFor postgresql@17-main")


def test_odoo_reaches_the_maintenance_database_but_cannot_create_there(host):
    """Odoo 18's cron worker and bus LISTEN on the database postgres."""
    assert host.check_output("runuser -u odoo -- psql -XAt -d postgres -c 'SELECT current_user'") == "odoo"
    r = host.run("runuser -u odoo -- psql -XAt -d postgres -c 'CREATE TABLE odoo_was_here (id int)'")
    assert r.rc != 0 and "permission denied" in r.stderr, r.stderr
