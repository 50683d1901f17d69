"""Unit tests for the decisions the backup job and restore drill make
(roles/backup/files/odoo_hipaa_backup.py), without restic or PostgreSQL."""

import importlib.util
import pathlib

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[2] / "roles" / "backup" / "files" / "odoo_hipaa_backup.py"
_spec = importlib.util.spec_from_file_location("odoo_hipaa_backup", _PATH)
job = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(job)


def test_equal_counts_have_no_problem():
    assert job.compare_counts({"public.res_partner": 3}, {"public.res_partner": 3}) == []


def test_count_mismatch_missing_and_extra_tables_are_reported():
    problems = job.compare_counts({"public.a": 3, "public.b": 1}, {"public.a": 2, "public.c": 5})
    assert "public.a: 3 rows in the dump, 2 after restore" in problems
    assert any(p.startswith("public.b: missing after restore") for p in problems)
    assert any(p.startswith("public.c: not in the manifest") for p in problems)


def test_tree_stats_and_compare(tmp_path):
    (tmp_path / "filestore" / "ab").mkdir(parents=True)
    (tmp_path / "filestore" / "ab" / "f1").write_bytes(b"12345")
    (tmp_path / "filestore" / "sessions").mkdir()
    (tmp_path / "filestore" / "sessions" / "s").write_bytes(b"x")
    stats = job.tree_stats(str(tmp_path / "filestore"), ("sessions",))
    assert stats == {"files": 1, "bytes": 5}
    assert job.compare_trees(stats, {"files": 1, "bytes": 5}) == []
    assert job.compare_trees(stats, {"files": 0, "bytes": 0}) == [
        "filestore files: 1 backed up, 0 restored", "filestore bytes: 5 backed up, 0 restored"]


def test_retention_args():
    assert job.retention_args({"keep_daily": 7, "keep_yearly": 6, "keep_weekly": 0}) == [
        "--keep-daily", "7", "--keep-yearly", "6"]


def _snap(run, kind, time):
    return {"tags": ["odoo-hipaa", f"run:{run}", kind], "time": time, "short_id": run + kind}


def test_pick_run_takes_the_newest_complete_run():
    snaps = [_snap("r1", "db", "2026-01-01"), _snap("r1", "config", "2026-01-01"),
             _snap("r2", "db", "2026-01-02"), _snap("r2", "config", "2026-01-02"),
             _snap("r3", "db", "2026-01-03")]  # r3 incomplete (killed before config)
    assert job.pick_run(snaps) == "r2"
    assert job.pick_run(snaps, "r1") == "r1"


def test_pick_run_refuses_unknown_or_empty():
    with pytest.raises(job.JobError, match="not found"):
        job.pick_run([_snap("r1", "db", "t"), _snap("r1", "config", "t")], "nope")
    with pytest.raises(job.JobError, match="no complete backup run"):
        job.pick_run([])


def test_snapshot_id_from_restic_json():
    out = '{"message_type":"status"}\n{"message_type":"summary","snapshot_id":"abc123"}\n'
    assert job.snapshot_id(out) == "abc123"
    assert job.snapshot_id("garbage") is None
