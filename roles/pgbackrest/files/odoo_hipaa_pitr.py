#!/usr/bin/python3
# Managed by onprem.odoo_hipaa (role pgbackrest). GPL-3.0-or-later.
"""Point-in-time recovery drill and repository verification with pgBackRest.

    odoo_hipaa_pitr.py [--config FILE] drill    # restore to a point in time into a scratch instance, prove it
    odoo_hipaa_pitr.py [--config FILE] verify   # pgbackrest verify, failing on any invalid file

HIPAA §164.308(a)(7)(ii)(A) data backup plan, (B) disaster recovery and (D)
its testing. Runs as postgres (the unit's User=): psql over the local socket
with peer authentication, pgBackRest reading its own configuration (which
holds the repository's passphrase; nothing secret is on a command line).

The drill writes to its own database (never Odoo's): a marker row committed
between two instants read from the server's clock, t_before and t_after, then
a sentinel row after t_after. Once the WAL holding the sentinel is archived
(the wait is the measured recovery point), it restores the whole cluster to
t_after into a scratch directory, starts a sterile instance there (no TCP,
its own socket, archiving off), and requires the marker present and the
sentinel absent; then to t_before, where the marker must be absent. RTO is
the restore-and-promote time of the first. The scratch directory is emptied
in every case. Result: <state_dir>/drill/last.json and history.jsonl. On a
standby of a Patroni cluster (config "cluster") it records "skipped": the
primary drills the cluster's stanza.

pgbackrest verify exits 0 even when it reports an invalid file, so `verify`
reads its text report and fails on "status: error" (result:
<state_dir>/last-verify.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

DEFAULT_CONFIG = "/etc/odoo-hipaa-pitr/config.json"
# Settings a standby (a recovering instance) must have at least as high as
# the primary; pg_controldata reports the primary's.
CONTROLDATA_SETTINGS = {
    "max_connections setting": "max_connections",
    "max_worker_processes setting": "max_worker_processes",
    "max_wal_senders setting": "max_wal_senders",
    "max_prepared_xacts setting": "max_prepared_transactions",
    "max_locks_per_xact setting": "max_locks_per_transaction",
}
WAL_NAME = re.compile(r"^[0-9A-F]{24}$")
UTC_NOW_SQL = "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"


class JobError(Exception):
    """A failure the operator must see; the message says what failed."""


def log(msg: str, level: int = 6) -> None:
    # The <N> prefix sets the journald priority (3 = err, 6 = info).
    print(f"<{level}>{msg}", flush=True)


# --------------------------------------------------------------------------
# Pure decisions (unit-tested)
# --------------------------------------------------------------------------

def controldata_settings(text: str) -> dict:
    """The standby-critical settings from pg_controldata's output."""
    found = {}
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        if key.strip() in CONTROLDATA_SETTINGS and value.strip().isdigit():
            found[CONTROLDATA_SETTINGS[key.strip()]] = int(value.strip())
    return found


def scratch_conf(port: int, socket_dir: str, settings: dict) -> str:
    lines = [
        "# Written by odoo_hipaa_pitr.py for a PITR drill; removed with the scratch directory.",
        "listen_addresses = ''",
        f"port = {int(port)}",
        f"unix_socket_directories = '{socket_dir}'",
        "shared_buffers = 32MB",
        "jit = off",
        "archive_mode = off",
        "ssl = off",
        "logging_collector = off",
        "shared_preload_libraries = 'pgaudit'",
        "pgaudit.log = 'read, write, ddl'",
    ]
    lines += [f"{name} = {value}" for name, value in sorted(settings.items())]
    return "\n".join(lines) + "\n"


def archived(last_archived_wal: str | None, needed: str) -> bool:
    """Is the segment `needed` (a 24-hex WAL file name) archived, given
    pg_stat_archiver.last_archived_wal? Only plain segment names compare
    (a .history or .partial file says nothing about segments)."""
    if not last_archived_wal or not WAL_NAME.match(last_archived_wal[:24]) or len(last_archived_wal) != 24:
        return False
    return last_archived_wal >= needed


def verify_problems(text: str) -> list[str]:
    """Lines of pgbackrest verify's text report that say something is wrong."""
    problems = []
    for line in text.splitlines():
        counts = [int(n) for n in re.findall(r"(?:missing|invalid|other):\s*(\d+)", line, re.I)]
        if re.search(r"status:\s*error", line, re.I) or any(counts) or re.search(r"\bERROR\b", line):
            problems.append(line.strip())
    return problems


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.strptime(text.strip()[:26], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------
# PostgreSQL and pgBackRest
# --------------------------------------------------------------------------

def run(argv: list[str], what: str, **kw) -> str:
    proc = subprocess.run(argv, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, **kw)
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
        raise JobError(f"{what} failed (exit {proc.returncode}): " + " | ".join(tail))
    return proc.stdout


def psql(cfg: dict, sql: str, database: str | None = None, socket: str | None = None, port: int | None = None) -> str:
    return run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-h", socket or cfg["socket_dir"],
                "-p", str(port or cfg["pg_port"]), "-d", database or cfg["drill_database"], "-c", sql],
               "psql").strip()


def pgbackrest(cfg: dict, *args: str) -> str:
    return run(["pgbackrest", f"--stanza={cfg['stanza']}"] + list(args), "pgbackrest " + args[-1])


class Scratch:
    """A sterile instance restored from the repository into its own directory."""

    def __init__(self, cfg: dict, name: str):
        self.cfg = cfg
        self.dir = os.path.join(cfg["scratch_dir"], name)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "run")
        self.log = os.path.join(self.dir, "postgresql.log")
        self.port = int(cfg.get("scratch_port", 5499))
        self.started = False

    def restore(self, target: str) -> None:
        os.makedirs(self.sock, mode=0o700)
        pgbackrest(self.cfg, f"--pg1-path={self.data}", "--type=time", f"--target={target}",
                   "--target-action=promote", "--archive-mode=off", "restore")
        settings = controldata_settings(run([os.path.join(self.cfg["pg_bin"], "pg_controldata"), self.data],
                                            "pg_controldata"))
        with open(os.path.join(self.data, "postgresql.conf"), "w") as fh:
            fh.write(scratch_conf(self.port, self.sock, settings))
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as fh:
            fh.write("local all postgres peer\n")
        open(os.path.join(self.data, "pg_ident.conf"), "w").close()

    def start(self, timeout: int = 600) -> None:
        run([os.path.join(self.cfg["pg_bin"], "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "300", "start"],
            "pg_ctl start of the scratch instance")
        self.started = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = open(self.log, errors="replace").read() if os.path.exists(self.log) else ""
            if "FATAL" in text:  # e.g. recovery ended before its target: pg_ctl -w had already said "started"
                raise JobError("the scratch instance failed: "
                               + " | ".join(line for line in text.splitlines() if "FATAL" in line)[-400:])
            try:
                if self.sql("SELECT pg_is_in_recovery()", "postgres") == "f":
                    return
            except JobError:
                pass
            time.sleep(0.5)
        raise JobError(f"the scratch instance was not promoted within {timeout} s")

    def sql(self, query: str, database: str) -> str:
        return psql(self.cfg, query, database=database, socket=self.sock, port=self.port)

    def remove(self) -> None:
        if self.started and os.path.exists(os.path.join(self.data, "postmaster.pid")):
            subprocess.run([os.path.join(self.cfg["pg_bin"], "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_archived(cfg: dict, walfile: str) -> str:
    """Wait (no pg_switch_wal: the wait is the measurement) until the segment
    is archived; returns pg_stat_archiver.last_archived_time."""
    deadline = time.monotonic() + 2 * int(cfg["archive_timeout"]) + 60
    while time.monotonic() < deadline:
        wal, at = (psql(cfg, "SELECT coalesce(last_archived_wal, '') || '|' || "
                             "coalesce(to_char(last_archived_time AT TIME ZONE 'UTC', "
                             "'YYYY-MM-DD HH24:MI:SS.US'), '') FROM pg_stat_archiver") + "|").split("|")[:2]
        if archived(wal, walfile):
            return at
        time.sleep(1)
    raise JobError(f"WAL segment {walfile} was not archived within {2 * int(cfg['archive_timeout']) + 60} s: "
                   "is archiving failing? (SELECT * FROM pg_stat_archiver)")


def write_json(path: str, data: dict) -> None:
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)


def append_history(path: str, data: dict) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(data, sort_keys=True) + "\n")


# --------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------

def job_drill(cfg: dict) -> dict:
    if cfg.get("cluster") and psql(cfg, "SELECT pg_is_in_recovery()", database="postgres") == "t":
        # A Patroni member's standby: the primary drills (the same stanza), and
        # a standby promoted since drills at its next run.
        return {"result": "skipped", "cluster": cfg["cluster"], "time": dt.datetime.now(dt.timezone.utc).isoformat(),
                "reason": f"not the primary of the cluster {cfg['cluster']}: the primary drills"}
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    psql(cfg, "CREATE TABLE IF NOT EXISTS marker (id bigserial PRIMARY KEY, run text NOT NULL, "
              "kind text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")
    t_before = psql(cfg, UTC_NOW_SQL)
    time.sleep(1)
    marker_at = psql(cfg, f"INSERT INTO marker (run, kind) VALUES ('{run_id}', 'marker') "
                          "RETURNING to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
    time.sleep(1)
    t_after = psql(cfg, UTC_NOW_SQL)
    time.sleep(1)
    sentinel_at = psql(cfg, f"INSERT INTO marker (run, kind) VALUES ('{run_id}', 'sentinel') "
                            "RETURNING to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
    walfile = psql(cfg, "SELECT pg_walfile_name(pg_current_wal_lsn())")
    archived_at = wait_archived(cfg, walfile)
    rpo = (parse_ts(archived_at) - parse_ts(sentinel_at)).total_seconds()
    log(f"PITR drill {run_id}: marker at {marker_at}, sentinel at {sentinel_at}, WAL {walfile} archived "
        f"at {archived_at} ({rpo:.1f} s later)")

    result = {"run": run_id, "time": dt.datetime.now(dt.timezone.utc).isoformat(), "target_before": t_before,
              "target_after": t_after, "marker_at": marker_at, "rpo_seconds": round(rpo, 1)}
    after = Scratch(cfg, run_id + "-after")
    try:
        started = time.monotonic()
        after.restore(t_after)
        after.start()
        result["rto_seconds"] = round(time.monotonic() - started, 1)
        kinds = set(after.sql(f"SELECT kind FROM marker WHERE run = '{run_id}'", cfg["drill_database"]).split())
        result["marker_present_after"] = "marker" in kinds
        result["sentinel_absent_after"] = "sentinel" not in kinds
        result["databases"] = int(after.sql("SELECT count(*) FROM pg_database WHERE datallowconn", "postgres"))
    finally:
        after.remove()
    before = Scratch(cfg, run_id + "-before")
    try:
        before.restore(t_before)
        before.start()
        result["marker_absent_before"] = before.sql(
            f"SELECT count(*) FROM marker WHERE run = '{run_id}'", cfg["drill_database"]) == "0"
    finally:
        before.remove()
    ok = result["marker_present_after"] and result["sentinel_absent_after"] and result["marker_absent_before"]
    result["result"] = "ok" if ok else "failed"
    return result


def job_verify(cfg: dict) -> dict:
    proc = subprocess.run(["pgbackrest", f"--stanza={cfg['stanza']}", "--output=text", "--job-retry=0", "verify"],
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    problems = verify_problems(proc.stdout + "\n" + proc.stderr)
    if proc.returncode != 0:
        problems.append(f"pgbackrest verify exited {proc.returncode}")
    return {"result": "failed" if problems else "ok", "time": dt.datetime.now(dt.timezone.utc).isoformat(),
            "problems": problems[:50]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=DEFAULT_CONFIG)
    ap.add_argument("job", choices=["drill", "verify"])
    args = ap.parse_args(argv)
    with open(args.config) as fh:
        cfg = json.load(fh)
    state = cfg["state_dir"]
    if args.job == "verify":
        result = job_verify(cfg)
        write_json(os.path.join(state, "last-verify.json"), result)
        if result["result"] != "ok":
            log("PGBACKREST VERIFY FAILED: " + " | ".join(result["problems"])[:1500], level=3)
            return 1
        log("pgbackrest verify: every file of the repository is valid")
        return 0
    try:
        result = job_drill(cfg)
    except JobError as exc:
        result = {"result": "failed", "time": dt.datetime.now(dt.timezone.utc).isoformat(), "error": str(exc)}
    write_json(os.path.join(state, "drill", "last.json"), result)
    append_history(os.path.join(state, "drill", "history.jsonl"), result)
    if result["result"] == "skipped":
        log(f"PITR drill skipped: {result['reason']}")
        return 0
    if result["result"] != "ok":
        log("PITR DRILL FAILED: " + json.dumps(result, sort_keys=True), level=3)
        return 1
    log(f"PITR drill passed: run {result['run']}: marker present at {result['target_after']}, absent at "
        f"{result['target_before']}; RPO {result['rpo_seconds']} s, RTO {result['rto_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
