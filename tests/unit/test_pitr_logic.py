"""Unit tests for the PITR drill's and verify wrapper's decisions
(roles/pgbackrest/files/odoo_hipaa_pitr.py), without PostgreSQL or pgBackRest."""

import importlib.util
import pathlib

_PATH = pathlib.Path(__file__).resolve().parents[2] / "roles" / "pgbackrest" / "files" / "odoo_hipaa_pitr.py"
_spec = importlib.util.spec_from_file_location("odoo_hipaa_pitr", _PATH)
pitr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pitr)

CONTROLDATA = """pg_control version number:            1300
max_connections setting:              100
max_worker_processes setting:         8
max_wal_senders setting:              10
max_prepared_xacts setting:           0
max_locks_per_xact setting:           64
track_commit_timestamp setting:       off
"""


def test_the_standby_settings_come_from_pg_controldata():
    assert pitr.controldata_settings(CONTROLDATA) == {
        "max_connections": 100, "max_worker_processes": 8, "max_wal_senders": 10,
        "max_prepared_transactions": 0, "max_locks_per_transaction": 64}


def test_the_scratch_instance_is_sterile():
    conf = pitr.scratch_conf(5499, "/srv/backup/pitr-drill/r/run", {"max_connections": 100})
    assert "listen_addresses = ''" in conf and "archive_mode = off" in conf and "port = 5499" in conf
    assert "unix_socket_directories = '/srv/backup/pitr-drill/r/run'" in conf and "jit = off" in conf
    assert "max_connections = 100" in conf


def test_only_a_plain_segment_name_proves_archiving():
    assert pitr.archived("000000010000000000000007", "000000010000000000000007")
    assert pitr.archived("000000010000000000000008", "000000010000000000000007")
    assert not pitr.archived("000000010000000000000006", "000000010000000000000007")
    assert not pitr.archived("00000002.history", "000000010000000000000007")
    assert not pitr.archived("000000010000000000000009.partial", "000000010000000000000007")
    assert not pitr.archived("", "000000010000000000000007")


def test_verify_problems_are_read_from_the_text_report():
    clean = "stanza: odoo\n    status: ok\n"
    assert pitr.verify_problems(clean) == []
    bad = ("stanza: odoo\nstatus: error\n  archiveId: 15-1, total WAL checked: 26, total valid WAL: 25\n"
           "    missing: 0, checksum invalid: 1, size invalid: 0, other: 0\n")
    problems = pitr.verify_problems(bad)
    assert "status: error" in problems and any("checksum invalid: 1" in p for p in problems)


def test_server_times_are_read_as_utc():
    t = pitr.parse_ts("2026-12-02 23:10:01.123456+00")
    assert (t.hour, t.minute, t.microsecond, t.utcoffset().total_seconds()) == (23, 10, 123456, 0)


def test_a_cluster_standby_records_a_skip_and_touches_nothing(monkeypatch):
    """On a Patroni member in recovery the drill writes no marker and restores
    nothing: it records "skipped" with the cluster's name (what the evidence
    row accepts only while the member is a standby)."""
    asked = []

    def fake_psql(cfg, sql, database=None, socket=None, port=None):
        asked.append(sql)
        return "t" if "pg_is_in_recovery" in sql else ""
    monkeypatch.setattr(pitr, "psql", fake_psql)
    result = pitr.job_drill({"cluster": "erp-rack1", "drill_database": "odoo_hipaa_pitr"})
    assert result["result"] == "skipped" and result["cluster"] == "erp-rack1", result
    assert asked == ["SELECT pg_is_in_recovery()"]
    # a single host (no cluster) never asks: it always drills
    asked.clear()

    def first_query_stops(cfg, sql, database=None, socket=None, port=None):
        asked.append(sql)
        raise pitr.JobError("stop here")
    monkeypatch.setattr(pitr, "psql", first_query_stops)
    try:
        pitr.job_drill({"cluster": "", "drill_database": "odoo_hipaa_pitr"})
    except pitr.JobError:
        pass
    assert asked and "pg_is_in_recovery" not in asked[0]
