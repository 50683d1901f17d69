"""Bad input is refused before any change, with a message that says what is
allowed; and the data directory can be moved without losing data.

Each case runs the role again on pg-socket-d12 with one bad input and checks:
the run fails, the message names the problem, nothing changed on the host
(recap changed=0, configuration files and live settings identical)."""

import pytest

TARGET = "pg-socket-d12"
CONF = "/etc/postgresql/15/main"
WATCHED_FILES = [f"{CONF}/conf.d/50-odoo-hipaa.conf", f"{CONF}/pg_hba.conf", f"{CONF}/postgresql.conf"]
WATCHED_COMMANDS = [
    "runuser -u postgres -- psql -XAtc 'SHOW listen_addresses'",
    "runuser -u postgres -- psql -XAtc 'SHOW data_directory'",
    "runuser -u postgres -- psql -XAtc 'SELECT pg_postmaster_start_time()'",
]

REFUSED = {
    "trust in pg_hba": (
        {"postgresql_hba_local_entries": [{"database": "all", "user": "backup", "method": "trust"}]},
        "value of method must be one of: peer, reject, got: trust",
    ),
    "md5 for a TCP client": (
        {"postgresql_tcp_clients": [{"address": "10.0.0.0/8", "method": "md5"}]},
        "value of method must be one of: scram-sha-256, cert, got: md5",
    ),
    "TLS minimum below 1.2": (
        {"postgresql_tls_min_protocol": "TLSv1.1"},
        "value of postgresql_tls_min_protocol must be one of: TLSv1.2, TLSv1.3, got: TLSv1.1",
    ),
    "TCP without certificates": (
        {"postgresql_listen_addresses": ["0.0.0.0"]},
        "requires TLS: set postgresql_tls_cert_file, postgresql_tls_key_file and postgresql_tls_ca_file",
    ),
    "TCP with certificate files that do not exist": (
        {"postgresql_listen_addresses": ["0.0.0.0"], "postgresql_tls_cert_file": "/nonexistent/server.crt",
         "postgresql_tls_key_file": "/nonexistent/server.key", "postgresql_tls_ca_file": "/nonexistent/ca.crt"},
        "TLS file(s) not found on the controller: /nonexistent/server.crt",
    ),
    "data directory not on a mount point": (
        {"postgresql_data_dir": "/srv/notmounted/15/main", "postgresql_data_mountpoint": "/srv/notmounted"},
        "postgresql_data_mountpoint /srv/notmounted is not a mounted filesystem",
    ),
    "data directory outside its mount point": (
        {"postgresql_data_dir": "/var/lib/elsewhere/main", "postgresql_data_mountpoint": "/srv/pgdata"},
        "must lie beneath it",
    ),
    "pgaudit without ddl": (
        {"postgresql_pgaudit_log": ["write"]},
        "postgresql_pgaudit_log must include at least ddl and role",
    ),
    "a setting the role owns": (
        {"postgresql_settings": {"listen_addresses": "*"}},
        "postgresql_settings may not set listen_addresses",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, assert_refused):
    extra_vars, message = REFUSED[case]
    assert_refused(TARGET, "postgresql", extra_vars, message, WATCHED_FILES, WATCHED_COMMANDS)


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
