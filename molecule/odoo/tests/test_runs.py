"""The role run again on the real Odoo: bad input is refused before any
change, with a message that says what is allowed; --check passes on the
converged host. (A second run changing nothing, the master password hash kept
despite its random salt and the database policy included, is Molecule's
idempotence step: odoo.conf would otherwise be reported changed.)"""

import pytest

WATCHED_FILES = ["/etc/odoo/odoo.conf", "/etc/systemd/system/odoo.service", "/usr/local/sbin/odoo-hipaa-odoo-checkconf"]
WATCHED_COMMANDS = [
    "systemctl show -p MainPID --value odoo.service",
    # the code and configuration trees; the data directory itself only (a
    # live Odoo writes sessions and attachments below it)
    "find /opt/odoo /etc/odoo -printf '%p %m %u %l\\n' | sort",
    "stat -c '%n %a %U %G' /var/lib/odoo",
    "getent passwd odoo",
]
PASSWORD = {"odoo_admin_password": "{{ odoo_lab_admin_password }}"}

HOSTS = ["odoo-d12", "odoo-d13"]
ABSENT = "__odoo_hipaa_test_absent__"   # molecule/conftest.py: leave the input out
D12, D13 = ["odoo-d12"], ["odoo-d13"]
REMOTE_DB = {"odoo_db_host": "db.example.org", "odoo_db_ssl_ca_file": "/etc/ssl/certs/ca-certificates.crt"}

# "what a careless sysadmin did": ({variable: value}, "expected message"[, hosts]).
# Every case gets the master password (common_vars) unless it sets its own.
REFUSED = {
    # session limits and MFA (hipaa_limits.py; §164.312(a)(2)(iii), §164.312(d))
    "idle timeout of an hour without a waiver": ({"odoo_session_idle_timeout": 3600}, "odoo_session_idle_timeout is 3600 s; more than 900 s needs odoo_session_idle_timeout_waiver"),
    "an absolute lifetime of 9 h without a waiver (the evidence report's limit)": ({"odoo_session_absolute_lifetime": 32400}, "odoo_session_absolute_lifetime is 32400 s; more than 28800 s (8 h) needs odoo_session_absolute_lifetime_waiver"),
    "trusted devices for 30 days without a waiver": ({"odoo_mfa_trusted_device_days": 30}, "odoo_mfa_trusted_device_days is 30; allowed 0 (refused, the default) to 1"),
    "MFA policy with a typo": ({"odoo_mfa_policy": "all_users"}, "value of odoo_mfa_policy must be one of"),
    "login cooldown turned off": ({"odoo_login_cooldown_after": 0}, "odoo_login_cooldown_after is 0; allowed 1 to 10 failed logins (0 would turn the cooldown off)"),
    "login cooldown of two seconds": ({"odoo_login_cooldown_duration": 2}, "odoo_login_cooldown_duration is 2 s; it must be at least 30 s"),
    "login cooldown after a negative count": ({"odoo_login_cooldown_after": -1}, "odoo_login_cooldown_after is -1"),
    "password minimum of 8": ({"odoo_password_min_length": 8}, "odoo_password_min_length is 8; it must be at least 12"),
    "master password hash with 1000 rounds": ({"odoo_admin_passwd_rounds": 1000}, "odoo_admin_passwd_rounds is 1000; it must be at least 600000"),
    # the master password (shown never; the rule always)
    "no master password": ({"odoo_admin_password": ABSENT}, "missing required arguments: odoo_admin_password"),
    "a short master password": ({"odoo_admin_password": "admin123"}, "odoo_admin_password (not shown) has 8 characters; at least 12 are required"),
    "the example inventory's placeholder master password": ({"odoo_admin_password": "<Odoo's master password (database manager); at least 20 characters>"}, "odoo_admin_password (not shown) looks like a placeholder"),
    # versions and sources
    "Odoo 19.0 on Debian 12": ({"odoo_version": "19.0"}, "Odoo 19.0 is not supported on Debian 12. Supported pairs: 17.0 on Debian 12; 18.0 on Debian 12 and 13; 19.0 on Debian 13.", D12),
    "Odoo 17.0 on Debian 13": ({"odoo_version": "17.0"}, "Odoo 17.0 is not supported on Debian 13.", D13),
    "an unknown series": ({"odoo_version": "16.0"}, "value of odoo_version must be one of: 17.0, 18.0, 19.0, got: 16.0"),
    "the series as a number": ({"odoo_version": 18}, "value of odoo_version must be one of: 17.0, 18.0, 19.0, got: 18"),
    "an install method with a typo": ({"odoo_install_method": "tarball"}, "value of odoo_install_method must be one of"),
    "audited models as a string": ({"odoo_auditlog_models": "res.partner"}, "odoo_auditlog_models must be a YAML list (e.g. [a, b]), got the string 'res.partner'"),
    # the healthcare roles (§164.312(a)(1), §164.514(d); plugins/module_utils/access_matrix.py)
    "IT Admin reading ePHI without a written reason": ({"odoo_access_roles": [{"key": "it_admin", "name": "IT Admin", "groups": ["base.group_system"], "phi": {"res.partner": "r"}}], "odoo_access_role_conflicts": []}, "odoo_access_roles[0] (it_admin): holds base.group_system (administration) and reads ePHI (res.partner); an administrator reads no ePHI without a written phi_reason"),
    "a role on a model that is not audited": ({"odoo_access_roles": [{"key": "hr", "name": "HR", "groups": ["base.group_user"], "phi": {"hr.employee": "r"}}], "odoo_access_role_conflicts": [], "odoo_access_admin_role": ""}, "odoo_access_roles[0] (hr): hr.employee is not one of the PHI models"),
    "a nurse who deletes patients": ({"odoo_access_roles": [{"key": "nurse", "name": "Nurse", "groups": ["base.group_user"], "phi": {"res.partner": "rwd"}}], "odoo_access_role_conflicts": [], "odoo_access_admin_role": ""}, "odoo_access_roles[0] (nurse): deletes res.partner records; only the privacy officer deletes PHI without a written phi_reason"),
    "a conflict naming an unknown role": ({"odoo_access_role_conflicts": [["it_admin", "surgeon"]]}, "odoo_access_role_conflicts: ['it_admin', 'surgeon'] names unknown role(s) surgeon"),
    "a PHI model without its no-PHI domain": ({"odoo_access_no_phi_domains": {"res.partner": "[]", "ir.attachment": "[]"}}, "odoo_access_no_phi_domains has no domain for calendar.event"),
    "passkey-only logins on Odoo 17.0": ({"odoo_version": "17.0", "odoo_privileged_require_passkey": True}, "odoo_privileged_require_passkey needs Odoo 18.0 or later", D12),
    # the service
    "Odoo on every interface": ({"odoo_http_interface": "0.0.0.0"}, "odoo_http_interface must be 127.0.0.1 or ::1 (got 0.0.0.0)"),
    "workers 0 (threaded mode) is refused, not replaced": ({"odoo_workers": 0}, "odoo_workers is 0; it must be at least 1"),
    "an option the role owns": ({"odoo_extra_options": {"list_db": "True"}}, "odoo_extra_options may not set list_db"),
    "a data directory with a space": ({"odoo_data_dir": "/var/lib/odoo data"}, "odoo_data_dir is '/var/lib/odoo data': it contains whitespace"),
    "the install directory /usr": ({"odoo_install_dir": "/usr"}, "odoo_install_dir is '/usr': it is a system directory"),
    "a relative data directory": ({"odoo_data_dir": "odoo-data"}, "odoo_data_dir is 'odoo-data': it is not an absolute path"),
    # a remote database (§164.312(e)(1))
    "a remote database without Odoo's client certificate": (REMOTE_DB, "with odoo_db_ssl_ca_file (the CA of the database server) and Odoo's client certificate"),
    "a remote database whose key file is missing": (dict(REMOTE_DB, odoo_db_ssl_cert_file="/etc/ssl/certs/ca-certificates.crt", odoo_db_ssl_key_file="/nonexistent/odoo.key"), "/nonexistent/odoo.key (a TLS file for the remote database) is not a file on the controller."),
    "a remote database with sslmode require": (dict(REMOTE_DB, odoo_db_sslmode="require"), "odoo_db_sslmode"),
    # a cluster's members (role patroni, #18)
    "a cluster list beside a single database host": ({"odoo_db_hosts": ["db1", "db2", "db3"], "odoo_db_host": "db.example.org"}, "and not together with odoo_db_host"),
    "a cluster member given with its port": ({"odoo_db_hosts": ["db1:5432", "db2", "db3"]}, "odoo_db_hosts must be a YAML list of the cluster's members, each a host name or address (no commas, spaces"),
    "a cluster list written as one string": ({"odoo_db_hosts": "db1,db2,db3"}, "odoo_db_hosts must be a YAML list (e.g. [a, b]), got the string 'db1,db2,db3'"),
    "a cluster without Odoo's client certificate": ({"odoo_db_hosts": ["db1", "db2", "db3"]}, "the connection must use odoo_db_sslmode verify-full"),
}


@pytest.fixture(scope="module")
def refused(refused_batch):
    return refused_batch("odoo", REFUSED, HOSTS, WATCHED_FILES, WATCHED_COMMANDS, common_vars=PASSWORD)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_and_changes_nothing(case, refused):
    refused.check(case)


def test_check_mode_passes_on_a_converged_host(role_runner):
    run = role_runner("odoo-d13", "odoo", PASSWORD, check=True)
    assert run.rc == 0 and run.changed("odoo-d13") == 0, run.output[-3000:]
