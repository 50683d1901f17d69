"""Unit tests for the backup server's off-site retention job
(roles/backup_server/files/odoo_hipaa_offsite_retention.py): the decisions
without restic, then main() end to end against a fake restic on PATH, and,
when restic is installed, against a real throwaway repository."""

import datetime as dt
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

_PATH = (pathlib.Path(__file__).resolve().parents[2] / "roles" / "backup_server" / "files"
         / "odoo_hipaa_offsite_retention.py")
_spec = importlib.util.spec_from_file_location("odoo_hipaa_offsite_retention", _PATH)
job = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(job)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery-staple-4711"
KEEP = {"daily": "14d", "weekly": "56d", "monthly": "24m", "yearly": "6y"}


# --------------------------------------------------------------------------
# restic's snapshot times
# --------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2026-12-02T01:30:05Z", dt.datetime(2026, 12, 2, 1, 30, 5, tzinfo=UTC)),
    ("2026-12-02T01:30:05+00:00", dt.datetime(2026, 12, 2, 1, 30, 5, tzinfo=UTC)),
    ("2026-12-02T01:30:05-05:00", dt.datetime(2026, 12, 2, 6, 30, 5, tzinfo=UTC)),
    ("2026-12-02T01:30:05+05:30", dt.datetime(2026, 12, 1, 20, 0, 5, tzinfo=UTC)),
    ("2026-12-02T01:30:05.123456789+00:00", dt.datetime(2026, 12, 2, 1, 30, 5, 123456, tzinfo=UTC)),
    ("2026-12-02T01:30:05.123456789Z", dt.datetime(2026, 12, 2, 1, 30, 5, 123456, tzinfo=UTC)),
    ("2026-12-02T01:30:05.5-05:00", dt.datetime(2026, 12, 2, 6, 30, 5, 500000, tzinfo=UTC)),
    ("2100-01-01T00:00:00.000000001+01:00", dt.datetime(2099, 12, 31, 23, 0, 0, tzinfo=UTC)),
])
def test_parse_restic_time(text, expected):
    parsed = job.parse_restic_time(text)
    assert parsed.tzinfo is not None
    assert parsed == expected


def test_parse_restic_time_keeps_the_offset():
    assert job.parse_restic_time("2026-12-02T01:30:05.999999999-05:00").utcoffset() == dt.timedelta(hours=-5)


@pytest.mark.parametrize("text", ["", "garbage", "2026-12-02T01:30:05",  # no zone: ambiguous
                                  "2026-12-02", "2026-13-02T01:30:05Z", "2026-12-02T01:30:05+25:00",
                                  "0000-01-01T00:00:00Z", None, 1764639005])
def test_parse_restic_time_rejects_what_is_not_a_time(text):
    with pytest.raises(ValueError):
        job.parse_restic_time(text)


# --------------------------------------------------------------------------
# The future-snapshot rule
# --------------------------------------------------------------------------

def _snap(sid, time, host="erp-app-01"):
    return {"id": sid * 8, "short_id": sid, "time": time, "hostname": host, "paths": ["/srv"],
            "tags": ["odoo-hipaa"]}


def test_snapshots_within_the_tolerance_pass():
    snaps = [_snap("aaaa1111", "2026-12-01T01:30:05.123456789+00:00"),
             _snap("bbbb2222", "2026-12-02T12:59:59.999999999+00:00"),   # 59 min ahead: clock skew
             _snap("cccc3333", "2026-12-02T07:59:00-05:00")]              # 12:59 UTC
    assert job.future_snapshots(snaps, NOW, 3600) == []


def test_a_snapshot_beyond_the_tolerance_refuses_and_is_named():
    forged = _snap("dead0001", "2100-01-01T00:00:00+00:00", host="erp-app-01")
    just_over = _snap("dead0002", "2026-12-02T13:00:01Z")
    snaps = [_snap("aaaa1111", "2026-12-01T01:30:05Z"), forged, just_over]
    assert job.future_snapshots(snaps, NOW, 3600) == [forged, just_over]
    assert job.future_snapshots(snaps, NOW, 0) == [forged, just_over]
    assert job.refusal_line(forged) == (
        "OFFSITE RETENTION REFUSED: snapshot dead0001 of erp-app-01 dated 2100-01-01T00:00:00+00:00 "
        "is in the future; nothing was forgotten")


def test_an_unreadable_snapshot_time_stops_the_job():
    with pytest.raises(job.JobError, match="cannot read the time of snapshot eeee5555.*nothing was forgotten"):
        job.future_snapshots([_snap("eeee5555", "next tuesday")], NOW, 3600)


def test_a_hostile_hostname_cannot_forge_log_lines():
    line = job.refusal_line(_snap("dead0001", "2100-01-01T00:00:00Z", host="x\n<6>OFFSITE RETENTION OK: all fine"))
    assert "\n" not in line
    assert "x\\x0a<6>OFFSITE" in line


def test_short_id_falls_back_to_the_id():
    assert job.short_id({"id": "0123456789abcdef"}) == "01234567"


# --------------------------------------------------------------------------
# forget's arguments
# --------------------------------------------------------------------------

def test_keep_within_args_in_restic_order_whatever_the_config_order():
    assert job.keep_within_args({"yearly": "6y", "daily": "14d", "monthly": "24m", "weekly": "56d"}) == [
        "--keep-within-daily", "14d", "--keep-within-weekly", "56d",
        "--keep-within-monthly", "24m", "--keep-within-yearly", "6y"]


def test_keep_within_args_only_the_tiers_present():
    assert job.keep_within_args({"monthly": "24m"}) == ["--keep-within-monthly", "24m"]
    assert job.keep_within_args({"daily": "14d", "yearly": None, "weekly": ""}) == ["--keep-within-daily", "14d"]
    assert job.keep_within_args({"hourly": "48h", "yearly": "2y6m"}) == [
        "--keep-within-hourly", "48h", "--keep-within-yearly", "2y6m"]


def test_keep_within_args_accept_the_role_variable_names():
    assert job.keep_within_args({"keep_within_yearly": "6y", "keep_within_daily": "14d"}) == [
        "--keep-within-daily", "14d", "--keep-within-yearly", "6y"]


@pytest.mark.parametrize("keep_within", [{}, None, {"daily": ""}, {"daily": None, "yearly": None}, []])
def test_an_empty_policy_is_refused(keep_within):
    with pytest.raises(job.JobError, match="keep_within"):
        job.keep_within_args(keep_within)


@pytest.mark.parametrize("keep_within, match", [
    ({"daily": "14d", "fortnightly": "1y"}, "unknown keep_within key"),
    ({"daily": "14 days"}, "not a non-zero restic duration"),
    ({"daily": 14}, "not a non-zero restic duration"),
    ({"daily": "0d"}, "not a non-zero restic duration"),
    ({"daily": "14d; rm -rf /"}, "not a non-zero restic duration"),
    ({"daily": "14d", "keep_within_daily": "7d"}, "twice"),
])
def test_a_bad_policy_is_refused(keep_within, match):
    with pytest.raises(job.JobError, match=match):
        job.keep_within_args(keep_within)


def test_forget_args():
    cfg = {"tag": "odoo-hipaa", "keep_within": KEEP}
    assert job.forget_args(cfg) == [
        "forget", "--json", "--tag", "odoo-hipaa", "--group-by", "host,paths",
        "--keep-within-daily", "14d", "--keep-within-weekly", "56d",
        "--keep-within-monthly", "24m", "--keep-within-yearly", "6y"]
    assert job.forget_args(cfg, dry_run=True)[-1] == "--dry-run"
    with pytest.raises(job.JobError, match="keep_within is empty"):
        job.forget_args({"tag": "odoo-hipaa", "keep_within": {}})


# --------------------------------------------------------------------------
# forget's JSON
# --------------------------------------------------------------------------

def test_summarise_forget_with_null_remove():
    groups = [{"host": "a", "paths": ["/x"], "keep": [_snap("k1", "t"), _snap("k2", "t")], "remove": None},
              {"host": "a", "paths": ["/y"], "keep": [_snap("k3", "t")], "remove": [_snap("r1", "t")]},
              {"host": "b", "paths": ["/y"], "keep": None, "remove": [_snap("r2", "t"), _snap("r3", "t")]}]
    assert job.summarise_forget(groups) == {"groups": 3, "kept": 3, "removed": 3}
    assert [s["short_id"] for s in job.judged_snapshots(groups)] == ["k1", "k2", "k3", "r1", "r2", "r3"]


def test_summarise_forget_of_nothing():
    assert job.summarise_forget(None) == {"groups": 0, "kept": 0, "removed": 0}
    assert job.summarise_forget([]) == {"groups": 0, "kept": 0, "removed": 0}
    with pytest.raises(job.JobError, match="unexpected JSON"):
        job.summarise_forget({"keep": []})


def test_parse_json_output_tolerates_a_stray_line():
    assert job.parse_json_output('[{"keep": [], "remove": null}]\n', "forget") == [{"keep": [], "remove": None}]
    assert job.parse_json_output('Applying Policy: ...\n[{"keep": [], "remove": null}]\n', "forget") == [
        {"keep": [], "remove": None}]
    assert job.parse_json_output("", "forget") is None
    with pytest.raises(job.JobError, match="restic forget printed no JSON: oops"):
        job.parse_json_output("oops", "forget")


# --------------------------------------------------------------------------
# Configuration and credentials
# --------------------------------------------------------------------------

def test_password_file_from_the_configuration_wins(tmp_path):
    pw = tmp_path / "client.pass"
    with pytest.raises(job.JobError, match="missing or unreadable"):
        job.password_file({}, {"password_file": str(pw)})
    pw.write_text("x\n")
    assert job.password_file({"CREDENTIALS_DIRECTORY": "/nowhere"}, {"password_file": str(pw)}) == str(pw)
    with pytest.raises(job.JobError, match="absolute path"):
        job.password_file({}, {"password_file": "client.pass"})


def test_password_file_needs_the_credentials_directory(tmp_path):
    with pytest.raises(job.JobError, match="CREDENTIALS_DIRECTORY is not set"):
        job.password_file({})
    with pytest.raises(job.JobError, match="restic.pass is missing"):
        job.password_file({"CREDENTIALS_DIRECTORY": str(tmp_path)})
    (tmp_path / "restic.pass").write_text(PASSWORD)
    assert job.password_file({"CREDENTIALS_DIRECTORY": str(tmp_path)}) == str(tmp_path / "restic.pass")


def _config(tmp_path, **over):
    repo = tmp_path / "srv" / "restic-erp-app-01" / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    cfg = {"client": "erp-app-01", "repository": str(repo), "keep_within": dict(KEEP),
           "future_tolerance_seconds": 3600, "state_dir": str(tmp_path / "state"),
           "cache_dir": str(tmp_path / "cache"), "tag": "odoo-hipaa"}
    cfg.update(over)
    path = tmp_path / "erp-app-01.json"
    path.write_text(json.dumps(cfg))
    return path


@pytest.mark.parametrize("over, match", [
    ({"keep_within": {}}, "keep_within is empty"),
    ({"repository": "rest:https://x/"}, "repository must be an absolute path"),
    ({"future_tolerance_seconds": -1}, "future_tolerance_seconds"),
    ({"future_tolerance_seconds": True}, "future_tolerance_seconds"),
    ({"tag": "a,b"}, "tag must be one restic tag"),
    ({"client": ""}, "client must be"),
])
def test_load_config_refuses_a_bad_configuration(tmp_path, over, match):
    with pytest.raises(job.JobError, match=match):
        job.load_config(str(_config(tmp_path, **over)))


def test_load_config_defaults(tmp_path):
    path = _config(tmp_path)
    raw = json.loads(path.read_text())
    del raw["tag"], raw["future_tolerance_seconds"]
    path.write_text(json.dumps(raw))
    cfg = job.load_config(str(path))
    assert cfg["tag"] == "odoo-hipaa" and cfg["future_tolerance_seconds"] == 3600


# --------------------------------------------------------------------------
# main() end to end, with a fake restic first on PATH
# --------------------------------------------------------------------------

FAKE_RESTIC = r'''#!{python}
import json, os, pathlib, sys
d = pathlib.Path(os.environ["FAKE_RESTIC_DIR"])
argv = sys.argv[1:]
cmd = next((a for a in argv if a in ("unlock", "snapshots", "forget", "prune", "check")), None)
pw_file = os.environ.get("RESTIC_PASSWORD_FILE")
with open(d / "calls.jsonl", "a") as fh:
    fh.write(json.dumps({{"cmd": cmd, "argv": argv, "password_file": pw_file,
                         "password_readable": bool(pw_file) and pathlib.Path(pw_file).read_text() == {password!r},
                         "password_env": [k for k in os.environ if k in ("RESTIC_PASSWORD", "RESTIC_PASSWORD_COMMAND")]}}) + "\n")
if (d / ("fail-" + str(cmd))).exists():
    sys.stderr.write("some progress\nFatal: " + (d / ("fail-" + str(cmd))).read_text() + "\n")
    sys.exit(1)
if (d / (str(cmd) + ".json")).exists():
    sys.stdout.write((d / (str(cmd) + ".json")).read_text())
'''


def _iso(delta):
    """restic's format: nanoseconds and an offset."""
    return (dt.datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123+00:00"


class Fake:
    def __init__(self, tmp_path, monkeypatch):
        self.dir = tmp_path / "fake"
        self.dir.mkdir()
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        restic = bin_dir / "restic"
        restic.write_text(FAKE_RESTIC.format(python=sys.executable, password=PASSWORD))
        restic.chmod(0o755)
        self.creds = tmp_path / "credentials"
        self.creds.mkdir()
        (self.creds / "restic.pass").write_text(PASSWORD)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        monkeypatch.setenv("FAKE_RESTIC_DIR", str(self.dir))
        monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(self.creds))
        monkeypatch.setenv("RESTIC_PASSWORD", "must-not-reach-restic")
        self.config = _config(tmp_path)
        self.state = tmp_path / "state"

    def answer(self, cmd, data):
        (self.dir / f"{cmd}.json").write_text(json.dumps(data))

    def fail(self, cmd, message):
        (self.dir / f"fail-{cmd}").write_text(message)

    def calls(self):
        path = self.dir / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def last(self):
        return json.loads((self.state / "last.json").read_text())

    def history(self):
        return [json.loads(line) for line in (self.state / "history.jsonl").read_text().splitlines()]


@pytest.fixture
def fake(tmp_path, monkeypatch):
    return Fake(tmp_path, monkeypatch)


GENUINE = [_snap("aaaa0001", _iso(dt.timedelta(days=-400))),
           _snap("aaaa0002", _iso(dt.timedelta(days=-1))),
           _snap("aaaa0003", _iso(dt.timedelta(minutes=-5)))]


def test_main_refuses_a_snapshot_from_the_future(fake, capsys):
    forged = _snap("f0f0f0f0", "2100-01-01T00:00:00.000000000+00:00", host="erp-app-01")
    fake.answer("snapshots", GENUINE + [forged])
    assert job.main(["--config", str(fake.config)]) == 1
    assert [c["cmd"] for c in fake.calls()] == ["unlock", "snapshots"]  # never forget, never prune
    line = ("OFFSITE RETENTION REFUSED: snapshot f0f0f0f0 of erp-app-01 dated 2100-01-01T00:00:00.000000000+00:00 "
            "is in the future; nothing was forgotten")
    assert f"<3>{line}\n" in capsys.readouterr().out
    last = fake.last()
    assert last["result"] == "refused" and last["message"] == line
    assert last["removed"] == 0 and last["snapshots_before"] == 4
    assert fake.history() == [last]
    assert (fake.state / "last.json").stat().st_mode & 0o777 == 0o600


def test_main_ok_runs_forget_prune_check_with_the_credential(fake, capsys):
    fake.answer("snapshots", GENUINE)
    fake.answer("forget", [{"host": "erp-app-01", "paths": ["/srv"], "tags": ["odoo-hipaa"],
                            "keep": GENUINE[1:], "remove": GENUINE[:1], "reasons": []}])
    assert job.main(["--config", str(fake.config)]) == 0
    calls = fake.calls()
    assert [c["cmd"] for c in calls] == ["unlock", "snapshots", "forget", "prune", "check"]
    repo = json.loads(fake.config.read_text())["repository"]
    for call in calls:
        assert call["password_file"] == str(fake.creds / "restic.pass")
        assert call["password_readable"] is True
        assert call["password_env"] == []          # RESTIC_PASSWORD from the caller is dropped
        assert not any(PASSWORD in a for a in call["argv"])
        assert call["argv"][:4] == ["--repo", repo, "--cache-dir", str(fake.config.parent / "cache")]
    assert calls[1]["argv"][4:] == ["--json", "snapshots"]
    assert calls[2]["argv"][4:] == [
        "forget", "--json", "--tag", "odoo-hipaa", "--group-by", "host,paths",
        "--keep-within-daily", "14d", "--keep-within-weekly", "56d",
        "--keep-within-monthly", "24m", "--keep-within-yearly", "6y"]
    assert calls[3]["argv"][4:] == ["prune"]
    assert calls[4]["argv"][4:] == ["check"]          # no --read-data
    out = capsys.readouterr().out
    assert "<6>OFFSITE RETENTION OK: erp-app-01: kept 2, removed 1 snapshots; pruned; check clean\n" in out
    assert PASSWORD not in out and str(fake.creds) not in out
    last = fake.last()
    assert {k: last[k] for k in ("result", "client", "repository", "kept", "removed", "snapshots_before")} == {
        "result": "ok", "client": "erp-app-01", "repository": repo, "kept": 2, "removed": 1,
        "snapshots_before": 3}
    assert dt.datetime.fromisoformat(last["time"]).utcoffset() == dt.timedelta(0)
    assert last["message"] == "OFFSITE RETENTION OK: erp-app-01: kept 2, removed 1 snapshots; pruned; check clean"
    assert fake.history() == [last]


def test_main_failing_prune_is_failed(fake, capsys):
    fake.answer("snapshots", GENUINE)
    fake.answer("forget", [{"keep": GENUINE, "remove": None}])
    fake.fail("prune", "unable to create lock in backend: repository is already locked")
    assert job.main(["--config", str(fake.config)]) == 1
    assert [c["cmd"] for c in fake.calls()] == ["unlock", "snapshots", "forget", "prune"]  # no check
    msg = ("OFFSITE RETENTION FAILED: erp-app-01: restic prune failed: "
           "Fatal: unable to create lock in backend: repository is already locked")
    assert f"<3>{msg}\n" in capsys.readouterr().out
    last = fake.last()
    assert last["result"] == "failed" and last["message"] == msg
    assert last["kept"] == 3 and last["removed"] == 0


def test_main_failing_check_is_failed(fake):
    fake.answer("snapshots", GENUINE)
    fake.answer("forget", [{"keep": GENUINE, "remove": None}])
    fake.fail("check", "check found errors")
    assert job.main(["--config", str(fake.config)]) == 1
    assert fake.last()["message"].endswith("restic check failed: Fatal: check found errors")


def test_main_with_no_snapshot_has_nothing_to_do(fake, capsys):
    fake.answer("snapshots", [])
    assert job.main(["--config", str(fake.config)]) == 0
    assert [c["cmd"] for c in fake.calls()] == ["unlock", "snapshots"]
    assert "<6>OFFSITE RETENTION OK: erp-app-01: the repository holds no snapshot; nothing to do" in (
        capsys.readouterr().out)
    assert fake.last()["result"] == "ok" and fake.last()["snapshots_before"] == 0


def test_main_refuses_when_a_future_snapshot_arrives_during_forget(fake, capsys):
    forged = _snap("f0f0f0f0", "2100-01-01T00:00:00Z")
    fake.answer("snapshots", GENUINE)
    fake.answer("forget", [{"keep": [forged], "remove": GENUINE}])
    assert job.main(["--config", str(fake.config)]) == 1
    assert [c["cmd"] for c in fake.calls()] == ["unlock", "snapshots", "forget"]  # no prune
    last = fake.last()
    assert last["result"] == "refused" and last["removed"] == 3
    assert "prune was skipped" in last["message"]
    assert "<3>OFFSITE RETENTION REFUSED: snapshot f0f0f0f0" in capsys.readouterr().out


def test_main_dry_run_forgets_nothing_and_writes_no_state(fake, capsys):
    fake.answer("snapshots", GENUINE)
    fake.answer("forget", [{"keep": GENUINE[1:], "remove": GENUINE[:1]}])
    assert job.main(["--config", str(fake.config), "--dry-run"]) == 0
    calls = fake.calls()
    assert [c["cmd"] for c in calls] == ["unlock", "snapshots", "forget", "check"]
    assert calls[2]["argv"][-1] == "--dry-run"
    out = capsys.readouterr().out
    assert "OFFSITE RETENTION DRY RUN: erp-app-01: would keep 2, remove 1 snapshots; not pruned" in out
    assert "would forget aaaa0001" in out
    assert not fake.state.exists()


def test_main_without_credentials_directory_fails_before_restic(fake, monkeypatch, capsys):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    assert job.main(["--config", str(fake.config)]) == 1
    assert fake.calls() == []
    assert "<3>OFFSITE RETENTION FAILED: erp-app-01: CREDENTIALS_DIRECTORY is not set" in capsys.readouterr().out
    assert fake.last()["result"] == "failed"


def test_main_with_a_bad_config_fails_without_state(fake, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert job.main(["--config", str(bad)]) == 1
    assert "<3>OFFSITE RETENTION FAILED: " in capsys.readouterr().out
    assert fake.calls() == []


def test_main_appends_to_the_history(fake):
    fake.answer("snapshots", GENUINE)
    fake.answer("forget", [{"keep": GENUINE, "remove": None}])
    assert job.main(["--config", str(fake.config)]) == 0
    fake.fail("prune", "boom")
    assert job.main(["--config", str(fake.config)]) == 1
    assert [h["result"] for h in fake.history()] == ["ok", "failed"]
    assert not list(fake.state.glob("*.tmp"))


# --------------------------------------------------------------------------
# Against a real restic, when one is installed
# --------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("restic") is None, reason="restic is not installed")
def test_against_a_real_repository(tmp_path, monkeypatch, capsys):
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "restic.pass").write_text(PASSWORD)
    data = tmp_path / "data"
    data.mkdir()
    (data / "file").write_text("patient data stand-in\n")
    config = _config(tmp_path, keep_within={"daily": "14d"})
    repo = json.loads(config.read_text())["repository"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")}
    env.update(RESTIC_PASSWORD_FILE=str(creds / "restic.pass"), RESTIC_CACHE_DIR=str(tmp_path / "cache"))

    def restic(*args):
        return subprocess.run(["restic", "--repo", repo, *args], env=env, check=True, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout

    def snapshot_ids():
        return {s["short_id"]: s["time"] for s in json.loads(restic("--json", "snapshots") or "[]")}

    restic("init")
    old = (dt.datetime.now() - dt.timedelta(days=100)).strftime("%Y-%m-%d %H:%M:%S")
    restic("backup", "--tag", "odoo-hipaa", "--host", "erp-app-01", "--time", old, str(data))
    restic("backup", "--tag", "odoo-hipaa", "--host", "erp-app-01", str(data))
    restic("backup", "--tag", "odoo-hipaa", "--host", "erp-app-01", "--time", "2100-01-01 00:00:00", str(data))
    before = snapshot_ids()
    assert len(before) == 3
    forged = next(sid for sid, time in before.items() if time.startswith("2100-") or time.startswith("2099-"))

    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.delenv("RESTIC_PASSWORD_FILE", raising=False)
    assert job.main(["--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"<3>OFFSITE RETENTION REFUSED: snapshot {forged} of erp-app-01 dated 2" in out
    state = tmp_path / "state"
    assert json.loads((state / "last.json").read_text())["result"] == "refused"
    assert snapshot_ids() == before  # nothing forgotten, although the forged one makes the others "old"

    restic("forget", forged)  # the operator removes the forged snapshot
    assert job.main(["--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "<6>OFFSITE RETENTION OK: erp-app-01: kept 1, removed 1 snapshots; pruned; check clean" in out
    last = json.loads((state / "last.json").read_text())
    assert (last["result"], last["kept"], last["removed"], last["snapshots_before"]) == ("ok", 1, 1, 2)
    assert len(snapshot_ids()) == 1
    assert PASSWORD not in out
