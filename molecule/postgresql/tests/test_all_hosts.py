"""What holds on every PostgreSQL host, whatever the mode."""

import uuid

import pytest

VERSION = {"12": "15", "13": "17"}


def pg_version(host):
    return VERSION[host.system_info.release.split(".")[0]]


def psql_postgres(host, sql):
    return host.check_output(f"runuser -u postgres -- psql -XAtc {sql!r}")


def test_debian_postgresql_of_this_release_runs(host):
    v = pg_version(host)
    assert host.package(f"postgresql-{v}").is_installed
    assert host.package(f"postgresql-{v}-pgaudit").is_installed
    svc = host.service(f"postgresql@{v}-main")
    assert svc.is_running and svc.is_enabled
    assert psql_postgres(host, "SHOW server_version_num").startswith(v)


def test_scram_is_the_password_encryption(host):
    assert psql_postgres(host, "SHOW password_encryption") == "scram-sha-256"


def test_pg_hba_has_no_trust_md5_or_password_line(host):
    # Parsed by PostgreSQL itself, not by grepping the file.
    methods = psql_postgres(host, "SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE error IS NULL").split()
    assert methods, "pg_hba_file_rules is empty"
    assert not {"trust", "md5", "password", "ident"} & set(methods), methods
    assert psql_postgres(host, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL") == "0"


def test_page_checksums_are_on(host):
    assert psql_postgres(host, "SHOW data_checksums") == "on"


def test_odoo_role_is_not_privileged_and_owns_its_database(host):
    row = psql_postgres(
        host, "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles WHERE rolname = 'odoo'"
    )
    assert row == "f|f|f|f"
    assert psql_postgres(host, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'odoo'") == "odoo"


def test_pgaudit_is_loaded_and_logs_ddl_to_the_journal(host):
    assert "pgaudit" in psql_postgres(host, "SHOW shared_preload_libraries")
    assert set(psql_postgres(host, "SHOW pgaudit.log").replace(" ", "").split(",")) >= {"ddl", "role"}
    table = f"audit_probe_{uuid.uuid4().hex[:8]}"
    host.check_output(
        f"runuser -u odoo -- psql -XAt -d odoo -c 'CREATE TABLE {table} (id int)' -c 'DROP TABLE {table}'"
    )
    # syslog -> journald; the log shipper reads from there.
    log = host.check_output("journalctl -q --no-pager -t postgres --since '-10min'")
    assert f"AUDIT: SESSION" in log and f"CREATE TABLE {table}" in log, log[-2000:]
    assert "user=odoo db=odoo" in log  # log_line_prefix names who and where


def test_connections_are_logged(host):
    host.check_output("runuser -u odoo -- psql -XAt -d odoo -c 'SELECT 1'")
    log = host.check_output("journalctl -q --no-pager -t postgres --since '-10min'")
    assert "connection authorized: user=odoo database=odoo" in log
    assert "disconnection:" in log


@pytest.mark.parametrize("path,mode,owner", [
    ("conf.d/50-odoo-hipaa.conf", 0o640, "postgres"),
    ("pg_hba.conf", 0o640, "postgres"),
])
def test_config_files_are_not_world_readable(host, path, mode, owner):
    f = host.file(f"/etc/postgresql/{pg_version(host)}/main/{path}")
    assert f.mode == mode and f.user == owner
