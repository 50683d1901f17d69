# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's control limits, in one place.

The roles' validation reads them through the lookup plugin
``onprem.odoo_hipaa.hipaa_limit`` (controller side) and the evidence module
imports them (host side), so what a role accepts and what the evidence report
passes can never disagree. Change a limit here and both follow.
"""

from __future__ import annotations

LIMITS = {
    # §164.312(a)(2)(iii) automatic logoff (seconds).
    "odoo_session_idle_timeout_min": 60,
    "odoo_session_idle_timeout_max": 900,           # above it: a written waiver
    "odoo_session_idle_timeout_ceiling": 86400,     # never, waiver or not
    "odoo_session_absolute_lifetime_max": 28800,    # 8 h; above it: a written waiver
    "odoo_session_absolute_lifetime_ceiling": 604800,
    # §164.312(d): the remember-this-device cookie skips the second factor.
    "odoo_mfa_trusted_device_days_max": 1,          # above it: a written waiver
    # §164.312(a)(1), §164.312(d): Odoo's master password hash.
    "odoo_admin_passwd_rounds_min": 600000,
    # §164.308(a)(5)(ii)(C): Odoo's login cooldown (0 failures turns it off).
    "odoo_login_cooldown_after_max": 10,
    "odoo_login_cooldown_duration_min": 30,
    # §164.308(a)(5)(ii)(D): password management.
    "odoo_password_min_length": 12,
    # §164.312(e)(1): HSTS.
    "hsts_min_age": 31536000,
    "hsts_include_subdomains": True,
    # §164.312(a)(1): the narrowest networks a service may be opened to (the
    # database manager, a PostgreSQL TCP client); broader ones need a waiver.
    "allowed_network_min_prefix_v4": 16,
    "allowed_network_min_prefix_v6": 48,
    # §164.308(a)(1)(ii)(B): the highest `systemd-analyze security` exposure
    # each sandboxed service may have (postgresql@ means every cluster unit).
    # The HA rack (#18): etcd needs a majority, so an odd number of at least
    # three members (fewer only with a written waiver); Patroni's leader key
    # lives at most this long (a cut-off primary demotes within it).
    "ha_etcd_members_min": 3,
    "ha_patroni_ttl_max": 60,
    "sandbox_exposure_max": {
        "odoo.service": 2.5,
        "nginx.service": 5.0,
        # The HA rack's backend listener on each Odoo node (role nginx): the
        # same nginx and sandbox, facing the rack network.
        "odoo-hipaa-nginx-backend.service": 5.0,
        "postgresql@": 5.0,
        # The HA rack (#18): Patroni starts as postgres with no capability at
        # all; etcd faces the rack network with TLS and client certificates.
        "patroni@": 5.0,
        "etcd.service": 3.0,
        # The entries' shared address (role entry_vip): keepalived keeps only
        # the network capabilities and those to run its check unprivileged.
        "keepalived.service": 3.5,
        "rsyslog.service": 5.0,
        # The backup units hold the filestore, the dump and the repository
        # password: run as root, they are bounded to 2.3 (roles/backup).
        "odoo-hipaa-backup.service": 3.0,
        "odoo-hipaa-backup-check.service": 3.0,
        "odoo-hipaa-restore-drill.service": 3.0,
        # The backup server: each client's append-only REST service (it faces
        # the network) and the retention job (role backup_server).
        "odoo-hipaa-restic-rest@": 3.0,
        "odoo-hipaa-offsite-retention@": 3.0,
        # PITR (role pgbackrest): backups, verify and the drill run as postgres.
        "odoo-hipaa-pgbackrest-full.service": 3.0,
        "odoo-hipaa-pgbackrest-diff.service": 3.0,
        "odoo-hipaa-pgbackrest-verify.service": 3.0,
        "odoo-hipaa-pitr-drill.service": 3.0,
        # With a repository host: pgBackRest's TLS server on both ends (it faces
        # the network), and the repository host's per-stanza backups and verify.
        "odoo-hipaa-pgbackrest-server.service": 3.0,
        "odoo-hipaa-pgbackrest-full@": 3.0,
        "odoo-hipaa-pgbackrest-diff@": 3.0,
        "odoo-hipaa-pgbackrest-verify@": 3.0,
        # The aggregator's seal (role log_shipping): root with four capabilities,
        # no network; it reads every stored log and makes the closed ones immutable.
        "odoo-hipaa-log-seal.service": 3.0,
        "odoo-hipaa-log-seal-verify.service": 3.0,
        # ACME renewal (role nginx, nginx_tls_source: acme): Debian's certbot.service
        # with the role's drop-in; it talks to the ACME server and writes /etc/letsencrypt.
        "certbot.service": 2.5,
        # The audit-log review (role privacy_review): its own unprivileged user,
        # read-only on the database (the database half) or on the log store.
        "odoo-hipaa-privacy-review-db.service": 3.0,
        "odoo-hipaa-privacy-review.service": 3.0,
    },
    # §164.308(a)(1)(ii)(D): a review is due for each whole period (weekly or
    # monthly, role privacy_review); the evidence report allows this many days
    # after the period's end before the missing review turns the row red.
    "privacy_review_grace_days": 3,
    # §164.316(b)(2)(i) six years; §164.308(a)(7)(ii)(A): backup retention
    # below these needs a written waiver (roles backup and backup_server).
    "backup_retention_min_years": 6,
    "backup_retention_min_days": 7,
    # §164.308(a)(7)(ii)(A): the backup server's retention of the off-site
    # (append-only) repositories ran within this many days.
    "offsite_retention_max_age_days": 8,
    # A snapshot dated further ahead than this stops the off-site retention.
    "offsite_future_snapshot_tolerance_max": 86400,
    # §164.308(a)(7)(ii)(A) point-in-time recovery (role pgbackrest): WAL is
    # archived at least this often (seconds; above the max a waiver, never
    # above the ceiling); the last archived WAL may be at most rpo_target old
    # while WAL waits; the PITR window; the weekly drill's age.
    "pitr_archive_timeout_max": 300,
    "pitr_archive_timeout_ceiling": 3600,
    "pitr_rpo_target_max": 300,
    "pitr_retention_days_min": 7,
    "pitr_drill_max_age_days": 8,
    # §164.312(b), §164.312(c)(1) sealed logs on the aggregator (role
    # log_shipping): the six-year store, a closed file left unsealed at most
    # this many hours, and the full (every file hashed) verify's age.
    "log_retention_days_min": 2190,
    "log_seal_max_unsealed_hours": 36,
    "log_seal_full_verify_max_age_days": 8,
    # §164.312(e)(1): the served TLS certificate has at least this many days
    # left (a certificate whose whole lifetime is shorter than three times this:
    # a third of its lifetime); the nginx role refuses a smaller margin.
    "tls_cert_min_days_left": 14,
    # The go-live gate (playbooks/golive.yml): an administrative attestation
    # older than this is red. §164.308(a)(1)(ii)(A) risk analysis,
    # §164.308(a)(5) training, §164.308(a)(1)(ii)(C) sanction policy,
    # §164.308(a)(6) incident procedures (the breach runbook's tabletop).
    "golive_attestation_max_age_days": {"risk_analysis": 365, "training": 365, "sanction_policy": 365,
                                        "breach_tabletop": 365},
    # A written waiver is at least this long.
    "waiver_min_length": 20,
}


def limit(name):
    """The named limit; a KeyError names an unknown one."""
    return LIMITS[name]
