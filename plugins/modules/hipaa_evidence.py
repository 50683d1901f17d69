#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gather the proof of each HIPAA control on one host, read-only.

Every check runs a read-only command or reads a file, compares what it sees
with what the control requires, and returns one row: control id, citation,
pass/fail/waived, the observed value and the expectation. The module never
changes the host, so it is safe in --check mode and against production.

The checks live in one file per layer, plugins/module_utils/evidence_<layer>.py
(baseline, odoo, postgresql, nginx, luks, log_shipping, backup, privacy, ha), the shared
context and helpers in evidence_core.py; this module merges the layers' CHECKS.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: hipaa_evidence
short_description: Read-only proof of the HIPAA Security Rule controls on one host
description:
  - Runs the named checks on the host and returns one row per check, each tied to a control
    of the collection's control list (AC-1 ... SH-1) and its 45 CFR citation.
  - Read-only. Supports check mode (it behaves the same) and never reports a change.
  - A check that cannot gather its proof (a tool missing, a file absent, a command failing) fails its row;
    it never makes the module fail.
options:
  checks:
    description:
      - Names of the checks to run, each of them one of these (check (control) - what it proves).
      - C(listeners) (AC-1) - only the declared services listen on public addresses (O(settings.public_listeners)).
      - C(odoo_loopback) (AC-1) - Odoo listens on 127.0.0.1 only.
      - C(pg_listen) (AC-1) - PostgreSQL listens on the unix socket only (or on explicit addresses with TLS).
      - C(db_manager_blocked) (AC-1) - the Odoo database manager is blocked at nginx.
      - C(odoo_conf) (AC-1) - C(odoo.conf) has no database list, proxy mode, a loopback interface and is not world-readable.
      - C(odoo_access_matrix) (AC-1) - on the database host, the written access-control matrix read from Odoo's live
        security tables equals the declared healthcare roles (O(settings.odoo_access_roles)) on every PHI model; no
        internal user holds groups beyond their roles, no role, or two conflicting roles; the built-in admin is inactive.
      - C(nftables) (AC-1) - the firewall denies inbound traffic by default.
      - C(sshd) (AC-1) - SSH takes keys only, no root login, allowed groups set.
      - C(odoo_admin_disabled) (AC-2) - the built-in C(admin) login is deactivated.
      - C(odoo_session_limits) (AC-3) - Odoo's idle timeout and absolute session lifetime are within the limits.
      - C(pgbackrest_encrypted) (AC-4) - every pgBackRest stanza the configuration names (asked by name, since a repository host
        answers a database host for its own stanza only) is encrypted (aes-256-cbc) and healthy, its configuration not
        world-readable.
      - C(luks_volumes) (AC-4) - every ePHI path (O(settings.encrypted_paths)) is on LUKS2 (aes-xts-plain64, 512-bit, argon2id).
      - C(pgaudit) (AU-1) - pgaudit is loaded on PostgreSQL and C(pgaudit.log) is set.
      - C(nginx_access_log) (AU-1) - nginx logs every request (O(settings.nginx_access_log)).
      - C(odoo_auditlog) (AU-1) - Odoo auditlog rules log reads and writes on the PHI models (O(settings.odoo_phi_models)).
      - C(auditd_rules) (AU-1) - auditd rules are loaded with the expected keys (O(settings.auditd_keys)).
      - C(log_retention) (AU-2) - the log aggregator keeps logs at least 6 years (the seal's retention; logrotate only renames).
      - C(offsite_retention) (AU-2) - on the backup host, each client's off-site retention (forget, prune, check) succeeded
        within the collection's limit (8 days) and its timer is active.
      - C(fail2ban) (AU-3) - the fail2ban jails for SSH and Odoo logins are active.
      - C(odoo_login_cooldown) (AU-3) - Odoo's login cooldown is within the limits.
      - C(privacy_review) (AU-3) - on the log aggregator, the audit-log review (role privacy_review) of the last period
        due (ended, plus the grace days) is complete and its timer active and enabled; none is owed for a period that
        ended before the review was installed.
      - C(privacy_review_db) (AU-3) - on the database host, the review's database half ran for that period and its
        timer is active and enabled.
      - C(aide) (IN-1) - an AIDE baseline exists, C(aide --check) is clean and the daily check timer is active.
      - C(restic_check) (IN-1) - the backup repository passed C(restic check) within 8 days.
      - C(log_forwarding) (IN-1) - logs are shipped over TLS, the aggregator's name checked, with a disk-assisted queue.
      - C(log_seal) (IN-1) - on the log aggregator, the seal chain verifies (signatures, links, the anchors in
        O(settings.log_seal_anchors)), every sealed file is present, immutable and matches its hash, and a full verify
        passed within 8 days.
      - C(pg_scram) (IA-1) - PostgreSQL's C(password_encryption) is scram-sha-256.
      - C(pg_hba) (IA-1) - C(pg_hba.conf) has no trust, md5, password or ident rule, and TCP only with TLS.
      - C(odoo_mfa) (IA-1) - Odoo's MFA policy and the remember-this-device limit.
      - C(odoo_privileged_passkey) (IA-1) - on the database host, every active user of a healthcare role marked
        privileged (O(settings.odoo_access_roles)) has registered a passkey (Odoo's auth_passkey, FIDO2/WebAuthn).
      - C(odoo_master_password) (IA-1) - Odoo's master password is stored as a pbkdf2-sha512 hash.
      - C(patroni_api_auth) (IA-1) - on a Patroni member, the REST API is HTTPS, requires a client certificate for every
        call (a request without one is refused) and a password for calls that change state.
      - C(tls_protocols) (TS-1) - HTTPS refuses TLSv1 and TLSv1.1 and accepts TLSv1.2 and TLSv1.3.
      - C(tls_weak_cipher) (TS-1) - HTTPS refuses weak cipher suites.
      - C(hsts) (TS-1) - HTTPS sends the HSTS header.
      - C(cookie_flags) (TS-1) - the C(session_id) cookie is Secure, HttpOnly and SameSite.
      - C(http_redirect) (TS-1) - plain HTTP redirects to HTTPS.
      - C(pg_tls) (TS-1) - PostgreSQL has TLS on, TLSv1.2 at least.
      - C(pg_replication_tls) (TS-1) - on a Patroni member, streaming replication runs over TLS 1.2 or later. On the
        primary every standby connection uses the replication role's certificate; on a replica the WAL receiver streams
        with C(sslmode=verify-full) and a client certificate.
      - C(etcd_tls) (TS-1) - on an etcd member, client and peer URLs are https only, client certificates are required on
        both, no automatic TLS and no v2 API; a handshake without a client certificate is refused.
      - C(tls_certificate) (TS-1) - the certificate nginx serves has at least 14 days left (a third of a lifetime shorter
        than 42 days), covers O(settings.https_server_name) and is the one nginx's configuration names (a renewal
        nginx did not load fails it).
      - C(acme_renewal) (TS-1) - with ACME (role nginx, C(nginx_tls_source=acme)), C(certbot.timer) is active and enabled,
        the last renewal succeeded and nginx reloaded, no renewal failed since, the certificate renews from
        O(settings.acme_server) and with the deploy hook O(settings.acme_deploy_hook).
      - C(backup_timer) (CP-1) - the nightly backup timer is active and enabled.
      - C(backup_recent) (CP-1) - the last backup succeeded less than 26 hours ago.
      - C(backup_password_file) (CP-1) - the repository password file is root-owned and not readable by others.
      - C(offsite_append_only) (CP-1) - every off-site repository of this host is append-only (rest), its service refusing
        (403) to delete a snapshot when asked with this host's own credentials; an sftp repository fails the row.
      - C(offsite_server_append_only) (CP-1) - on the backup host, every client's REST service is active with
        C(--append-only --private-repos --client-ca --htpasswd), and no SFTP client key is installed.
      - C(wal_archiving) (CP-1) - WAL is archived into pgBackRest and no segment waits longer than the RPO target (300 s).
      - C(restore_drill) (CP-2) - the restore drill passed within 8 days and its weekly timer is active.
      - C(cluster_sync_standby) (CP-2) - on a Patroni member, the cluster has exactly one leader, a synchronous standby
        (when O(settings.patroni_synchronous_mode)), every member running or streaming, and the members the inventory
        declares (O(settings.patroni_members)).
      - C(odoo_shared_state) (CP-2) - with several Odoo nodes (O(settings.odoo_nodes)), attachments are in the database
        (C(ir_attachment.location) db, no binary attachment left in a filestore) and the sessions in their own database
        (O(settings.odoo_session_database) holds session_db's C(http_sessions)); one node passes as it is.
      - C(pitr_drill) (CP-2) - the point-in-time drill passed within 8 days (marker present just after its target, absent
        just before) and its weekly timer is active; on a standby of a Patroni cluster, its last drill (within 8 days)
        recorded C(skipped) while the member is still a standby (the primary drills the cluster's stanza).
      - C(odoo_sandbox) (SH-1) - the Odoo service's systemd exposure is within its limit.
      - C(service_sandbox) (SH-1) - each sandboxed unit of the collection's limit table installed here (nginx, PostgreSQL, rsyslog,
        the backup units) is within its systemd exposure limit.
      - C(unattended_upgrades) (SH-1) - automatic security updates are on.
      - C(time_sync) (SH-1) - time is synchronised from a reachable source.
      - An unknown name fails the module, naming it and listing the known ones.
    type: list
    elements: str
    required: true
  settings:
    description:
      - What the checks expect on this host. Each key is read by the checks named in its description;
        an unknown key fails the module.
    type: dict
    default: {}
    suboptions:
      public_listeners:
        description: The services that may listen on non-loopback addresses, as C(PORT/PROCESS) (C(listeners)).
        type: list
        elements: str
        default: []
      odoo_ports:
        description: The ports Odoo listens on, on 127.0.0.1 (C(odoo_loopback)).
        type: list
        elements: int
        default: [8069, 8072]
      odoo_config:
        description: Odoo's configuration file (C(odoo_conf), C(odoo_master_password)).
        type: str
        default: /etc/odoo/odoo.conf
      odoo_service:
        description: Odoo's systemd unit (C(odoo_sandbox)).
        type: str
        default: odoo.service
      odoo_database:
        description: >-
          Odoo's database (C(odoo_admin_disabled), C(odoo_session_limits), C(odoo_mfa), C(odoo_login_cooldown),
          C(odoo_auditlog)).
        type: str
        default: odoo
      odoo_idle_param:
        description: The Odoo system parameter that holds the idle timeout, in seconds (C(odoo_session_limits)).
        type: str
        default: odoo_hipaa.session_idle_timeout
      odoo_lifetime_param:
        description: The Odoo system parameter that holds the absolute session lifetime, in seconds (C(odoo_session_limits)).
        type: str
        default: odoo_hipaa.session_absolute_lifetime
      odoo_mfa_policy:
        description: The C(auth_totp.policy) Odoo must have (C(odoo_mfa)).
        type: str
        default: all_required
      odoo_phi_models:
        description: The Odoo models that hold PHI, each needing a subscribed auditlog rule that logs reads (C(odoo_auditlog)).
        type: list
        elements: str
        default: []
      odoo_access_roles:
        description: The site's declared healthcare roles, as role odoo takes them (C(odoo_access_matrix)).
        type: list
        elements: dict
        default: []
      odoo_access_role_conflicts:
        description: Pairs of role keys no user may hold together (C(odoo_access_matrix)).
        type: list
        elements: list
        default: []
      odoo_access_no_phi_domains:
        description: Per PHI model, the domain of its records without PHI, as role odoo takes it (C(odoo_access_matrix)).
        type: dict
        default: {}
      postgresql_os_user:
        description: The operating-system user that runs C(psql) as PostgreSQL's superuser (every check that asks PostgreSQL).
        type: str
        default: postgres
      postgresql_tcp:
        description: >-
          PostgreSQL listens on TCP (explicit addresses, TLS with client certificates) rather than on the unix socket only
          (C(pg_listen)).
        type: bool
        default: false
      https_address:
        description: >-
          The address nginx is reached at (C(tls_protocols), C(tls_weak_cipher), C(hsts), C(cookie_flags), C(http_redirect), C(tls_certificate),
          C(db_manager_blocked)).
        type: str
        default: 127.0.0.1
      https_port:
        description: nginx's HTTPS port (C(tls_protocols), C(tls_weak_cipher), C(hsts), C(cookie_flags), C(db_manager_blocked)).
        type: int
        default: 443
      http_port:
        description: nginx's plain HTTP port (C(http_redirect)).
        type: int
        default: 80
      https_server_name:
        description: The server name sent as SNI and Host header (every check that asks nginx).
        type: str
        default: localhost
      https_path:
        description: The path whose answer is checked for its headers (C(hsts), C(cookie_flags)).
        type: str
        default: /web/login
      nginx_access_log:
        description: The access log nginx must write every request to (C(nginx_access_log)).
        type: str
        default: /var/log/nginx/odoo-access.json.log
      encrypted_paths:
        description: The paths that hold ePHI, each of which must be on a LUKS2 volume (C(luks_volumes); none given fails it).
        type: list
        elements: str
        default: []
      backup_state_dir:
        description: The backup job's state directory (C(backup_recent), C(restic_check), C(restore_drill)).
        type: str
        default: /var/lib/odoo-hipaa-backup
      backup_password_file:
        description: The backup repository's password file (C(backup_password_file)).
        type: str
        default: /etc/odoo-hipaa-backup/restic.pass
      backup_etc:
        description: The backup job's configuration directory, with each off-site repository's files (C(offsite_append_only)).
        type: str
        default: /etc/odoo-hipaa-backup
      pgbackrest_config:
        description: pgBackRest's configuration file (C(pgbackrest_encrypted)).
        type: str
        default: /etc/pgbackrest/pgbackrest.conf
      pitr_state_dir:
        description: The PITR drill's state directory (C(pitr_drill)).
        type: str
        default: /var/lib/odoo-hipaa-pitr
      backup_server_state_dir:
        description: The backup host's state directory, with each client's retention result (C(offsite_retention)).
        type: str
        default: /var/lib/odoo-hipaa-backup-server
      backup_server_authorized_keys:
        description: Where the backup host keeps its SFTP clients' keys (C(offsite_server_append_only)).
        type: str
        default: /etc/ssh/authorized_keys
      fail2ban_jails:
        description: The fail2ban jails that must be active (C(fail2ban)).
        type: list
        elements: str
        default: [sshd, odoo]
      patroni_members:
        description: The Patroni cluster's members as the inventory declares them (C(cluster_sync_standby),
          C(pg_replication_tls)).
        type: list
        elements: str
        default: []
      patroni_synchronous_mode:
        description: Whether the cluster must have a synchronous standby (C(cluster_sync_standby)).
        type: bool
        default: true
      patroni_replication_user:
        description: The replication role, the CN of its client certificate (C(pg_replication_tls)).
        type: str
        default: replicator
      odoo_nodes:
        description: The site's Odoo nodes (C(odoo_shared_state)).
        type: list
        elements: str
        default: []
      odoo_session_database:
        description: The database of Odoo's shared sessions, session_db (C(odoo_shared_state)).
        type: str
        default: ""
      auditd_keys:
        description: The keys the loaded auditd rules must carry (C(auditd_rules)).
        type: list
        elements: str
        default: []
      aide_config:
        description: The AIDE configuration file (C(aide)).
        type: str
        default: /etc/aide/odoo-hipaa.conf
      aide_database:
        description: The AIDE baseline database (C(aide)).
        type: str
        default: /var/lib/aide/odoo-hipaa.db
      aide_timer:
        description: The systemd timer of the daily AIDE check (C(aide)).
        type: str
        default: odoo-hipaa-aide-check.timer
      log_shipping_config:
        description: The rsyslog configuration that forwards the logs (C(log_forwarding)).
        type: str
        default: /etc/rsyslog.conf
      log_retention_file:
        description: The aggregator's logrotate configuration (C(log_retention)).
        type: str
        default: /etc/logrotate.d/odoo-hipaa-log-aggregator
      log_seal_tool:
        description: The aggregator's seal tool (C(log_seal)).
        type: str
        default: /usr/local/sbin/odoo-hipaa-log-seal
      log_seal_config:
        description: The seal's configuration, with its retention_days (C(log_seal), C(log_retention)).
        type: str
        default: /etc/odoo-hipaa-log-seal/seal.json
      log_seal_state_dir:
        description: The seal's state directory, holding last-full-verify.json (C(log_seal)).
        type: str
        default: /var/lib/odoo-hipaa-log-seal
      acme_server:
        description: The ACME directory URL the certificate must renew from (C(acme_renewal)); empty fails the row.
        type: str
        default: ""
      acme_cert_name:
        description: certbot's name of the certificate lineage (C(acme_renewal)).
        type: str
        default: odoo-hipaa
      acme_deploy_hook:
        description: The deploy hook certbot must run after a renewal (C(acme_renewal)).
        type: str
        default: /usr/local/sbin/odoo-hipaa-acme-deploy
      acme_state_dir:
        description: Where the deploy hook and the failure unit record the last renewal and failure (C(acme_renewal)).
        type: str
        default: /var/lib/odoo-hipaa-acme
      log_seal_anchors:
        description:
          - Heads of the seal chain recorded off the aggregator by earlier evidence runs (C(sha256:HEX)); each must
            still be in the chain (C(log_seal)). The evidence role keeps them on the controller.
        type: list
        elements: str
        default: []
  waivers:
    description:
      - Checks waived on this host, each with the written reason an auditor reads.
        A waived check still runs; its row says what was observed and why it is accepted.
    type: list
    elements: dict
    default: []
    suboptions:
      check:
        description: Check name.
        type: str
        required: true
      reason:
        description: Why the control is met otherwise or not applicable (required, not empty).
        type: str
        required: true
author: onprem.odoo_hipaa contributors (@onprem)
"""

EXAMPLES = r"""
- name: Gather the evidence
  onprem.odoo_hipaa.hipaa_evidence:
    checks: [listeners, pg_scram, tls_protocols]
    settings:
      public_listeners: ["443/nginx", "80/nginx", "22/sshd"]
      https_server_name: erp.example.org
  register: evidence

- name: Waive a check, with the reason an auditor reads
  onprem.odoo_hipaa.hipaa_evidence:
    checks: [luks_volumes, sshd]
    settings:
      encrypted_paths: [/var/lib/odoo, /var/lib/postgresql]
    waivers:
      - check: luks_volumes
        reason: The database volume is on the SAN's self-encrypting drives (risk analysis RA-2025-03, section 4).
"""

RETURN = r"""
rows:
  description: One row per check, in the order of O(checks).
  returned: always
  type: list
  elements: dict
  contains:
    control:
      description: The control the check proves.
      type: str
      sample: AC-1
    citation:
      description: The control's 45 CFR citation.
      type: str
      sample: "§164.312(a)(1)"
    control_title:
      description: The control's title.
      type: str
      sample: Access control
    check:
      description: The check's name.
      type: str
      sample: listeners
    title:
      description: What the check proves.
      type: str
    status:
      description: V(pass), V(fail), or V(waived) (failed, with a waiver for it).
      type: str
      sample: pass
    observed:
      description: What the check saw (a string, or a dict of what it saw), or why it has no proof.
      type: raw
    expected:
      description: What the control requires.
      type: str
    checked_at:
      description: When the check ran (UTC, ISO 8601).
      type: str
      sample: "2025-01-31T02:00:00+00:00"
    waiver:
      description: The reason the check is waived.
      type: str
      returned: when the check is waived
"""

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import Context, evaluate, merge_checks
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_baseline import CHECKS as BASELINE_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_odoo import CHECKS as ODOO_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_postgresql import CHECKS as POSTGRESQL_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_nginx import CHECKS as NGINX_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_luks import CHECKS as LUKS_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_log_shipping import CHECKS as LOG_SHIPPING_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_backup import CHECKS as BACKUP_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_privacy import CHECKS as PRIVACY_CHECKS
from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_ha import CHECKS as HA_CHECKS

try:
    from ansible.module_utils.basic import AnsibleModule
except ImportError:  # unit tests import the checks without Ansible's module runtime
    AnsibleModule = None

# Every check by name: (control, title, check), one file per layer; a name two
# layers define fails the import.
CHECKS = merge_checks((
    ("baseline", BASELINE_CHECKS),
    ("odoo", ODOO_CHECKS),
    ("postgresql", POSTGRESQL_CHECKS),
    ("nginx", NGINX_CHECKS),
    ("luks", LUKS_CHECKS),
    ("log_shipping", LOG_SHIPPING_CHECKS),
    ("backup", BACKUP_CHECKS),
    ("privacy", PRIVACY_CHECKS),
    ("ha", HA_CHECKS),
))


# What the checks read from `settings` (DOCUMENTATION's suboptions; the defaults
# in the layers' ctx.s() calls are the same, tests/unit/test_hipaa_evidence.py holds them to it).
SETTINGS_SPEC = dict(
    public_listeners=dict(type="list", elements="str", default=[]),
    odoo_ports=dict(type="list", elements="int", default=[8069, 8072]),
    odoo_config=dict(type="str", default="/etc/odoo/odoo.conf"),
    odoo_service=dict(type="str", default="odoo.service"),
    odoo_database=dict(type="str", default="odoo"),
    odoo_idle_param=dict(type="str", default="odoo_hipaa.session_idle_timeout"),
    odoo_lifetime_param=dict(type="str", default="odoo_hipaa.session_absolute_lifetime"),
    odoo_mfa_policy=dict(type="str", default="all_required"),
    odoo_phi_models=dict(type="list", elements="str", default=[]),
    odoo_access_roles=dict(type="list", elements="dict", default=[]),
    odoo_access_role_conflicts=dict(type="list", elements="list", default=[]),
    odoo_access_no_phi_domains=dict(type="dict", default={}),
    postgresql_os_user=dict(type="str", default="postgres"),
    postgresql_tcp=dict(type="bool", default=False),
    https_address=dict(type="str", default="127.0.0.1"),
    https_port=dict(type="int", default=443),
    http_port=dict(type="int", default=80),
    https_server_name=dict(type="str", default="localhost"),
    https_path=dict(type="str", default="/web/login"),
    nginx_access_log=dict(type="str", default="/var/log/nginx/odoo-access.json.log"),
    encrypted_paths=dict(type="list", elements="str", default=[]),
    backup_state_dir=dict(type="str", default="/var/lib/odoo-hipaa-backup"),
    backup_password_file=dict(type="str", default="/etc/odoo-hipaa-backup/restic.pass"),
    backup_etc=dict(type="str", default="/etc/odoo-hipaa-backup"),
    pgbackrest_config=dict(type="str", default="/etc/pgbackrest/pgbackrest.conf"),
    pitr_state_dir=dict(type="str", default="/var/lib/odoo-hipaa-pitr"),
    backup_server_state_dir=dict(type="str", default="/var/lib/odoo-hipaa-backup-server"),
    backup_server_authorized_keys=dict(type="str", default="/etc/ssh/authorized_keys", no_log=False),
    fail2ban_jails=dict(type="list", elements="str", default=["sshd", "odoo"]),
    patroni_members=dict(type="list", elements="str", default=[]),
    patroni_synchronous_mode=dict(type="bool", default=True),
    patroni_replication_user=dict(type="str", default="replicator"),
    odoo_nodes=dict(type="list", elements="str", default=[]),
    odoo_session_database=dict(type="str", default=""),
    auditd_keys=dict(type="list", elements="str", default=[], no_log=False),  # audit rule keys, not secrets
    aide_config=dict(type="str", default="/etc/aide/odoo-hipaa.conf"),
    aide_database=dict(type="str", default="/var/lib/aide/odoo-hipaa.db"),
    aide_timer=dict(type="str", default="odoo-hipaa-aide-check.timer"),
    log_shipping_config=dict(type="str", default="/etc/rsyslog.conf"),
    log_retention_file=dict(type="str", default="/etc/logrotate.d/odoo-hipaa-log-aggregator"),
    log_seal_tool=dict(type="str", default="/usr/local/sbin/odoo-hipaa-log-seal"),
    log_seal_config=dict(type="str", default="/etc/odoo-hipaa-log-seal/seal.json"),
    log_seal_state_dir=dict(type="str", default="/var/lib/odoo-hipaa-log-seal"),
    log_seal_anchors=dict(type="list", elements="str", default=[], no_log=False),
    acme_server=dict(type="str", default=""),
    acme_cert_name=dict(type="str", default="odoo-hipaa"),
    acme_deploy_hook=dict(type="str", default="/usr/local/sbin/odoo-hipaa-acme-deploy"),
    acme_state_dir=dict(type="str", default="/var/lib/odoo-hipaa-acme"),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type="list", elements="str", required=True),
            settings=dict(type="dict", default={}, options=SETTINGS_SPEC),
            waivers=dict(type="list", elements="dict", default=[], options=dict(
                check=dict(type="str", required=True), reason=dict(type="str", required=True))),
        ),
        supports_check_mode=True,
    )
    unknown = [c for c in module.params["checks"] + [w["check"] for w in module.params["waivers"]]
               if c not in CHECKS]
    if unknown:
        module.fail_json(msg="unknown checks: %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(CHECKS))))
    if any(not w["reason"].strip() for w in module.params["waivers"]):
        module.fail_json(msg="every waiver needs a written reason")

    def run(argv):
        try:
            return module.run_command(argv, environ_update={"LC_ALL": "C"}, handle_exceptions=False)
        except OSError as exc:  # the tool is not installed: no proof, the check fails
            return 127, "", "%s: %s" % (argv[0], exc.strerror)

    ctx = Context(run, module.params["settings"])
    module.exit_json(changed=False, rows=evaluate(CHECKS, ctx, module.params["checks"], module.params["waivers"]))


if __name__ == "__main__":
    main()
