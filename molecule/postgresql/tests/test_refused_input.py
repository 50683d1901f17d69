"""Bad input is refused before any change, with a message that names the
variable and says what is allowed; and the data directory can be moved
without losing data.

The table runs as one playbook (molecule/conftest.py, refused_batch) on both
socket hosts (Debian 12 and 13); for each case: the run is refused with the
message, no task reported a change, and the configuration files, pg_hba, the
live settings and the postmaster's start time (no restart) are identical."""

import pytest

TARGET = "pg-socket-d12"
HOSTS = ["pg-socket-d12", "pg-socket-d13"]
CONF = "/etc/postgresql/15/main"
WATCHED_FILES = [f"{CONF}/conf.d/50-odoo-hipaa.conf", f"{CONF}/pg_hba.conf", f"{CONF}/postgresql.conf"]
PSQL = "runuser -u postgres -- psql -XAtc "
WATCHED_COMMANDS = [
    "sha256sum /etc/postgresql/*/main/conf.d/50-odoo-hipaa.conf /etc/postgresql/*/main/pg_hba.conf "
    "/etc/postgresql/*/main/postgresql.conf",
    PSQL + "'SHOW listen_addresses'",
    PSQL + "'SHOW data_directory'",
    PSQL + "'SELECT pg_postmaster_start_time()'",
    # the roles and their attributes (Odoo's role stays unprivileged, postgres stays superuser)
    PSQL + "'SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles ORDER BY 1'",
    PSQL + "'SELECT datname, pg_get_userbyid(datdba) FROM pg_database ORDER BY 1'",
]
SUPERUSER = "dba_on_call"   # an existing superuser, created below
TLS_FILES = {"postgresql_tls_cert_file": "/nonexistent/server.crt", "postgresql_tls_key_file": "/nonexistent/server.key",
             "postgresql_tls_ca_file": "/nonexistent/ca.crt"}

# "what a careless sysadmin did": ({variable: value}, "expected message"[, hosts])
REFUSED = {
    # reserved names (issue: `postgres` stripped the cluster's superuser)
    "Odoo's role named postgres": ({"postgresql_odoo_user": "postgres"}, "postgresql_odoo_user is 'postgres': Odoo's role must be an unprivileged role of its own"),
    "Odoo's role named like an existing superuser": ({"postgresql_odoo_user": SUPERUSER}, f"postgresql_odoo_user is '{SUPERUSER}', a superuser of this cluster"),
    "Odoo's role named pg_monitor": ({"postgresql_odoo_user": "pg_monitor"}, "not postgres, public, root"),
    "Odoo's role named public": ({"postgresql_odoo_user": "public"}, "postgresql_odoo_user is 'public'"),
    "Odoo's role with a capital and a space": ({"postgresql_odoo_user": "Odoo Prod"}, "postgresql_odoo_user is 'Odoo Prod'"),
    "Odoo's database template1": ({"postgresql_odoo_database": "template1"}, "postgresql_odoo_database is 'template1'"),
    "Odoo's database postgres": ({"postgresql_odoo_database": "postgres"}, "not postgres, template0 or template1"),
    "Odoo's database with a quote": ({"postgresql_odoo_database": "odoo'; DROP"}, "postgresql_odoo_database is 'odoo'; DROP'"),
    "a local entry for all users with peer": ({"postgresql_hba_local_entries": [{"database": "all", "user": "all"}]}, "postgresql_hba_local_entries entry"),
    "a local entry for Odoo's own role": ({"postgresql_hba_local_entries": [{"database": "odoo", "user": "odoo"}]}, "other than Odoo's own (odoo"),
    # wrong types and choices (argument_specs)
    "trust in pg_hba": ({"postgresql_hba_local_entries": [{"database": "all", "user": "backup", "method": "trust"}]}, "value of method must be one of: peer, reject, got: trust"),
    "md5 for a TCP client": ({"postgresql_tcp_clients": [{"address": "10.0.0.0/8", "method": "md5"}]}, "value of method must be one of: scram-sha-256, cert, got: md5"),
    "TLS minimum below 1.2": ({"postgresql_tls_min_protocol": "TLSv1.1"}, "value of postgresql_tls_min_protocol must be one of: TLSv1.2, TLSv1.3, got: TLSv1.1"),
    "TLS minimum with a typo": ({"postgresql_tls_min_protocol": "TLS1.2"}, "value of postgresql_tls_min_protocol must be one of: TLSv1.2, TLSv1.3, got: TLS1.2"),
    "client certificate check with a typo": ({"postgresql_tls_client_cert": "verify_full"}, "value of postgresql_tls_client_cert must be one of: verify-full, verify-ca, none"),
    "listen addresses as a string": ({"postgresql_listen_addresses": "0.0.0.0"}, "postgresql_listen_addresses must be a YAML list (e.g. [a, b]), got the string '0.0.0.0'"),
    "port as a word": ({"postgresql_port": "postgres"}, "postgresql_port"),
    "pgaudit classes as a string": ({"postgresql_pgaudit_log": 12}, "postgresql_pgaudit_log"),
    "settings as a list": ({"postgresql_settings": ["work_mem=64MB"]}, "postgresql_settings"),
    # TCP
    "TCP without certificates": ({"postgresql_listen_addresses": ["0.0.0.0"]}, "requires TLS: set postgresql_tls_cert_file, postgresql_tls_key_file and postgresql_tls_ca_file"),
    "TCP with certificate files that do not exist": (dict(TLS_FILES, postgresql_listen_addresses=["0.0.0.0"]), "TLS file(s) not found on the controller: /nonexistent/server.crt"),
    "TCP clients while listening on the socket only": ({"postgresql_tcp_clients": [{"address": "10.20.0.11/32"}]}, "postgresql_tcp_clients is set but postgresql_listen_addresses is empty"),
    "a TCP client for the whole internet": ({"postgresql_tcp_clients": [{"address": "0.0.0.0/0"}]}, "postgresql_tcp_clients address '0.0.0.0/0' is broader than /16 (IPv4)"),
    "a TCP client on a public network": ({"postgresql_tcp_clients": [{"address": "203.0.113.0/24"}]}, "postgresql_tcp_clients address '203.0.113.0/24' is not a private network"),
    "a TCP client given by name": ({"postgresql_tcp_clients": [{"address": "erp-app-01"}]}, "postgresql_tcp_clients address 'erp-app-01' is not a network in CIDR form"),
    "a TCP client with host bits": ({"postgresql_tcp_clients": [{"address": "10.20.0.11/24"}]}, "has host bits set (the network is 10.20.0.0/24)"),
    # data directory
    "data directory not on a mount point": ({"postgresql_data_dir": "/srv/notmounted/15/main", "postgresql_data_mountpoint": "/srv/notmounted"}, "postgresql_data_mountpoint /srv/notmounted is not a mounted filesystem"),
    "data directory outside its mount point": ({"postgresql_data_dir": "/var/lib/elsewhere/main", "postgresql_data_mountpoint": "/srv/pgdata"}, "must lie beneath postgresql_data_mountpoint"),
    "a relative data directory": ({"postgresql_data_dir": "pgdata/main"}, "postgresql_data_dir is 'pgdata/main': it is not an absolute path"),
    "a data directory with a space": ({"postgresql_data_dir": "/srv/pg data/main"}, "postgresql_data_dir is '/srv/pg data/main': it contains whitespace"),
    # audit and settings
    "pgaudit without ddl": ({"postgresql_pgaudit_log": ["write"]}, "postgresql_pgaudit_log must include at least ddl and role"),
    "a setting the role owns": ({"postgresql_settings": {"listen_addresses": "*"}}, "postgresql_settings may not set listen_addresses"),
    "password encryption back to md5": ({"postgresql_settings": {"password_encryption": "md5"}}, "postgresql_settings may not set password_encryption"),
}


@pytest.fixture(scope="module")
def refused(refused_batch, lab_host):
    for name in HOSTS:   # an existing superuser with a name of its own
        lab_host(name).check_output(
            PSQL + f"\"DO \\$\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SUPERUSER}') "
                   f"THEN CREATE ROLE {SUPERUSER} SUPERUSER; END IF; END \\$\\$\"")
    return refused_batch("postgresql", REFUSED, HOSTS, [], WATCHED_COMMANDS)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)


def test_the_superuser_survives(lab_host):
    """After the whole table, postgres is still the cluster's superuser."""
    for name in HOSTS:
        assert lab_host(name).check_output(PSQL + "\"SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'\"") == "t"


def test_cluster_moves_to_a_data_mount_without_losing_data(role_runner, lab_host, fingerprint):
    """An existing cluster is moved onto a new mount point; rows survive; a
    second run changes nothing; the target is never overwritten."""
    host = lab_host(TARGET)
    sql = "runuser -u odoo -- psql -XAt -d odoo -c "
    host.check_output(sql + "'CREATE TABLE IF NOT EXISTS move_probe (id int); TRUNCATE move_probe; "
                            "INSERT INTO move_probe SELECT generate_series(1, 1000)'")
    host.check_output("mkdir -p /srv/pgmove && (findmnt /srv/pgmove || mount -t tmpfs -o size=512m tmpfs /srv/pgmove)")
    moved = {"postgresql_data_dir": "/srv/pgmove/15/main", "postgresql_data_mountpoint": "/srv/pgmove"}

    run = role_runner(TARGET, "postgresql", moved)
    assert run.rc == 0, run.output[-4000:]
    assert host.check_output("runuser -u postgres -- psql -XAtc 'SHOW data_directory'") == "/srv/pgmove/15/main"
    assert host.check_output(sql + "'SELECT count(*) FROM move_probe'") == "1000"
    assert host.file("/var/lib/postgresql/15/main.moved-away/PG_VERSION").exists

    again = role_runner(TARGET, "postgresql", moved)
    assert again.rc == 0 and again.changed(TARGET) == 0, again.output[-3000:]
    assert host.check_output(sql + "'SELECT count(*) FROM move_probe'") == "1000"

    # Moving back onto a directory that holds data is refused, nothing changes.
    before = fingerprint(host, WATCHED_FILES, WATCHED_COMMANDS)
    back = role_runner(TARGET, "postgresql", {"postgresql_data_dir": "/var/lib/postgresql/15/main.moved-away"})
    assert back.rc != 0 and "which is not empty" in " ".join(back.output.split())
    assert fingerprint(host, WATCHED_FILES, WATCHED_COMMANDS) == before
