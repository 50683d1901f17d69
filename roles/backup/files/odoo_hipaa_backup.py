#!/usr/bin/python3
# Managed by onprem.odoo_hipaa (role backup). GPL-3.0-or-later.
"""Encrypted backups of Odoo with restic, and restore drills that prove them.

    odoo_hipaa_backup.py [--config FILE] backup   # db dump, filestore, config; copy; forget (retention)
    odoo_hipaa_backup.py [--config FILE] check    # prune, then restic check (with a read-data subset)
    odoo_hipaa_backup.py [--config FILE] drill    # restore the latest run to scratch and compare
    odoo_hipaa_backup.py [--config FILE] restore [--database NAME] [--run RUN] [--repository NAME]
                                                   [--filestore-target DIR] [--owner USER]

HIPAA §164.308(a)(7)(ii)(A) data backup plan, (B)/(D) disaster recovery and
its testing, §164.310(d)(2)(iv). The configuration (JSON, no secrets) is
written by the role; the repository password is read by restic itself from a
root-only file (RESTIC_PASSWORD_FILE), never from a command line.

A run makes up to three snapshots sharing the tag run:<id>:
  db        the database as `pg_dump -Fc`, streamed into restic as /odoo-db-<name>.dump
            (no dump on disk)
  filestore the Odoo filestore (sessions excluded)
  config    Odoo/nginx/PostgreSQL configuration, LUKS header backups, and
            manifest.json: the components the run holds, the per-table row
            counts taken in the same database snapshot as the dump, the dump's
            sha256 and size, and the filestore's file count and size. The drill
            compares against it.

A member of a Patroni cluster ("cluster" in the configuration; the HA rack)
runs every job, but backs up and drills only while it is the primary
(pg_is_in_recovery() false on its own socket): a standby records "skipped"
and touches no repository. Its runs carry the cluster's name as their host,
so the history of the cluster goes on across failovers.

The configuration's "components" (database, filestore; default both) chooses
what a host holds: with PostgreSQL on its own host, the database host backs up
`database` and the Odoo host `filestore`. The config snapshot is always made.
Backup, drill and restore touch only the configured components: without
`database` no PostgreSQL command runs at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

DEFAULT_CONFIG = "/etc/odoo-hipaa-backup/config.json"
TAG = "odoo-hipaa"

# Row count of every table, in one statement, as JSON {"schema.table": n}.
COUNT_SQL = (
    "SELECT coalesce(json_object_agg(t.name, t.n ORDER BY t.name), '{}') FROM ("
    " SELECT format('%I.%I', table_schema, table_name) AS name,"
    " (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',"
    " table_schema, table_name), false, true, '')))[1]::text::bigint AS n"
    " FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
    " AND table_schema NOT IN ('pg_catalog', 'information_schema')) t"
)


class JobError(Exception):
    """A failure the operator must see; the message says what failed."""


def log(msg: str, level: int = 6) -> None:
    # The <N> prefix sets the journald priority (3 = err, 4 = warning, 6 = info).
    print(f"<{level}>{msg}", flush=True)


# --------------------------------------------------------------------------
# Pure decision logic (unit-tested without restic or PostgreSQL)
# --------------------------------------------------------------------------

def compare_counts(expected: dict, actual: dict) -> list[str]:
    """Differences between two {table: rows} maps, as readable lines."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            problems.append(f"{table}: missing after restore (expected {expected[table]} rows)")
        elif table not in expected:
            problems.append(f"{table}: not in the manifest ({actual[table]} rows after restore)")
        elif int(expected[table]) != int(actual[table]):
            problems.append(f"{table}: {expected[table]} rows in the dump, {actual[table]} after restore")
    return problems


def tree_stats(root: str, exclude_names: tuple = ()) -> dict:
    """Number of regular files and their total size below root."""
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in exclude_names]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files += 1
                size += os.path.getsize(path)
    return {"files": files, "bytes": size}


def compare_trees(expected: dict, actual: dict) -> list[str]:
    problems = []
    for key in ("files", "bytes"):
        if int(expected.get(key, 0)) != int(actual.get(key, 0)):
            problems.append(f"filestore {key}: {expected.get(key)} backed up, {actual.get(key)} restored")
    return problems


def retention_args(retention: dict) -> list[str]:
    args = []
    for key in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"):
        if retention.get(key):
            args += ["--" + key.replace("_", "-"), str(int(retention[key]))]
    if retention.get("keep_within"):
        args += ["--keep-within", str(retention["keep_within"])]
    return args


COMPONENTS = ("database", "filestore")
DEFAULT_COMPONENTS = ["database", "filestore"]
# Snapshot tag of each component; the config snapshot is in every run.
KIND_OF = {"database": "db", "filestore": "filestore"}


def components(cfg: dict) -> list[str]:
    """The configured components, checked: a non-empty list of known names
    (in the canonical order). Older configurations without the key mean both."""
    chosen = cfg.get("components", DEFAULT_COMPONENTS)
    if isinstance(chosen, str) or not isinstance(chosen, list) or not chosen:
        raise JobError(f"components must be a non-empty list of {', '.join(COMPONENTS)}; got {chosen!r}")
    unknown = sorted(set(chosen) - set(COMPONENTS))
    if unknown:
        raise JobError(f"unknown component(s) {', '.join(map(str, unknown))}; known: {', '.join(COMPONENTS)}")
    return [c for c in COMPONENTS if c in chosen]


def required_kinds(chosen: list[str]) -> set[str]:
    """Snapshot tags a complete run of these components holds. A run that
    backs up both needs db + config (a host without a filestore directory
    makes no filestore snapshot); one without the database needs its filestore."""
    if "database" in chosen:
        return {"db", "config"}
    return {KIND_OF[c] for c in chosen} | {"config"}


def manifest_components(manifest: dict) -> list[str]:
    """The components a run holds (manifests written before components
    existed hold both)."""
    return [c for c in COMPONENTS if c in manifest.get("components", DEFAULT_COMPONENTS)]


def pick_run(snapshots: list[dict], run: str | None = None, kinds: set | None = None) -> str:
    """The run id of the newest complete run (the snapshots of `kinds`
    present; default db and config), or check that the requested run exists."""
    kinds = set(kinds or {"db", "config"})
    runs: dict[str, dict] = {}
    for snap in snapshots:
        tags = snap.get("tags") or []
        run_tags = [t[4:] for t in tags if t.startswith("run:")]
        if not run_tags:
            continue
        entry = runs.setdefault(run_tags[0], {"time": snap.get("time", ""), "kinds": set()})
        entry["kinds"].update(t for t in tags if t in ("db", "filestore", "config"))
        entry["time"] = max(entry["time"], snap.get("time", ""))
    complete = {r: e for r, e in runs.items() if kinds <= e["kinds"]}
    if run:
        if run not in complete:
            raise JobError(f"run {run} not found (or incomplete) in the repository; complete runs: "
                           + ", ".join(sorted(complete)) if complete else f"run {run} not found: no complete run")
        return run
    if not complete:
        raise JobError("the repository holds no complete backup run (%s snapshots)" % " + ".join(
            k for k in ("db", "filestore", "config") if k in kinds))
    return max(complete, key=lambda r: complete[r]["time"])


def drill_summary(chosen: list[str], outcome: dict) -> dict:
    """What the drill record shows for the components it restored."""
    summary: dict = {"components": chosen}
    if "database" in chosen:
        summary.update({
            "tables_compared": len(outcome["manifest"]["tables"]),
            "rows_in_dump": sum(int(v) for v in outcome["manifest"]["tables"].values()),
            "rows_restored": sum(int(v) for v in outcome["counts"].values()),
        })
    if "filestore" in chosen:
        summary.update({
            "filestore_backed_up": outcome["manifest"]["filestore"],
            "filestore_restored": outcome["filestore"],
        })
    return summary


def drill_passed_line(run: str, result: dict) -> str:
    parts = []
    if "tables_compared" in result:
        parts.append(f"{result['tables_compared']} tables and {result['rows_restored']} rows")
    if "filestore_restored" in result and "tables_compared" not in result:
        fs = result["filestore_restored"] or {}
        parts.append(f"{fs.get('files', 0)} files and {fs.get('bytes', 0)} bytes")
    return f"restore drill passed: run {run}, {' and '.join(parts)} match, RTO {result['rto_seconds']} s"


# --------------------------------------------------------------------------
# restic and PostgreSQL
# --------------------------------------------------------------------------

class Restic:
    def __init__(self, cfg: dict, repo: dict):
        self.cfg = cfg
        self.repo = repo
        self.env = dict(os.environ, RESTIC_PASSWORD_FILE=cfg["password_file"],
                        RESTIC_CACHE_DIR=cfg.get("cache_dir", "/var/cache/odoo-hipaa-backup"))
        self.env.pop("RESTIC_PASSWORD", None)

    def base(self) -> list[str]:
        if self.repo.get("args"):  # how the role says to reach it (a rest URL is in a root-only file)
            return ["restic"] + list(self.repo["args"])
        cmd = ["restic", "--repo", self.repo["url"]]
        if self.repo.get("sftp_command"):
            cmd += ["--option", "sftp.command=" + self.repo["sftp_command"]]
        return cmd

    @property
    def append_only(self) -> bool:
        """The backup host's append-only service refuses forget and prune;
        it applies retention itself (role backup_server)."""
        return bool(self.repo.get("append_only"))

    def run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.base() + args, env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, **kw)
        if proc.returncode != 0:
            raise JobError(f"restic {args[0]} on repository {self.repo['name']} ({self.repo['url']}) failed: "
                           + (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1])
        return proc

    def popen(self, args: list[str], **kw) -> subprocess.Popen:
        return subprocess.Popen(self.base() + args, env=self.env, **kw)

    def snapshots(self, tags: str = TAG, host: str | None = None) -> list[dict]:
        return json.loads(self.run(["snapshots", "--json", "--tag", tags, "--host", host or self.cfg["host"]]).stdout
                          or "[]")


def as_user(user: str) -> list[str]:
    """The command prefix that runs a program as `user` (PostgreSQL's peer
    authentication). setpriv, not runuser: runuser opens a PAM session, whose
    pam_limits needs setpriority() and CAP_SYS_NICE, which the job's sandbox
    does not grant (templates/sandbox.j2)."""
    return ["setpriv", "--reuid", user, "--regid", user, "--init-groups", "--reset-env", "--"]


def psql_cmd(cfg: dict, database: str) -> list[str]:
    return as_user(cfg.get("pg_os_user", "postgres")) + [
        "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database]


class PsqlSession:
    """A psql process kept open, so that the row counts and pg_dump share one
    exported snapshot of the database."""

    def __init__(self, cfg: dict, database: str):
        self.proc = subprocess.Popen(psql_cmd(cfg, database), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, sql: str) -> list[str]:
        marker = "__odoo_hipaa_%s__" % uuid.uuid4().hex
        self.proc.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo " + marker + "\n")
        self.proc.stdin.flush()
        lines = []
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == marker:
                return lines
            lines.append(line)
        raise JobError(f"psql ended while running: {sql[:60]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("COMMIT;\n\\q\n")
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        self.proc.wait(timeout=60)


def count_rows(cfg: dict, database: str) -> dict:
    out = subprocess.run(psql_cmd(cfg, database) + ["-c", COUNT_SQL], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        raise JobError(f"counting rows in {database} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip() or "{}")


def stream(src, dst, digest) -> int:
    total = 0
    while True:
        chunk = src.read(1 << 20)
        if not chunk:
            return total
        digest.update(chunk)
        dst.write(chunk)
        total += len(chunk)


def snapshot_id(restic_json_stdout: str) -> str | None:
    for line in restic_json_stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("message_type") == "summary":
            return msg.get("snapshot_id")
    return None


# --------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------

def backup_database(cfg: dict, primary: "Restic", tags: str) -> dict:
    """pg_dump -Fc streamed into restic (snapshot tag db), with the exact row
    count of every table taken in the same exported snapshot."""
    db = cfg["database"]
    session = PsqlSession(cfg, db)
    try:
        session.ask("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snap = session.ask("SELECT pg_export_snapshot()")[0].strip()
        # The counts run in the exporting session while pg_dump streams the
        # same snapshot, so they cost no extra wall time.
        counted: dict = {}
        count_errors: list = []

        def count_in_snapshot():
            try:
                counted.update(json.loads(session.ask(COUNT_SQL)[0] or "{}"))
            except (JobError, ValueError, IndexError) as exc:
                count_errors.append(str(exc))

        counter = threading.Thread(target=count_in_snapshot)
        counter.start()
        dump = subprocess.Popen(as_user(cfg.get("pg_os_user", "postgres"))
                                + ["pg_dump", "-Fc", "--snapshot=" + snap, "-d", db], stdout=subprocess.PIPE)
        # restic's output goes to files: a full pipe must never stall the stream.
        with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
            upload = primary.popen(["backup", "--json", "--stdin", "--stdin-filename", f"odoo-db-{db}.dump",
                                    "--tag", tags + ",db", "--host", cfg["host"]],
                                   stdin=subprocess.PIPE, stdout=out_f, stderr=err_f)
            digest = hashlib.sha256()
            try:
                size = stream(dump.stdout, upload.stdin, digest)
            except BrokenPipeError:
                size = -1
            try:
                upload.stdin.close()
            except BrokenPipeError:
                pass
            dump_rc = dump.wait()
            upload.wait()
            counter.join()
            out_f.seek(0)
            err_f.seek(0)
            out = out_f.read().decode(errors="replace")
            err = err_f.read().decode(errors="replace")
        if upload.returncode != 0:
            raise JobError(f"restic backup of the database dump failed: {err.strip()[-400:]}")
        if dump_rc != 0 or size <= 0 or count_errors:
            sid = snapshot_id(out)
            if sid:  # restic 0.14 saves whatever it read; drop the partial dump
                primary.run(["forget", sid])
            raise JobError(f"pg_dump of {db} failed (exit {dump_rc}) or its row counts failed "
                           f"({'; '.join(count_errors) or 'ok'}); the partial snapshot was removed")
    finally:
        session.close()
    log(f"database {db}: {size} bytes dumped, {len(counted)} tables counted")
    return {"database": db, "tables": counted, "dump_sha256": digest.hexdigest(), "dump_bytes": size}


def backup_filestore(cfg: dict, primary: "Restic", tags: str, required: bool) -> dict:
    """The filestore (sessions excluded), snapshot tag filestore. Required
    when the filestore is all this host backs up besides its configuration."""
    configured = cfg.get("filestore_paths", [])
    filestore = [p for p in configured if os.path.isdir(p)]
    if required and not filestore:
        raise JobError("no filestore to back up: none of " + (", ".join(configured) or "(no path configured)")
                       + " is a directory")
    fs_stats = {"files": 0, "bytes": 0}
    for p in filestore:
        s = tree_stats(p, tuple(cfg.get("filestore_exclude_names", [])))
        fs_stats = {k: fs_stats[k] + s[k] for k in fs_stats}
    if filestore:
        args = ["backup", "--json", "--tag", tags + ",filestore", "--host", cfg["host"]]
        for name in cfg.get("filestore_exclude_names", []):
            args += ["--exclude", name]
        primary.run(args + filestore)
        log(f"filestore: {fs_stats['files']} files, {fs_stats['bytes']} bytes")
    return {"filestore_paths": filestore, "filestore": fs_stats}


def standby_reason(cfg: dict) -> str | None:
    """On a member of a Patroni cluster: why it leaves the job to the primary
    (it is a standby), or None when it is the primary or no cluster member."""
    cluster = cfg.get("cluster")
    if not cluster:
        return None
    run = subprocess.run(as_user(cfg.get("pg_os_user", "postgres"))
                         + ["psql", "-XAtq", "-d", "postgres", "-c", "SELECT pg_is_in_recovery()"],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0 or run.stdout.strip() not in ("t", "f"):
        raise JobError(f"cannot tell whether this member of cluster {cluster} is its primary: "
                       + (run.stderr or run.stdout).strip()[:200])
    if run.stdout.strip() == "t":
        return f"a standby of cluster {cluster}: its primary backs the cluster up"
    return None


def skip_on_standby(cfg: dict, path: str, reason: str, history: str | None = None) -> dict:
    result = {"result": "skipped", "reason": reason, "cluster": cfg["cluster"],
              "time": dt.datetime.now(dt.timezone.utc).isoformat()}
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    write_json(path, result)
    if history:
        with open(history, "a") as fh:
            fh.write(json.dumps(result, sort_keys=True) + "\n")
    log("skipped: " + reason)
    return result


def job_backup(cfg: dict) -> dict:
    reason = standby_reason(cfg)
    if reason:
        return skip_on_standby(cfg, os.path.join(cfg["state_dir"], "last-backup.json"), reason)
    chosen = components(cfg)
    run = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    primary = Restic(cfg, cfg["repositories"][0])
    tags = f"{TAG},run:{run}"
    log(f"backup run {run} to {primary.repo['name']} ({primary.repo['url']})")
    for repo in cfg["repositories"]:
        Restic(cfg, repo).run(["unlock"])  # removes stale locks only (crashed runs)

    # 1. Database: counts and dump in one exported snapshot.
    # 2. Filestore (sessions excluded).
    held: dict = {}
    if "database" in chosen:
        held.update(backup_database(cfg, primary, tags))
    if "filestore" in chosen:
        held.update(backup_filestore(cfg, primary, tags, required="database" not in chosen))

    # 3. Configuration, LUKS headers, and the manifest.
    manifest = {"run": run, "host": cfg["host"], "time": dt.datetime.now(dt.timezone.utc).isoformat(),
                "components": chosen, **held}
    state = cfg["state_dir"]
    os.makedirs(state, mode=0o700, exist_ok=True)
    manifest_path = os.path.join(state, "manifest.json")
    with open(manifest_path, "w") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
    config_paths = [p for p in cfg.get("config_paths", []) if os.path.exists(p)] + [manifest_path]
    primary.run(["backup", "--json", "--tag", tags + ",config", "--host", cfg["host"]] + config_paths)

    # 4. Copies to the other repositories (3-2-1).
    for repo in cfg["repositories"][1:]:
        Restic(cfg, repo).run(["copy", "--from-repo", primary.repo["url"],
                               "--from-password-file", cfg["password_file"], "--tag", f"run:{run}"]
                              + (["--option", "sftp.command=" + primary.repo["sftp_command"]]
                                 if primary.repo.get("sftp_command") else []))
        log(f"run {run} copied to {repo['name']} ({repo['url']})")

    # 5. Retention on every repository this host may delete from: forget here
    #    (cheap); the data of forgotten snapshots is pruned by the weekly check
    #    job. An append-only (rest) repository is left to its backup host.
    for repo in cfg["repositories"]:
        r = Restic(cfg, repo)
        if r.append_only:
            log(f"retention of {repo['name']} ({repo['url']}) is applied by its backup host (append-only)")
            continue
        r.run(["forget", "--tag", TAG, "--host", cfg["host"], "--group-by", "host,paths"]
              + retention_args(cfg["retention"]))

    result = {"result": "ok", "run": run, "time": manifest["time"], "components": chosen,
              "repositories": [r["name"] for r in cfg["repositories"]]}
    if "database" in chosen:
        result.update({"dump_bytes": held["dump_bytes"], "tables": len(held["tables"])})
    if "filestore" in chosen:
        result["filestore"] = held["filestore"]
    write_json(os.path.join(state, "last-backup.json"), result)
    log(f"backup run {run} complete: " + json.dumps(result, sort_keys=True))
    return result


def job_check(cfg: dict) -> dict:
    for repo in cfg["repositories"]:
        r = Restic(cfg, repo)
        r.run(["unlock"])
        if not r.append_only:
            r.run(["prune"])  # drop the data of snapshots forgotten by the nightly retention
        args = ["check"]
        if cfg.get("check_read_data_subset"):
            args.append("--read-data-subset=" + cfg["check_read_data_subset"])
        r.run(args)
        log(f"restic check of {repo['name']} ({repo['url']}): no errors")
    result = {"result": "ok", "time": dt.datetime.now(dt.timezone.utc).isoformat()}
    write_json(os.path.join(cfg["state_dir"], "last-check.json"), result)
    return result


def restore_run(cfg: dict, repo: Restic, run: str, database: str | None, filestore_target: str | None,
                owner: str | None, source_host: str | None = None) -> dict:
    """Restore the configured components of one run: the dump streamed into
    pg_restore (database must not exist, or be empty), the filestore into
    filestore_target. Returns what was compared."""
    chosen = components(cfg)
    snaps = [s for s in repo.snapshots(host=source_host) if f"run:{run}" in (s.get("tags") or [])]
    by_kind = {k: s for s in snaps for k in ("db", "filestore", "config") if k in (s.get("tags") or [])}
    if "config" not in by_kind:
        raise JobError(f"run {run} has no config snapshot (no manifest)")
    manifest_file = os.path.join(cfg["state_dir"], "manifest.json")
    manifest = json.loads(repo.run(["dump", by_kind["config"]["short_id"], manifest_file]).stdout)
    missing = [c for c in chosen if c not in manifest_components(manifest)]
    if missing:
        raise JobError(f"run {run} holds {', '.join(manifest_components(manifest))}, not {', '.join(missing)}")
    problems: list[str] = []

    counts = None
    if "database" in chosen:
        if not database:
            raise JobError("no database name to restore into")
        counts = restore_database(cfg, repo, by_kind["db"], manifest, database, owner, problems)

    fs_result = None
    if "filestore" in chosen and filestore_target:
        if "filestore" in by_kind:
            os.makedirs(filestore_target, mode=0o700, exist_ok=True)
            repo.run(["restore", by_kind["filestore"]["short_id"], "--target", filestore_target, "--verify"])
        elif manifest.get("filestore_paths"):
            problems.append(f"run {run} has no filestore snapshot, but its manifest lists "
                            + ", ".join(manifest["filestore_paths"]))
        restored = {"files": 0, "bytes": 0}
        for p in manifest.get("filestore_paths", []):
            s = tree_stats(os.path.join(filestore_target, p.lstrip("/")))
            restored = {k: restored[k] + s[k] for k in restored}
        problems += compare_trees(manifest["filestore"], restored)
        fs_result = restored
        if owner:  # only the restored filestore paths, never the target root
            for p in manifest.get("filestore_paths", []):
                restored_path = os.path.join(filestore_target, p.lstrip("/"))
                if os.path.isdir(restored_path) and os.path.realpath(restored_path) != "/":
                    subprocess.run(["chown", "-R", f"{owner}:", restored_path], check=True)
    return {"run": run, "components": chosen, "manifest": manifest, "counts": counts, "filestore": fs_result,
            "problems": problems}


def restore_database(cfg: dict, repo: Restic, db_snapshot: dict, manifest: dict, database: str,
                     owner: str | None, problems: list) -> dict:
    """The run's dump streamed into pg_restore; its sha256 and every table's
    row count compared with the manifest (differences appended to problems)."""
    pg_user = cfg.get("pg_os_user", "postgres")
    prepare_empty_database(cfg, database, owner)
    dump_err = tempfile.TemporaryFile()
    dump = repo.popen(["dump", db_snapshot["short_id"], f"/odoo-db-{manifest['database']}.dump"],
                      stdout=subprocess.PIPE, stderr=dump_err)
    # Objects keep their owners from the dump (the Odoo role must exist).
    restore_cmd = as_user(pg_user) + ["pg_restore", "--exit-on-error", "-d", database]
    restore_err = tempfile.TemporaryFile()
    pg_restore = subprocess.Popen(restore_cmd, stdin=subprocess.PIPE, stderr=restore_err)
    digest = hashlib.sha256()
    try:
        stream(dump.stdout, pg_restore.stdin, digest)
    except BrokenPipeError:
        pass
    try:
        pg_restore.stdin.close()
    except BrokenPipeError:
        pass
    if pg_restore.wait() != 0 or dump.wait() != 0:
        restore_err.seek(0)
        dump_err.seek(0)
        raise JobError(f"pg_restore into {database} failed: {restore_err.read().decode(errors='replace').strip()[-400:]}"
                       f" {dump_err.read().decode(errors='replace').strip()[-200:]}")
    if digest.hexdigest() != manifest["dump_sha256"]:
        problems.append(f"dump sha256 {digest.hexdigest()} differs from the manifest's {manifest['dump_sha256']}")
    counts = count_rows(cfg, database)
    problems += compare_counts(manifest["tables"], counts)
    return counts


def prepare_empty_database(cfg: dict, database: str, owner: str | None) -> None:
    """Create the target database. An existing one is replaced only when it
    holds no table at all (e.g. the empty database the postgresql role made
    on a fresh host); a database with data is never dropped."""
    pg_user = cfg.get("pg_os_user", "postgres")
    exists = subprocess.run(psql_cmd(cfg, "postgres") + ["-c", "SELECT 1 FROM pg_database WHERE datname = '%s'"
                                                         % database.replace("'", "''")],
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if exists.stdout.strip() == "1":
        sql = ("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
               " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')")
        tables = subprocess.run(psql_cmd(cfg, database) + ["-c", sql],
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if tables.returncode != 0 or tables.stdout.strip() != "0":
            raise JobError(f"database {database} exists and holds {tables.stdout.strip() or 'unknown'} tables; "
                           "refusing to overwrite it (restore into another name, or drop it yourself)")
        subprocess.run(as_user(pg_user) + ["dropdb", database], check=True)
    created = subprocess.run(as_user(pg_user) + ["createdb", "-T", "template0"]
                             + (["-O", owner] if owner else []) + [database],
                             text=True, stderr=subprocess.PIPE, check=False)
    if created.returncode != 0:
        raise JobError(f"cannot create database {database}: {created.stderr.strip()}")


def job_drill(cfg: dict) -> dict:
    reason = standby_reason(cfg)
    if reason:
        drill_dir = os.path.join(cfg["state_dir"], "drill")
        return skip_on_standby(cfg, os.path.join(drill_dir, "last.json"), reason, os.path.join(drill_dir, "history.jsonl"))
    t0 = time.monotonic()
    chosen = components(cfg)
    repo = Restic(cfg, cfg["repositories"][0])
    repo.run(["unlock"])
    run = pick_run(repo.snapshots(), kinds=required_kinds(chosen))
    drill_db = ("odoo_hipaa_drill_" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
                if "database" in chosen else None)
    scratch = os.path.join(cfg.get("drill_scratch_dir", "/var/lib/odoo-hipaa-backup/drill-scratch"), run)
    log(f"restore drill: run {run} from {repo.repo['name']} into "
        + " and ".join(([f"database {drill_db}"] if drill_db else []) + ([scratch] if "filestore" in chosen else [])))
    result = {"result": "failed", "run": run, "time": dt.datetime.now(dt.timezone.utc).isoformat(),
              "repository": repo.repo["name"], "components": chosen}
    try:
        outcome = restore_run(cfg, repo, run, drill_db, scratch if "filestore" in chosen else None, None)
        result.update(drill_summary(chosen, outcome))
        result.update({"problems": outcome["problems"], "result": "ok" if not outcome["problems"] else "mismatch"})
    except JobError as exc:
        result["problems"] = [str(exc)]
    finally:
        if drill_db:
            subprocess.run(as_user(cfg.get("pg_os_user", "postgres")) + ["dropdb", "--if-exists", drill_db], check=False)
        shutil.rmtree(scratch, ignore_errors=True)
        result["rto_seconds"] = round(time.monotonic() - t0, 1)
        drill_dir = os.path.join(cfg["state_dir"], "drill")
        os.makedirs(drill_dir, mode=0o700, exist_ok=True)
        write_json(os.path.join(drill_dir, "last.json"), result)
        with open(os.path.join(drill_dir, "history.jsonl"), "a") as fh:
            fh.write(json.dumps(result, sort_keys=True) + "\n")
    if result["result"] != "ok":
        raise JobError("RESTORE DRILL FAILED for run %s: %s" % (run, "; ".join(result["problems"])))
    log(drill_passed_line(run, result))
    return result


def job_restore(cfg: dict, args) -> dict:
    chosen = components(cfg)
    repos = {r["name"]: r for r in cfg["repositories"]}
    if args.repository and args.repository not in repos:
        raise JobError(f"no repository named {args.repository}; configured: {', '.join(repos)}")
    repo = Restic(cfg, repos[args.repository] if args.repository else cfg["repositories"][0])
    run = pick_run(repo.snapshots(host=args.source_host), args.run, kinds=required_kinds(chosen))
    database = args.database or cfg.get("database")
    log(f"restoring run {run} of {args.source_host or cfg['host']} from {repo.repo['name']}: "
        + " and ".join(([f"database {database}"] if "database" in chosen else [])
                       + ([f"filestore under {args.filestore_target}"] if "filestore" in chosen else [])))
    outcome = restore_run(cfg, repo, run, database, args.filestore_target, args.owner, args.source_host)
    result = {"result": "ok" if not outcome["problems"] else "mismatch", "run": run, "components": chosen,
              "problems": outcome["problems"]}
    if "database" in chosen:
        result.update({"database": database, "tables": len(outcome["counts"]),
                       "rows": sum(int(v) for v in outcome["counts"].values())})
    if "filestore" in chosen:
        result["filestore"] = outcome["filestore"]
    if outcome["problems"]:
        raise JobError("restore of run %s does not match its manifest: %s" % (run, "; ".join(outcome["problems"])))
    return result


def write_json(path: str, data: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    sub = parser.add_subparsers(dest="job", required=True)
    sub.add_parser("backup")
    sub.add_parser("check")
    sub.add_parser("drill")
    rp = sub.add_parser("restore")
    rp.add_argument("--database", help="database to restore into (default: the configured one)")
    rp.add_argument("--run")
    rp.add_argument("--repository")
    rp.add_argument("--filestore-target")
    rp.add_argument("--owner")
    rp.add_argument("--source-host", help="host whose backups to restore (default: this host's inventory name)")
    args = parser.parse_args(argv)
    with open(args.config) as fh:
        cfg = json.load(fh)
    os.umask(0o077)
    try:
        if args.job == "backup":
            result = job_backup(cfg)
        elif args.job == "check":
            result = job_check(cfg)
        elif args.job == "drill":
            result = job_drill(cfg)
        else:
            result = job_restore(cfg, args)
    except JobError as exc:
        log(f"odoo-hipaa-backup {args.job} FAILED: {exc}", level=3)
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
