#!/usr/bin/python3
# Managed by onprem.odoo_hipaa (role backup_server). GPL-3.0-or-later.
"""Retention of one client's off-site restic repository, run on the backup server.

    odoo_hipaa_offsite_retention.py --config /etc/odoo-hipaa-backup-server/retention/<client>.json
                                    [--dry-run]

HIPAA §164.308(a)(7)(ii)(A) data backup plan, §164.316(b)(2)(i) retention.
Clients write to their off-site repository through `rclone serve restic
--append-only`: they can add snapshots but never delete one, so a client
taken over by an attacker cannot erase its off-site history. Retention
therefore runs here, on the local directory, with a restic key the client
never holds. systemd runs the job as the client's account restic-<client>;
restic reads the password itself (RESTIC_PASSWORD_FILE) from the
configuration's password_file (root wrote it, readable by that account only)
or, without one, from $CREDENTIALS_DIRECTORY/restic.pass (LoadCredential=),
never from a command line. The configuration (JSON, no secrets) is written by the role.

A run:
  1. unlock (stale locks only), then lists every snapshot. None: nothing to do.
  2. refuses if any snapshot is dated more than future_tolerance_seconds
     ahead of this host's clock. --keep-within-* counts from the newest
     snapshot, so a client could forge one dated 2100 (`restic backup --time`)
     and have every genuine snapshot forgotten. Nothing is forgotten then;
     the forged snapshot must be removed by hand (`restic forget <id>`).
  3. forget --tag <tag> --group-by host,paths --keep-within-<tier> <duration>
     for the tiers configured (hourly, daily, weekly, monthly, yearly). The
     snapshots forget judged are checked again (one dated in the future
     may have arrived meanwhile): if so prune is skipped, so the data of the
     forgotten snapshots stays in the repository.
  4. prune, then check (structure, no read-data).
  5. <state_dir>/last.json (result ok, refused or failed) and a line in
     <state_dir>/history.jsonl.

--dry-run passes --dry-run to forget, skips prune, still runs check, and
writes no state (last.json records real runs only). Exit status 0 only when
the result is ok.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys

DEFAULT_TAG = "odoo-hipaa"
DEFAULT_TOLERANCE = 3600
PASSWORD_CREDENTIAL = "restic.pass"
# restic's --keep-within-<tier> (restic >= 0.13; Debian 12 has 0.14), in the
# order they are passed. Config keys: "daily" or "keep_within_daily".
TIERS = ("hourly", "daily", "weekly", "monthly", "yearly")
# restic's duration: one or more <number><unit>, unit y, m, d or h ("2y6m").
DURATION = re.compile(r"^(?:[0-9]+[ymdh])+$")
# RFC 3339 as Go writes it: any number of fraction digits, Z or an offset.
RESTIC_TIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,]([0-9]+))?([Zz]|[+-][0-9]{2}:?[0-9]{2})$")


class JobError(Exception):
    """A failure the operator must see; the message says what failed."""


def log(msg: str, level: int = 6) -> None:
    # The <N> prefix sets the journald priority (3 = err, 4 = warning, 6 = info).
    print(f"<{level}>{msg}", flush=True)


# --------------------------------------------------------------------------
# Pure decision logic (unit-tested without restic)
# --------------------------------------------------------------------------

def printable(value, limit: int = 200) -> str:
    """A snapshot field for a log line. Host names and tags come from the
    client, which may be hostile: no newline or control character reaches
    the journal (no forged log lines)."""
    text = str(value)
    out = "".join(c if c.isprintable() else "\\x%02x" % ord(c) if ord(c) < 256 else "\\u%04x" % ord(c)
                  for c in text[:limit])
    return out + ("..." if len(text) > limit else "")


def parse_restic_time(text: str) -> dt.datetime:
    """restic's snapshot time ("2026-12-02T01:30:05.123456789+00:00", "...Z")
    as an aware datetime. The fraction is cut to microseconds (Python's
    resolution). ValueError when it is not such a time."""
    match = RESTIC_TIME.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    micro = int((match.group(7) or "")[:6].ljust(6, "0"))
    zone = match.group(8)
    if zone in ("Z", "z"):
        tz = dt.timezone.utc
    else:
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        if hours > 23 or minutes > 59:
            raise ValueError(f"bad UTC offset in {text!r}")
        offset = dt.timedelta(hours=hours, minutes=minutes)
        tz = dt.timezone(-offset if zone[0] == "-" else offset)
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def short_id(snap: dict) -> str:
    return printable(snap.get("short_id") or str(snap.get("id") or "?")[:8], 64)


def future_snapshots(snapshots: list, now: dt.datetime, tolerance_seconds: int) -> list:
    """The snapshots dated later than now + tolerance, which would shift
    every --keep-within window. A time that cannot be read is an error:
    nothing may be forgotten while the newest snapshot is unknown."""
    limit = now + dt.timedelta(seconds=int(tolerance_seconds))
    ahead = []
    for snap in snapshots or []:
        try:
            when = parse_restic_time(snap.get("time"))
        except (ValueError, TypeError) as exc:
            raise JobError(f"cannot read the time of snapshot {short_id(snap)} of "
                           f"{printable(snap.get('hostname', '?'))} ({printable(exc)}); nothing was forgotten")
        if when > limit:
            ahead.append(snap)
    return ahead


def refusal_line(snap: dict, consequence: str = "nothing was forgotten") -> str:
    return (f"OFFSITE RETENTION REFUSED: snapshot {short_id(snap)} of {printable(snap.get('hostname', '?'))} "
            f"dated {printable(snap.get('time'))} is in the future; {consequence}")


def keep_within_args(keep_within) -> list[str]:
    """--keep-within-<tier> <duration> for the tiers configured, in restic's
    order. No tier at all is refused: the policy would be empty."""
    if not isinstance(keep_within, dict):
        raise JobError(f"keep_within must be a mapping of tier to duration; got {keep_within!r}")
    durations: dict = {}
    for key, value in keep_within.items():
        tier = key[len("keep_within_"):] if isinstance(key, str) and key.startswith("keep_within_") else key
        if tier not in TIERS:
            raise JobError(f"unknown keep_within key {key!r}; known: {', '.join(TIERS)}")
        if value is None or value == "":
            continue
        if tier in durations:
            raise JobError(f"keep_within names the {tier} tier twice")
        if not isinstance(value, str) or not DURATION.match(value) or not any(c in "123456789" for c in value):
            raise JobError(f"keep_within {key}: {value!r} is not a non-zero restic duration "
                           "(a number and y, m, d or h, e.g. 14d, 24m, 6y)")
        durations[tier] = value
    if not durations:
        raise JobError("keep_within is empty: refusing to run forget without a retention policy")
    args: list[str] = []
    for tier in TIERS:
        if tier in durations:
            args += [f"--keep-within-{tier}", durations[tier]]
    return args


def forget_args(cfg: dict, dry_run: bool = False) -> list[str]:
    args = ["forget", "--json", "--tag", cfg.get("tag") or DEFAULT_TAG, "--group-by", "host,paths"]
    args += keep_within_args(cfg.get("keep_within"))
    if dry_run:
        args.append("--dry-run")
    return args


def parse_json_output(text: str, what: str):
    """The JSON document restic printed: the whole output, or else its last
    line that parses (a stray message line must not break the job)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith(("[", "{")):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise JobError(f"restic {what} printed no JSON: {printable(text.splitlines()[-1])}")


def forget_groups(data) -> list[dict]:
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(g, dict) for g in data):
        raise JobError("restic forget printed unexpected JSON (expected a list of groups)")
    return data


def summarise_forget(groups) -> dict:
    """Snapshots kept and removed by forget (a group's remove may be null)."""
    groups = forget_groups(groups)
    return {"groups": len(groups),
            "kept": sum(len(g.get("keep") or []) for g in groups),
            "removed": sum(len(g.get("remove") or []) for g in groups)}


def judged_snapshots(groups) -> list[dict]:
    return [s for g in forget_groups(groups) for s in (g.get("keep") or []) + (g.get("remove") or [])]


def password_file(environ, cfg: dict | None = None) -> str:
    """The configuration's password_file (the role's: a file only the client's
    account can read), else $CREDENTIALS_DIRECTORY/restic.pass (systemd
    LoadCredential=). Only the path is used (by restic); the file is never
    read or shown here."""
    if cfg and cfg.get("password_file"):
        path = _absolute(cfg, "password_file")
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise JobError(f"the retention key's password file {path} is missing or unreadable by this account")
        return path
    creds = environ.get("CREDENTIALS_DIRECTORY")
    if not creds:
        raise JobError("CREDENTIALS_DIRECTORY is not set: run the job by its systemd unit "
                       f"(LoadCredential={PASSWORD_CREDENTIAL}:...)")
    path = os.path.join(creds, PASSWORD_CREDENTIAL)
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise JobError(f"the credential {PASSWORD_CREDENTIAL} is missing or unreadable in $CREDENTIALS_DIRECTORY")
    return path


def _absolute(cfg: dict, key: str) -> str:
    value = cfg.get(key)
    if not isinstance(value, str) or not os.path.isabs(value):
        raise JobError(f"{key} must be an absolute path; got {value!r}")
    return value


def load_config(path: str) -> dict:
    try:
        with open(path) as fh:
            cfg = json.load(fh)
    except (OSError, ValueError) as exc:
        raise JobError(f"cannot read the configuration: {exc}")
    if not isinstance(cfg, dict):
        raise JobError("the configuration is not a JSON object")
    if not isinstance(cfg.get("client"), str) or not cfg["client"].strip():
        raise JobError("client must be a non-empty string")
    for key in ("repository", "state_dir", "cache_dir"):
        _absolute(cfg, key)
    tag = cfg.setdefault("tag", DEFAULT_TAG)
    if not isinstance(tag, str) or not re.match(r"^[^\s,]+$", tag):
        raise JobError(f"tag must be one restic tag (no comma or space); got {tag!r}")
    tolerance = cfg.setdefault("future_tolerance_seconds", DEFAULT_TOLERANCE)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise JobError(f"future_tolerance_seconds must be a whole number >= 0; got {tolerance!r}")
    keep_within_args(cfg.get("keep_within"))  # refuse a bad policy before touching the repository
    return cfg


# --------------------------------------------------------------------------
# restic
# --------------------------------------------------------------------------

class Restic:
    def __init__(self, cfg: dict, password_path: str):
        self.cfg = cfg
        self.env = dict(os.environ, RESTIC_PASSWORD_FILE=password_path)
        # Nothing else may choose the password or the repository.
        for var in ("RESTIC_PASSWORD", "RESTIC_PASSWORD_COMMAND", "RESTIC_REPOSITORY", "RESTIC_REPOSITORY_FILE"):
            self.env.pop(var, None)

    def run(self, args: list[str]) -> subprocess.CompletedProcess:
        cmd = ["restic", "--repo", self.cfg["repository"], "--cache-dir", self.cfg["cache_dir"]] + args
        step = next(a for a in args if not a.startswith("-"))
        try:
            proc = subprocess.run(cmd, env=self.env, text=True, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        except OSError as exc:
            raise JobError(f"restic {step} could not start: {exc}")
        if proc.returncode != 0:
            raise JobError(f"restic {step} failed: "
                           + printable((proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1], 400))
        return proc

    def snapshots(self) -> list[dict]:
        data = parse_json_output(self.run(["--json", "snapshots"]).stdout, "snapshots")
        if data is None:
            return []
        if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
            raise JobError("restic snapshots printed unexpected JSON (expected a list of snapshots)")
        return data


# --------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------

def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def retention(cfg: dict, restic: Restic, result: dict, dry_run: bool = False, now=None) -> dict:
    """Steps 1-4; fills result (result, kept, removed, snapshots_before,
    message). Raises JobError on a failed step."""
    client = printable(cfg["client"])
    tolerance = cfg["future_tolerance_seconds"]
    if not os.path.isdir(cfg["repository"]):
        raise JobError(f"the repository {cfg['repository']} is not a directory")
    restic.run(["unlock"])  # stale locks only (e.g. a crashed run); never a live one
    snapshots = restic.snapshots()
    result["snapshots_before"] = len(snapshots)
    if not snapshots:
        result.update(result="ok", kept=0, removed=0,
                      message=f"OFFSITE RETENTION OK: {client}: the repository holds no snapshot; nothing to do")
        return result

    ahead = future_snapshots(snapshots, now or utcnow(), tolerance)
    if ahead:
        lines = [refusal_line(s) for s in ahead]
        for line in lines:
            log(line, level=3)
        result.update(result="refused", kept=len(snapshots), removed=0,
                      message=lines[0] + (f" ({len(lines) - 1} more snapshot(s) in the future)" if len(lines) > 1 else ""))
        return result

    groups = forget_groups(parse_json_output(restic.run(forget_args(cfg, dry_run)).stdout, "forget"))
    counts = summarise_forget(groups)
    result.update(kept=counts["kept"], removed=counts["removed"])
    removed = [s for g in groups for s in (g.get("remove") or [])]
    if removed:
        log(f"{client}: {'would forget' if dry_run else 'forgot'} "
            + ", ".join(f"{short_id(s)} ({printable(s.get('hostname', '?'))} {printable(s.get('time'))})"
                        for s in removed))

    # A snapshot dated in the future may have arrived between the listing
    # and forget: then keep the data of what forget removed (no prune).
    ahead = future_snapshots(judged_snapshots(groups), utcnow() if now is None else now, tolerance)
    if ahead:
        consequence = "it arrived while forget ran"
        if not dry_run:
            consequence += (f", which forgot {counts['removed']} snapshot(s); prune was skipped, so their data is "
                            "still in the repository")
        lines = [refusal_line(s, consequence) for s in ahead]
        for line in lines:
            log(line, level=3)
        result.update(result="refused", message=lines[0])
        return result

    if dry_run:
        restic.run(["check"])
        result.update(result="ok", message=(f"OFFSITE RETENTION DRY RUN: {client}: would keep {counts['kept']}, "
                                            f"remove {counts['removed']} snapshots; not pruned; check clean"))
        return result
    restic.run(["prune"])
    restic.run(["check"])
    result.update(result="ok", message=(f"OFFSITE RETENTION OK: {client}: kept {counts['kept']}, "
                                        f"removed {counts['removed']} snapshots; pruned; check clean"))
    return result


def write_json(path: str, data: dict) -> None:
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def record(state_dir: str, result: dict) -> None:
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    write_json(os.path.join(state_dir, "last.json"), result)
    fd = os.open(os.path.join(state_dir, "history.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(json.dumps(result, sort_keys=True) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="the client's retention configuration (JSON)")
    parser.add_argument("--dry-run", action="store_true",
                        help="forget --dry-run, no prune, no state written")
    args = parser.parse_args(argv)
    os.umask(0o077)
    try:
        cfg = load_config(args.config)
    except JobError as exc:
        log(f"OFFSITE RETENTION FAILED: {printable(args.config)}: {exc}", level=3)
        return 1
    client = printable(cfg["client"])
    result = {"result": "failed", "time": utcnow().isoformat(timespec="seconds"), "client": cfg["client"],
              "repository": cfg["repository"], "kept": None, "removed": None, "snapshots_before": None,
              "message": ""}
    try:
        retention(cfg, Restic(cfg, password_file(os.environ, cfg)), result, dry_run=args.dry_run)
    except JobError as exc:
        result.update(result="failed", message=f"OFFSITE RETENTION FAILED: {client}: {exc}")
        log(result["message"], level=3)
    if result["result"] == "ok":
        log(result["message"])
    if not args.dry_run:
        try:
            record(cfg["state_dir"], result)
        except OSError as exc:
            log(f"OFFSITE RETENTION FAILED: {client}: cannot write the state in {cfg['state_dir']}: {exc}", level=3)
            return 1
    return 0 if result["result"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
