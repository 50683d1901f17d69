"""ALTER SYSTEM is drift: postgresql.auto.conf is read after the role's own
file, so one statement by a DBA would silently override a control. --check
reports it without touching it; a normal run removes it."""

import time

TARGET = "pg-socket-d13"
PSQL = "runuser -u postgres -- psql -XAtqc "
AUTO_CONF = "/srv/pgdata/17/main/postgresql.auto.conf"


def _show(host, name: str, want: str) -> str:
    # pg_reload_conf() only signals the server; new sessions see the value
    # once the postmaster has processed the signal.
    value = ""
    for _ in range(50):
        value = host.check_output(PSQL + f"'SHOW {name}'")
        if value == want:
            break
        time.sleep(0.2)
    return value


def test_alter_system_override_is_reported_by_check_and_removed_by_a_run(role_runner, lab_host):
    host = lab_host(TARGET)
    host.check_output(PSQL + "\"ALTER SYSTEM SET password_encryption = 'md5'\" "
                             "-c \"ALTER SYSTEM SET listen_addresses = '*'\" -c 'SELECT pg_reload_conf()'")
    try:
        assert _show(host, "password_encryption", "md5") == "md5"

        check = role_runner(TARGET, "postgresql", {}, check=True)
        assert check.rc == 0, check.output[-4000:]
        assert check.changed(TARGET) >= 1
        assert "listen_addresses" in check.output and "password_encryption" in check.output
        # --check changed nothing
        assert "password_encryption = 'md5'" in host.file(AUTO_CONF).content_string

        run = role_runner(TARGET, "postgresql", {})
        assert run.rc == 0, run.output[-4000:]
        assert _show(host, "password_encryption", "scram-sha-256") == "scram-sha-256"
        auto = host.file(AUTO_CONF).content_string
        assert "password_encryption" not in auto and "listen_addresses" not in auto
        assert host.check_output(PSQL + "'SHOW listen_addresses'") == ""

        again = role_runner(TARGET, "postgresql", {})
        assert again.rc == 0 and again.changed(TARGET) == 0, again.output[-3000:]
    finally:
        host.run(PSQL + "'ALTER SYSTEM RESET password_encryption' -c 'ALTER SYSTEM RESET listen_addresses' "
                        "-c 'SELECT pg_reload_conf()'")
