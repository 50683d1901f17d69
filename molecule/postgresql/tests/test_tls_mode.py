"""TCP mode for a database on its own host (pg-tls-*): TLS >= 1.2, hostssl
only, client certificates. Every connection is made from another lab host
(a socket host holding the lab client certificates)."""

import pytest

testinfra_hosts = ["postgresql_tls"]

PASSWORD = "lab-only-Odoo-db-passw0rd"
CLIENT = "pg-socket-d12"


def conninfo(server, **extra):
    opts = {
        "host": server, "port": "5432", "dbname": "odoo", "user": "odoo",
        "sslmode": "verify-full", "sslrootcert": "/root/pgclient/ca.crt",
        "sslcert": "/root/pgclient/odoo-client.crt", "sslkey": "/root/pgclient/odoo-client.key",
        "connect_timeout": "10",
    }
    opts.update(extra)
    return " ".join(f"{k}={v}" for k, v in opts.items() if v is not None)


def psql_from_client(lab_host, server, sql, **extra):
    client = lab_host(CLIENT)
    return client.run(f"PGPASSWORD={PASSWORD} psql -XAt {conninfo(server, **extra)!r} -c {sql!r}")


def test_listens_on_tcp_with_ssl(host):
    assert host.socket("tcp://0.0.0.0:5432").is_listening
    assert host.check_output("runuser -u postgres -- psql -XAtc 'SHOW ssl'") == "on"
    assert host.check_output("runuser -u postgres -- psql -XAtc 'SHOW ssl_min_protocol_version'") == "TLSv1.2"


def test_pg_hba_allows_tcp_only_with_ssl(host):
    types = host.check_output(
        "runuser -u postgres -- psql -XAtc \"SELECT DISTINCT type FROM pg_hba_file_rules WHERE auth_method <> 'reject'\""
    ).split()
    assert set(types) <= {"local", "hostssl"}, types


def test_ssl_connection_with_client_certificate_negotiates_tls12_or_newer(host, lab_host):
    server = host.backend.get_hostname()
    r = psql_from_client(
        lab_host, server, "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    )
    assert r.rc == 0, r.stderr
    assert r.stdout.strip() in ("TLSv1.2", "TLSv1.3")


def test_password_is_stored_as_a_scram_verifier(host):
    # The verifier was computed on the controller (filter scram_sha256_verifier);
    # the TLS login above with the password proves that it matches.
    assert host.check_output(
        "runuser -u postgres -- psql -XAtc \"SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'odoo'\""
    ) == "SCRAM-SHA-256$"


def test_wrong_password_is_refused(host, lab_host):
    client = lab_host(CLIENT)
    r = client.run(f"PGPASSWORD=wrong-password psql -XAt {conninfo(host.backend.get_hostname())!r} -c 'SELECT 1'")
    assert r.rc != 0 and "password authentication failed" in r.stderr, r.stderr


def test_non_ssl_connection_is_rejected(host, lab_host):
    r = psql_from_client(lab_host, host.backend.get_hostname(), "SELECT 1",
                         sslmode="disable", sslcert=None, sslkey=None, sslrootcert=None)
    assert r.rc != 0
    assert "no encryption" in r.stderr or "rejects connection" in r.stderr, r.stderr


def test_tls_below_1_2_is_refused(host, lab_host):
    r = psql_from_client(lab_host, host.backend.get_hostname(), "SELECT 1",
                         ssl_max_protocol_version="TLSv1.1")
    assert r.rc != 0, r.stdout


def test_ssl_without_client_certificate_is_refused(host, lab_host):
    r = psql_from_client(lab_host, host.backend.get_hostname(), "SELECT 1", sslcert="/nonexistent", sslkey="/nonexistent")
    assert r.rc != 0
    assert "certificate" in r.stderr, r.stderr


def test_client_certificate_for_another_user_is_refused(host, lab_host):
    # clientcert=verify-full: the certificate's CN must be the database user.
    r = psql_from_client(lab_host, host.backend.get_hostname(), "SELECT 1",
                         sslcert="/root/pgclient/intruder-client.crt", sslkey="/root/pgclient/intruder-client.key")
    assert r.rc != 0
    assert "certificate authentication failed" in r.stderr or "password authentication failed" in r.stderr, r.stderr


@pytest.mark.parametrize("path,mode,user", [
    ("tls/server.key", 0o600, "postgres"),
    ("tls/server.crt", 0o644, "root"),
])
def test_tls_files(host, path, mode, user):
    f = host.file(f"/etc/postgresql/{'15' if host.system_info.release.startswith('12') else '17'}/main/{path}")
    assert f.mode == mode and f.user == user
