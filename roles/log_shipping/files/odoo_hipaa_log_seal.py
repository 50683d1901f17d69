#!/usr/bin/python3
# Managed by onprem.odoo_hipaa (role log_shipping). GPL-3.0-or-later.
"""Seal the aggregator's closed log files, and verify the seals.

    odoo-hipaa-log-seal seal   [--config FILE] [--now ISO-8601]
    odoo-hipaa-log-seal verify [--config FILE] [--full] [--anchor sha256:HEX ...]
                               [--anchors-file FILE] [--json-out FILE] [--now ISO-8601]

HIPAA §164.312(b) audit controls, §164.312(c)(1) integrity (logs nobody can
quietly edit), §164.316(b)(2)(i) six-year retention.

logrotate only renames the stored files (`<host>/messages.log-YYYYMMDD-<epoch>`).
A `seal` run (root, daily, after logrotate):
  1. compresses each renamed file that is quiet (unchanged for quiet_minutes)
     and open in no process, checks the archive against the plain file's
     SHA-256, and removes the plain file;
  2. makes every closed, unsealed archive immutable (chattr +i) and records
     its path, size and SHA-256;
  3. expires what was sealed more than retention_days ago (chattr -i, unlink,
     an `expire` line: the chain says what left and when);
  4. writes manifest number N with `prev sha256:<manifest N-1>`, signs it with
     `ssh-keygen -Y sign` (an ed25519 key made on this host, never leaving
     it) and makes the manifest and its signature immutable.
The first run writes manifest 1 (genesis) over whatever is already stored.

`verify` walks the chain: numbers without a gap, each `prev` link, each
signature (against the pinned key when configured, else the key beside the
private one), every sealed file present with its size, immutable, and its
SHA-256 (sealed in the last 40 days, or all with --full), no closed file left
unsealed longer than max_unsealed_hours, and every anchor (a head recorded
off this host, e.g. by the evidence report) still in the chain. It prints
JSON and exits 0 only when nothing is wrong.

Root on this host can still rewrite what was sealed after the last anchor;
everything before it is detected. The configuration is JSON written by the role.
"""

from __future__ import annotations

import argparse
import array
import datetime as dt
import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CONFIG = "/etc/odoo-hipaa-log-seal/seal.json"
MAGIC = "odoo-hipaa-log-seal manifest v1"
NAMESPACE = "odoo-hipaa-log-seal"
# logrotate's renamed file (dateext, dateformat -%Y%m%d-%s) and a sealed archive.
ROTATED = re.compile(r"\.log-[0-9]{8}(-[0-9]+)?$")
ARCHIVE = re.compile(r"\.log-[0-9]{8}(-[0-9]+)?(\.[0-9]+)?\.gz$")
MANIFEST = re.compile(r"^([0-9]{6,})\.manifest$")
RECENT_DAYS = 40
FS_IOC_GETFLAGS = 0x80086601
FS_IMMUTABLE_FL = 0x00000010
DEFAULTS = {
    "stores": ["/var/log/remote"],
    "state_dir": "/var/lib/odoo-hipaa-log-seal",
    "key": "/etc/odoo-hipaa-log-seal/seal_ed25519",
    "identity": "log-seal",
    "pinned_key": "",
    "retention_days": 2190,
    "quiet_minutes": 10,
    "max_unsealed_hours": 36,
}


class SealError(Exception):
    """A run could not complete (the message says why)."""


# --- pure logic (unit-tested) ------------------------------------------------

def utc(text):
    """An ISO-8601 time as an aware UTC datetime (a naive one is UTC)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def stamp(when):
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_manifest(seq, when, prev, identity, files, expired):
    """The manifest's bytes: a header, then one line per sealed or expired file."""
    lines = [MAGIC, "seq %d" % seq, "time %s" % stamp(when), "identity %s" % identity, "prev %s" % prev]
    lines += ["file %s size %d sha256 %s" % (path, size, sha) for path, size, sha in files]
    lines += ["expire %s sha256 %s" % (path, sha) for path, sha in expired]
    return ("\n".join(lines) + "\n").encode()


def parse_manifest(data):
    """The manifest's fields; SealError when it is not one."""
    text = data.decode("utf-8", "strict")
    lines = text.splitlines()
    if not lines or lines[0] != MAGIC:
        raise SealError("not a seal manifest (first line %r)" % (lines[0] if lines else ""))
    out = {"files": [], "expired": []}
    for line in lines[1:]:
        key, _sep, rest = line.partition(" ")
        if key == "seq":
            out["seq"] = int(rest)
        elif key in ("time", "identity", "prev"):
            out[key] = rest
        elif key == "file":
            m = re.match(r"^(/.+) size ([0-9]+) sha256 ([0-9a-f]{64})$", rest)
            if not m:
                raise SealError("bad file line %r" % line)
            out["files"].append((m.group(1), int(m.group(2)), m.group(3)))
        elif key == "expire":
            m = re.match(r"^(/.+) sha256 ([0-9a-f]{64})$", rest)
            if not m:
                raise SealError("bad expire line %r" % line)
            out["expired"].append((m.group(1), m.group(2)))
        else:
            raise SealError("unknown line %r" % line)
    for key in ("seq", "time", "prev"):
        if key not in out:
            raise SealError("no %s line" % key)
    return out


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def fold_chain(manifests):
    """Walk the manifests ([(name, bytes)], in order) and return the chain's state
    and its problems: {head, seq, sealed: {path: (size, sha, time)}, expired}."""
    problems, sealed, expired, prev, head, last_seq = [], {}, 0, "genesis", None, 0
    for name, data in manifests:
        try:
            m = parse_manifest(data)
        except (SealError, UnicodeDecodeError, ValueError) as exc:
            problems.append("manifest %s unreadable: %s" % (name, exc))
            prev, head = digest(data), digest(data)
            continue
        if m["seq"] != last_seq + 1:
            problems.append("manifest %s has number %d where %d was expected (a manifest is missing)"
                            % (name, m["seq"], last_seq + 1))
        last_seq = m["seq"]
        if m["prev"] != prev:
            problems.append("manifest %s links to %s, not to the manifest before it (%s)" % (name, m["prev"], prev))
        for path, size, sha in m["files"]:
            sealed[path] = (size, sha, m["time"])
        for path, sha in m["expired"]:
            if path not in sealed:
                problems.append("manifest %s expires %s, which no manifest sealed" % (name, path))
            sealed.pop(path, None)
            expired += 1
        prev = head = digest(data)
    return {"head": head, "seq": last_seq, "sealed": sealed, "expired": expired}, problems


def due_for_expiry(sealed, now, retention_days):
    """Sealed paths whose seal is older than the retention, oldest first."""
    limit = now - dt.timedelta(days=retention_days)
    return sorted((p for p, (_s, _h, t) in sealed.items() if utc(t) < limit), key=lambda p: sealed[p][2])


def archive_name(plain, exists):
    """Where a renamed file's archive goes: <plain>.gz, or <plain>.<n>.gz if taken."""
    candidate, n = plain + ".gz", 1
    while exists(candidate):
        candidate, n = "%s.%d.gz" % (plain, n), n + 1
    return candidate


# --- the host ----------------------------------------------------------------

def load_config(path):
    cfg = dict(DEFAULTS)
    try:
        with open(path, encoding="utf-8") as fh:
            cfg.update(json.load(fh))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise SealError("configuration %s unreadable: %s" % (path, exc))
    return cfg


def manifest_dir(cfg):
    return os.path.join(cfg["state_dir"], "manifests")


def read_manifests(cfg):
    d = manifest_dir(cfg)
    try:
        names = sorted((n for n in os.listdir(d) if MANIFEST.match(n)), key=lambda n: int(MANIFEST.match(n).group(1)))
    except FileNotFoundError:
        return []
    out = []
    for n in names:
        with open(os.path.join(d, n), "rb") as fh:
            out.append((n, fh.read()))
    return out


def sha256_file(path, opener=open):
    h = hashlib.sha256()
    with opener(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def open_paths():
    """Every path some process holds open (read through /proc/*/fd)."""
    held = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fd_dir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                held.add(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:
                pass
    return held


def closed_files(cfg):
    """(rotated plain files, archives) in the stores, as absolute paths."""
    rotated, archives = [], []
    for store in cfg["stores"]:
        for root, dirs, files in os.walk(store):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(root, f)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                if ROTATED.search(f):
                    rotated.append(path)
                elif ARCHIVE.search(f):
                    archives.append(path)
    return rotated, archives


def immutable(path):
    """True/False, or None when the filesystem cannot say."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        buf = array.array("l", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf, True)
        return bool(buf[0] & FS_IMMUTABLE_FL)
    except OSError:
        return None
    finally:
        os.close(fd)


def chattr(flag, paths):
    if paths:
        run = subprocess.run(["chattr", flag, "--"] + list(paths), capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise SealError("chattr %s failed: %s" % (flag, run.stderr.strip()))


def compress(plain):
    """Gzip a renamed file beside it, checked against the plain file's hash; the
    plain file is removed once the archive is on disk. Returns the archive."""
    st = os.stat(plain)
    plain_sha = sha256_file(plain)
    target = archive_name(plain, os.path.exists)
    fd, tmp = tempfile.mkstemp(prefix=".seal-", dir=os.path.dirname(plain))
    try:
        with os.fdopen(fd, "wb") as raw, open(plain, "rb") as src:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=int(st.st_mtime)) as gz:
                shutil.copyfileobj(src, gz, 1 << 20)
            raw.flush()
            os.fsync(raw.fileno())
        if sha256_file(tmp, gzip.open) != plain_sha:
            raise SealError("the archive of %s does not read back as the file" % plain)
        os.chown(tmp, st.st_uid, st.st_gid)
        os.chmod(tmp, st.st_mode & 0o7777)
        os.utime(tmp, (st.st_atime, st.st_mtime))
        os.rename(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    os.unlink(plain)
    return target


def sign(cfg, path):
    sig = path + ".sig"
    if os.path.exists(sig):
        os.unlink(sig)
    run = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", cfg["key"], "-n", NAMESPACE, path],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SealError("ssh-keygen could not sign %s: %s" % (path, run.stderr.strip()))
    return sig


def public_key(cfg):
    if cfg.get("pinned_key"):
        return cfg["pinned_key"].strip(), True
    try:
        with open(cfg["key"] + ".pub", encoding="utf-8") as fh:
            return fh.read().strip(), False
    except OSError as exc:
        raise SealError("no public key to verify with: %s" % exc)


def signature_ok(cfg, path, key):
    fields = key.split()
    with tempfile.NamedTemporaryFile("w", prefix="seal-signers-", delete=False) as fh:
        fh.write('%s namespaces="%s" %s\n' % (cfg["identity"], NAMESPACE, " ".join(fields[:2])))
        signers = fh.name
    try:
        with open(path, "rb") as data:
            run = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", signers, "-I", cfg["identity"],
                                  "-n", NAMESPACE, "-s", path + ".sig"], stdin=data, capture_output=True, text=True,
                                 check=False)
        return run.returncode == 0, (run.stderr or run.stdout).strip()
    finally:
        os.unlink(signers)


def seal(cfg, now):
    manifests = read_manifests(cfg)
    chain, problems = fold_chain(manifests)
    if problems:
        raise SealError("the chain is broken, nothing sealed until it is examined: " + "; ".join(problems))
    quiet = now.timestamp() - 60 * cfg["quiet_minutes"]
    rotated, archives = closed_files(cfg)
    held = open_paths() if rotated else set()
    compressed = []
    for plain in rotated:
        if os.stat(plain).st_mtime <= quiet and plain not in held:
            compressed.append(compress(plain))
    _rotated, archives = closed_files(cfg)
    new = []
    for path in archives:
        st = os.stat(path)
        if path in chain["sealed"] or st.st_mtime > quiet:
            continue
        new.append((path, st.st_size, sha256_file(path)))
    expire = due_for_expiry(chain["sealed"], now, cfg["retention_days"])
    if not new and not expire and manifests:
        return {"result": "nothing to seal", "head": chain["head"], "seq": chain["seq"]}
    chattr("+i", [p for p, _s, _h in new])
    present = [p for p in expire if os.path.lexists(p)]
    chattr("-i", present)
    for p in present:
        os.unlink(p)
    seq = chain["seq"] + 1
    data = render_manifest(seq, now, chain["head"] or "genesis", cfg["identity"], new,
                           [(p, chain["sealed"][p][1]) for p in expire])
    d = manifest_dir(cfg)
    os.makedirs(d, mode=0o750, exist_ok=True)
    path = os.path.join(d, "%06d.manifest" % seq)
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    chattr("+i", [path, sign(cfg, path)])
    return {"result": "sealed", "seq": seq, "head": digest(data), "sealed": len(new),
            "compressed": len(compressed), "expired": len(expire)}


def verify(cfg, now, full=False, anchors=()):
    problems, notes = [], []
    manifests = read_manifests(cfg)
    chain, chain_problems = fold_chain(manifests)
    problems += chain_problems
    if not manifests:
        problems.append("no manifest: nothing has been sealed yet")
    key, pinned = public_key(cfg)
    d = manifest_dir(cfg)
    for name, _data in manifests:
        path = os.path.join(d, name)
        if not os.path.exists(path + ".sig"):
            problems.append("manifest %s has no signature" % name)
        else:
            ok, why = signature_ok(cfg, path, key)
            if not ok:
                problems.append("manifest %s: signature does not verify with the %s key (%s)"
                                % (name, "pinned" if pinned else "host's", why))
        for p in (path, path + ".sig"):
            if os.path.exists(p) and immutable(p) is not True:
                problems.append("%s is not immutable" % p)
    recent = now - dt.timedelta(days=RECENT_DAYS)
    hashed = 0
    for path, (size, sha, when) in sorted(chain["sealed"].items()):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            problems.append("%s is sealed but missing" % path)
            continue
        if st.st_size != size:
            problems.append("%s has %d bytes, sealed with %d" % (path, st.st_size, size))
            continue
        if immutable(path) is not True:
            problems.append("%s is not immutable" % path)
        if full or utc(when) >= recent:
            hashed += 1
            if sha256_file(path) != sha:
                problems.append("%s does not match its seal (sha256 differs)" % path)
    rotated, archives = closed_files(cfg)
    late = now.timestamp() - 3600 * cfg["max_unsealed_hours"]
    pending = 0
    for path in rotated + [a for a in archives if a not in chain["sealed"]]:
        if os.stat(path).st_mtime < late:
            problems.append("%s is closed and unsealed for more than %d h" % (path, cfg["max_unsealed_hours"]))
        else:
            pending += 1
    known = {digest(data) for _n, data in manifests}
    for anchor in anchors:
        if anchor not in known:
            problems.append("anchor %s is not in the chain (history rewritten or a manifest removed)" % anchor)
    if not pinned:
        notes.append("the signing key is not pinned in the inventory (log_shipping_seal_public_key)")
    return {
        "ok": not problems, "time": stamp(now), "full": full, "head": chain["head"], "seq": chain["seq"],
        "files": len(chain["sealed"]), "hashed": hashed, "expired": chain["expired"], "pending": pending,
        "anchors": len(anchors), "pinned": pinned, "key": " ".join(key.split()[:2]), "problems": problems,
        "notes": notes,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(prog="odoo-hipaa-log-seal", description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("command", choices=["seal", "verify"])
    ap.add_argument("--config", default=CONFIG)
    ap.add_argument("--now", help="the time to judge by (tests); default: the clock")
    ap.add_argument("--full", action="store_true", help="verify: hash every sealed file")
    ap.add_argument("--anchor", action="append", default=[], help="verify: a head (sha256:HEX) recorded off-host")
    ap.add_argument("--anchors-file", help="verify: a file of anchors, the last field of each line")
    ap.add_argument("--json-out", help="verify: also write the result here")
    args = ap.parse_args(argv)
    now = utc(args.now) if args.now else dt.datetime.now(dt.timezone.utc)
    try:
        cfg = load_config(args.config)
        if args.command == "seal":
            out = seal(cfg, now)
            print("LOG SEAL %s: %s" % (stamp(now), json.dumps(out, sort_keys=True)))
            return 0
        anchors = list(args.anchor)
        if args.anchors_file and os.path.exists(args.anchors_file):
            with open(args.anchors_file, encoding="utf-8") as fh:
                anchors += [line.split()[-1] for line in fh if line.strip()]
        out = verify(cfg, now, args.full, anchors)
    except (SealError, OSError) as exc:
        print("LOG SEAL FAILED: %s" % exc, file=sys.stderr)
        return 2
    text = json.dumps(out, sort_keys=True)
    if args.json_out:
        tmp = args.json_out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, args.json_out)
    print(text)
    if not out["ok"]:
        print("LOG SEAL VERIFY FAILED: %s" % "; ".join(out["problems"]), file=sys.stderr)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
