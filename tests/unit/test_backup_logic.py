"""Unit tests for the decisions the backup job and restore drill make
(roles/backup/files/odoo_hipaa_backup.py), without restic or PostgreSQL."""

import importlib.util
import json
import pathlib
import shutil
import subprocess

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


# --------------------------------------------------------------------------
# Components (backup_components): database, filestore, or both
# --------------------------------------------------------------------------

def test_components_default_to_both_in_canonical_order():
    assert job.components({}) == ["database", "filestore"]
    assert job.components({"components": ["filestore", "database"]}) == ["database", "filestore"]
    assert job.components({"components": ["filestore"]}) == ["filestore"]


@pytest.mark.parametrize("value, message", [
    ([], "non-empty list"), ("database", "non-empty list"), (None, "non-empty list"),
    (["database", "logs"], "unknown component"),
])
def test_components_refuse_empty_or_unknown(value, message):
    with pytest.raises(job.JobError, match=message):
        job.components({"components": value})


def test_required_kinds_per_component_list():
    assert job.required_kinds(["database", "filestore"]) == {"db", "config"}
    assert job.required_kinds(["database"]) == {"db", "config"}
    assert job.required_kinds(["filestore"]) == {"filestore", "config"}


def test_manifest_components_of_old_and_new_manifests():
    assert job.manifest_components({}) == ["database", "filestore"]  # written before components existed
    assert job.manifest_components({"components": ["filestore"]}) == ["filestore"]


def test_pick_run_takes_the_newest_run_complete_for_the_components():
    snaps = [_snap("r1", "filestore", "2026-01-01"), _snap("r1", "config", "2026-01-01"),
             _snap("r2", "db", "2026-01-02"), _snap("r2", "config", "2026-01-02"),
             _snap("r3", "filestore", "2026-01-03")]  # r3 killed before its config snapshot
    assert job.pick_run(snaps, kinds=job.required_kinds(["filestore"])) == "r1"
    assert job.pick_run(snaps, kinds=job.required_kinds(["database"])) == "r2"
    with pytest.raises(job.JobError, match=r"no complete backup run \(filestore \+ config snapshots\)"):
        job.pick_run(snaps[2:], kinds={"filestore", "config"})


class FakeRestic:
    """restic in memory: backup of paths records a snapshot, dump of the
    config snapshot returns the manifest, restore copies the paths back."""

    snapshots_made: list = []
    commands: list = []

    def __init__(self, cfg, repo):
        self.cfg, self.repo = cfg, repo

    append_only = job.Restic.append_only

    def run(self, args, **kw):
        FakeRestic.commands.append(args)
        stdout = ""
        if args[0] == "backup":
            tags = args[args.index("--tag") + 1].split(",")
            paths = [a for a in args[1:] if a.startswith("/")]
            snap = {"tags": tags, "time": str(len(self.snapshots_made)), "paths": paths,
                    "short_id": "s%d" % len(self.snapshots_made)}
            if "config" in tags:  # restic keeps the manifest as it was
                snap["manifest"] = pathlib.Path(paths[-1]).read_text()
            self.snapshots_made.append(snap)
        elif args[0] == "dump":
            stdout = next(s for s in self.snapshots_made if s["short_id"] == args[1])["manifest"]
        elif args[0] == "restore":
            snap = next(s for s in self.snapshots_made if s["short_id"] == args[1])
            target = args[args.index("--target") + 1]
            for p in snap["paths"]:
                shutil.copytree(p, target + p, ignore=shutil.ignore_patterns("sessions"))
        return subprocess.CompletedProcess(args, 0, stdout, "")

    def snapshots(self, tags=None, host=None):
        return list(self.snapshots_made)


@pytest.fixture
def no_postgresql(monkeypatch):
    """Fails the test if anything starts a process (PostgreSQL's tools run
    only as subprocesses; restic is faked)."""
    FakeRestic.snapshots_made, FakeRestic.commands = [], []
    monkeypatch.setattr(job, "Restic", FakeRestic)

    def refuse(cmd, *a, **kw):
        raise AssertionError(f"a process was started: {cmd}")

    monkeypatch.setattr(job.subprocess, "run", refuse)
    monkeypatch.setattr(job.subprocess, "Popen", refuse)
    monkeypatch.setattr(job, "PsqlSession", refuse)


def _cfg(tmp_path, chosen, filestore):
    return {"host": "erp-app-01", "password_file": "/nonexistent", "state_dir": str(tmp_path / "state"),
            "repositories": [{"name": "local", "url": "/repo"}], "database": "odoo", "components": chosen,
            "filestore_paths": [str(filestore)], "filestore_exclude_names": ["sessions"],
            "config_paths": [], "retention": {"keep_daily": 14},
            "drill_scratch_dir": str(tmp_path / "scratch")}


def _filestore(tmp_path):
    root = tmp_path / "var" / "lib" / "odoo" / "filestore"
    (root / "odoo" / "ab").mkdir(parents=True)
    (root / "odoo" / "ab" / "f1").write_bytes(b"12345")
    (root / "odoo" / "ab" / "f2").write_bytes(b"123")
    (root / "sessions").mkdir()
    (root / "sessions" / "s").write_bytes(b"secret-session")
    return root


def test_filestore_only_backup_and_drill_run_no_postgresql_command(tmp_path, no_postgresql):
    cfg = _cfg(tmp_path, ["filestore"], _filestore(tmp_path))
    result = job.job_backup(cfg)
    assert result["components"] == ["filestore"] and result["filestore"] == {"files": 2, "bytes": 8}
    assert "dump_bytes" not in result and "tables" not in result
    kinds = [[t for t in s["tags"] if t in ("db", "filestore", "config")] for s in FakeRestic.snapshots_made]
    assert kinds == [["filestore"], ["config"]]
    manifest = json.loads((tmp_path / "state" / "manifest.json").read_text())
    assert manifest["components"] == ["filestore"] and "tables" not in manifest and "dump_sha256" not in manifest

    drill = job.job_drill(cfg)
    assert drill["result"] == "ok" and drill["components"] == ["filestore"]
    assert drill["filestore_restored"] == drill["filestore_backed_up"] == {"files": 2, "bytes": 8}
    assert "rows_restored" not in drill and "tables_compared" not in drill
    assert not (tmp_path / "scratch" / drill["run"]).exists()  # scratch removed
    assert job.drill_passed_line(drill["run"], drill).startswith(f"restore drill passed: run {drill['run']}, "
                                                                 "2 files and 8 bytes match, RTO")


def test_an_append_only_repository_gets_copies_but_no_forget_or_prune(tmp_path, no_postgresql):
    """The backup host applies retention to a rest repository (role
    backup_server); the client never asks it to forget or prune."""
    cfg = _cfg(tmp_path, ["filestore"], _filestore(tmp_path))
    cfg["repositories"].append({"name": "offsite", "url": "rest:https://backup1:8101/restic-erp-app-01/repo/",
                                "args": ["--repository-file", "/etc/odoo-hipaa-backup/offsite.repository"],
                                "append_only": True})
    FakeRestic.commands.clear()
    job.job_backup(cfg)
    job.job_check(cfg)
    forgets = [c for c in FakeRestic.commands if c[0] in ("forget", "prune")]
    assert forgets and all(c[0] in ("forget", "prune") for c in forgets)
    assert len([c for c in forgets if c[0] == "forget"]) == 1  # the local repository only
    assert len([c for c in forgets if c[0] == "prune"]) == 1
    assert ["copy"] == sorted({c[0] for c in FakeRestic.commands if c[0] == "copy"})


def test_the_role_s_arguments_select_the_repository(tmp_path):
    repo = {"name": "offsite", "url": "rest:https://backup1:8101/restic-x/repo/",
            "args": ["--repository-file", "/etc/r", "--cacert", "/etc/ca", "--tls-client-cert", "/etc/pem"]}
    r = job.Restic({"password_file": "/p", "host": "h"}, repo)
    assert r.base() == ["restic", "--repository-file", "/etc/r", "--cacert", "/etc/ca", "--tls-client-cert", "/etc/pem"]
    assert r.append_only is False
    legacy = job.Restic({"password_file": "/p", "host": "h"}, {"name": "local", "url": "/srv/backup/restic"})
    assert legacy.base() == ["restic", "--repo", "/srv/backup/restic"]


def test_filestore_only_backup_without_a_filestore_fails(tmp_path, no_postgresql):
    cfg = _cfg(tmp_path, ["filestore"], tmp_path / "missing")
    with pytest.raises(job.JobError, match="no filestore to back up"):
        job.job_backup(cfg)
    assert FakeRestic.snapshots_made == []


def test_database_only_backup_and_drill_never_touch_the_filestore(tmp_path, no_postgresql, monkeypatch):
    filestore = _filestore(tmp_path)
    cfg = _cfg(tmp_path, ["database"], filestore)
    dumped = {"database": "odoo", "tables": {"public.patient": 500, "public.res_partner": 3},
              "dump_sha256": "ab" * 32, "dump_bytes": 4096}

    def fake_dump(cfg_, primary, tags):
        primary.run(["backup", "--json", "--stdin", "--tag", tags + ",db", "/odoo-db-odoo.dump"])
        return dict(dumped)

    restored = []

    def fake_restore(cfg_, repo, snapshot, manifest, database, owner, problems):
        restored.append((snapshot["short_id"], database))
        return dict(manifest["tables"])

    monkeypatch.setattr(job, "backup_database", fake_dump)
    monkeypatch.setattr(job, "restore_database", fake_restore)
    monkeypatch.setattr(job, "backup_filestore", lambda *a, **k: pytest.fail("filestore backed up"))
    dropped = []
    monkeypatch.setattr(job.subprocess, "run", lambda cmd, **kw: dropped.append(cmd))

    result = job.job_backup(cfg)
    assert result["components"] == ["database"] and result["tables"] == 2 and "filestore" not in result
    kinds = [[t for t in s["tags"] if t in ("db", "filestore", "config")] for s in FakeRestic.snapshots_made]
    assert kinds == [["db"], ["config"]]
    assert not any(str(filestore) in " ".join(c) for c in FakeRestic.commands)
    manifest = json.loads((tmp_path / "state" / "manifest.json").read_text())
    assert manifest["components"] == ["database"] and "filestore_paths" not in manifest

    drill = job.job_drill(cfg)
    assert drill["result"] == "ok" and drill["components"] == ["database"]
    assert drill["tables_compared"] == 2 and drill["rows_in_dump"] == drill["rows_restored"] == 503
    assert "filestore_restored" not in drill
    assert restored[0][1].startswith("odoo_hipaa_drill_")
    assert dropped and dropped[0][-1] == restored[0][1]  # the temporary database is dropped
    assert not any(c[0] == "restore" for c in FakeRestic.commands)  # no file restored
    assert job.drill_passed_line(drill["run"], drill).startswith(
        f"restore drill passed: run {drill['run']}, 2 tables and 503 rows match, RTO")


def test_both_components_keep_the_drill_line_and_record(tmp_path):
    outcome = {"manifest": {"tables": {"a": 2}, "filestore": {"files": 1, "bytes": 5}},
               "counts": {"a": 2}, "filestore": {"files": 1, "bytes": 5}}
    summary = job.drill_summary(["database", "filestore"], outcome)
    assert summary == {"components": ["database", "filestore"], "tables_compared": 1, "rows_in_dump": 2,
                       "rows_restored": 2, "filestore_backed_up": {"files": 1, "bytes": 5},
                       "filestore_restored": {"files": 1, "bytes": 5}}
    assert job.drill_passed_line("r1", dict(summary, rto_seconds=1.5)) == (
        "restore drill passed: run r1, 1 tables and 2 rows match, RTO 1.5 s")


def test_restore_refuses_a_component_the_run_does_not_hold(tmp_path, no_postgresql):
    cfg = _cfg(tmp_path, ["filestore"], _filestore(tmp_path))
    job.job_backup(cfg)
    run = job.pick_run(FakeRestic.snapshots_made, kinds={"config"})
    with pytest.raises(job.JobError, match="holds filestore, not database"):
        job.restore_run(dict(cfg, components=["database"]), FakeRestic(cfg, cfg["repositories"][0]), run,
                        "odoo", None, None)


# --- a member of a Patroni cluster -------------------------------------------------

def _in_recovery(monkeypatch, answer):
    """Only psql's pg_is_in_recovery() may run; restic is faked and must not be used on a standby."""
    FakeRestic.snapshots_made, FakeRestic.commands = [], []
    monkeypatch.setattr(job, "Restic", FakeRestic)
    seen = []

    def run(cmd, *a, **kw):
        assert "pg_is_in_recovery()" in " ".join(cmd), f"a process other than the recovery check: {cmd}"
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0 if answer != "error" else 2, answer if answer != "error" else "",
                                           "could not connect" if answer == "error" else "")
    monkeypatch.setattr(job.subprocess, "run", run)
    return seen


@pytest.mark.parametrize("entry, path", [("job_backup", "last-backup.json"), ("job_drill", "drill/last.json")])
def test_a_standby_records_skipped_and_touches_no_repository(tmp_path, monkeypatch, entry, path):
    cfg = dict(_cfg(tmp_path, ["database"], tmp_path / "none"), cluster="erp-rack1", host="erp-rack1")
    seen = _in_recovery(monkeypatch, "t\n")
    result = getattr(job, entry)(cfg)
    assert result["result"] == "skipped" and result["cluster"] == "erp-rack1" and "standby" in result["reason"]
    assert FakeRestic.commands == [] and len(seen) == 1
    assert json.loads((tmp_path / "state" / path).read_text())["result"] == "skipped"


def test_a_member_that_cannot_tell_its_role_fails_rather_than_skips(tmp_path, monkeypatch):
    cfg = dict(_cfg(tmp_path, ["database"], tmp_path / "none"), cluster="erp-rack1", host="erp-rack1")
    _in_recovery(monkeypatch, "error")
    with pytest.raises(job.JobError, match="cannot tell whether this member of cluster erp-rack1 is its primary"):
        job.job_backup(cfg)
    assert not (tmp_path / "state" / "last-backup.json").exists()


def test_outside_a_cluster_no_recovery_check_runs(tmp_path, no_postgresql):
    assert job.standby_reason(_cfg(tmp_path, ["filestore"], tmp_path)) is None
