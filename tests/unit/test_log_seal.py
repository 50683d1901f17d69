"""Unit tests for the aggregator's log seal
(roles/log_shipping/files/odoo_hipaa_log_seal.py): the manifest and chain
logic, then seal/verify end to end on a scratch store with the real
ssh-keygen (chattr and the immutable flag are simulated here; the Molecule
scenario log_shipping runs them for real)."""

import datetime as dt
import gzip
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[2] / "roles" / "log_shipping" / "files" / "odoo_hipaa_log_seal.py"
_spec = importlib.util.spec_from_file_location("odoo_hipaa_log_seal", _PATH)
seal = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seal)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 3, 2, 30, tzinfo=UTC)
SHA = "a" * 64


def test_manifest_round_trip():
    data = seal.render_manifest(3, NOW, "sha256:" + SHA, "agg", [("/s/h/m.log-20261202-1.gz", 10, SHA)],
                                [("/s/h/old.gz", SHA)])
    m = seal.parse_manifest(data)
    assert m["seq"] == 3 and m["prev"] == "sha256:" + SHA and m["time"] == "2026-12-03T02:30:00Z"
    assert m["files"] == [("/s/h/m.log-20261202-1.gz", 10, SHA)] and m["expired"] == [("/s/h/old.gz", SHA)]


@pytest.mark.parametrize("data", [b"", b"something else\n", seal.MAGIC.encode() + b"\nseq 1\n",
                                  seal.MAGIC.encode() + b"\nseq 1\ntime x\nprev genesis\nfile relative size 1 sha256 "
                                  + SHA.encode() + b"\n",
                                  seal.MAGIC.encode() + b"\nseq 1\ntime x\nprev genesis\nrm -rf /\n"])
def test_a_malformed_manifest_is_refused(data):
    with pytest.raises(seal.SealError):
        seal.parse_manifest(data)


def _chain(*specs):
    out, prev = [], "genesis"
    for i, (files, expired) in enumerate(specs, 1):
        data = seal.render_manifest(i, NOW - dt.timedelta(days=10 - i), prev, "agg", files, expired)
        out.append(("%06d.manifest" % i, data))
        prev = seal.digest(data)
    return out


def test_the_chain_folds_seals_and_expiries():
    chain, problems = seal.fold_chain(_chain(([("/a.gz", 1, SHA), ("/b.gz", 2, SHA)], []), ([], [("/a.gz", SHA)])))
    assert problems == [] and chain["seq"] == 2 and set(chain["sealed"]) == {"/b.gz"} and chain["expired"] == 1


def test_a_missing_manifest_and_a_broken_link_are_named():
    manifests = _chain(([("/a.gz", 1, SHA)], []), ([("/b.gz", 1, SHA)], []), ([("/c.gz", 1, SHA)], []))
    _chain_state, problems = seal.fold_chain([manifests[0], manifests[2]])
    assert any("number 3 where 2 was expected" in p for p in problems)
    assert any("000003.manifest links to" in p for p in problems)


def test_expiry_counts_from_the_seal_time():
    sealed = {"/old.gz": (1, SHA, "2020-12-01T00:00:00Z"), "/new.gz": (1, SHA, "2026-12-01T00:00:00Z")}
    assert seal.due_for_expiry(sealed, NOW, 2190) == ["/old.gz"]
    assert seal.due_for_expiry(sealed, NOW, 3000) == []


def test_a_second_archive_of_the_same_name_gets_a_number():
    taken = {"/x.log-20261202.gz", "/x.log-20261202.1.gz"}
    assert seal.archive_name("/x.log-20261202", taken.__contains__) == "/x.log-20261202.2.gz"
    assert seal.ARCHIVE.search("x.log-20261202.2.gz") and seal.ARCHIVE.search("x.log-20261202-1764720000.gz")
    assert not seal.ROTATED.search("messages.log") and seal.ROTATED.search("messages.log-20261202-1764720000")


# --------------------------------------------------------------------------
# seal and verify on a scratch store

@pytest.fixture()
def lab(tmp_path, monkeypatch):
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed")
    flags = set()

    def fake_chattr(flag, paths):
        for p in paths:
            (flags.add if flag == "+i" else flags.discard)(os.path.abspath(p))

    monkeypatch.setattr(seal, "chattr", fake_chattr)
    monkeypatch.setattr(seal, "immutable", lambda p: os.path.abspath(p) in flags)
    monkeypatch.setattr(seal, "open_paths", set)
    store, state, etc = tmp_path / "remote", tmp_path / "state", tmp_path / "etc"
    (store / "app-01").mkdir(parents=True)
    etc.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "seal", "-f", str(etc / "k")], check=True)
    cfg = dict(seal.DEFAULTS, stores=[str(store)], state_dir=str(state), key=str(etc / "k"), identity="agg")
    cfg["flags"] = flags
    cfg["store"] = store / "app-01"
    return cfg


def _old(path, hours=1):
    t = NOW.timestamp() - 3600 * hours
    os.utime(path, (t, t))


def _rotated(cfg, name, text, hours=1):
    p = cfg["store"] / name
    p.write_text(text)
    _old(p, hours)
    return p


def test_seal_compresses_seals_signs_and_verifies(lab):
    (lab["store"] / "messages.log").write_text("active line\n")
    plain = _rotated(lab, "messages.log-20261202-1764633600", "line 1\nline 2\n")
    out = seal.seal(lab, NOW)
    assert out["result"] == "sealed" and out["seq"] == 1 and out["sealed"] == 1 and out["compressed"] == 1
    gz = pathlib.Path(str(plain) + ".gz")
    assert not plain.exists() and gzip.decompress(gz.read_bytes()) == b"line 1\nline 2\n"
    assert str(gz) in lab["flags"] and str(lab["store"] / "messages.log") not in lab["flags"]
    v = seal.verify(lab, NOW)
    assert v["ok"], v["problems"]
    assert v["files"] == 1 and v["hashed"] == 1 and v["head"] == out["head"] and not v["pinned"]
    # Nothing new: no manifest.
    assert seal.seal(lab, NOW)["result"] == "nothing to seal"


def test_a_recent_or_open_file_waits(lab, monkeypatch):
    young = _rotated(lab, "messages.log-20261203-1764727200", "x\n", hours=0)
    held = _rotated(lab, "messages.log-20261203-1764727300", "y\n")
    monkeypatch.setattr(seal, "open_paths", lambda: {str(held)})
    seal.seal(lab, NOW)
    assert young.exists() and held.exists()
    v = seal.verify(lab, NOW)
    assert v["ok"] and v["pending"] == 2
    late = seal.verify(lab, NOW + dt.timedelta(hours=40))
    assert not late["ok"] and sum("unsealed for more than 36 h" in p for p in late["problems"]) == 2


def _tamper(lab, fn):
    _rotated(lab, "messages.log-20261201-1764547200", "a\n")
    _rotated(lab, "messages.log-20261202-1764633600", "b\n")
    first = seal.seal(lab, NOW)
    fn(lab, first)
    return seal.verify(lab, NOW, anchors=[first["head"]])


def test_an_edited_archive_is_detected(lab):
    def edit(lab, _first):
        gz = lab["store"] / "messages.log-20261202-1764633600.gz"
        gz.write_bytes(gzip.compress(b"c\n"))
    v = _tamper(lab, edit)
    assert not v["ok"] and any("messages.log-20261202-1764633600.gz" in p for p in v["problems"])


def test_an_edit_of_the_same_size_is_caught_by_the_hash(lab):
    def edit(lab, _first):
        gz = lab["store"] / "messages.log-20261202-1764633600.gz"
        data = bytearray(gz.read_bytes())
        data[-5] ^= 1
        gz.write_bytes(bytes(data))
    v = _tamper(lab, edit)
    assert any("sha256 differs" in p for p in v["problems"])


def test_a_deleted_archive_is_detected(lab):
    v = _tamper(lab, lambda lab, _f: (lab["store"] / "messages.log-20261201-1764547200.gz").unlink())
    assert any("messages.log-20261201-1764547200.gz is sealed but missing" in p for p in v["problems"])


def test_a_chain_resigned_with_another_key_fails_against_the_pinned_key(lab):
    pinned = (pathlib.Path(lab["key"] + ".pub")).read_text()

    def resign(lab, _first):
        os.unlink(lab["key"])
        os.unlink(lab["key"] + ".pub")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", lab["key"]], check=True)
        m = pathlib.Path(lab["state_dir"]) / "manifests" / "000001.manifest"
        seal.sign(lab, str(m))
    v = _tamper(lab, resign)
    assert v["ok"]                       # unpinned: the replaced host key signs
    lab["pinned_key"] = pinned
    v = seal.verify(lab, NOW)
    assert not v["ok"] and any("signature does not verify with the pinned key" in p for p in v["problems"])


def test_a_rewritten_history_fails_against_the_anchor(lab):
    def rewrite(lab, _first):
        m = pathlib.Path(lab["state_dir"]) / "manifests" / "000001.manifest"
        gz = lab["store"] / "messages.log-20261201-1764547200.gz"
        gz.write_bytes(gzip.compress(b"forged\n"))
        text = m.read_text()
        old = [line for line in text.splitlines() if gz.name in line][0]
        new = "file %s size %d sha256 %s" % (gz, gz.stat().st_size, seal.sha256_file(str(gz)))
        m.write_text(text.replace(old, new))
        seal.sign(lab, str(m))
    v = _tamper(lab, rewrite)
    assert any("is not in the chain" in p for p in v["problems"])
    assert [p for p in v["problems"] if "differs" in p or "bytes" in p] == []   # the forger was careful


def test_a_removed_manifest_is_detected(lab):
    def remove(lab, _first):
        _rotated(lab, "messages.log-20261203-1764720000", "c\n")
        seal.seal(lab, NOW)
        (pathlib.Path(lab["state_dir"]) / "manifests" / "000001.manifest").unlink()
    v = _tamper(lab, remove)
    assert any("number 2 where 1 was expected" in p for p in v["problems"])


def test_retention_expires_inside_the_chain(lab):
    _rotated(lab, "messages.log-20261202-1764633600", "b\n")
    seal.seal(lab, NOW)
    later = NOW + dt.timedelta(days=2191)
    out = seal.seal(lab, later)
    assert out["expired"] == 1 and out["seq"] == 2
    assert list(lab["store"].glob("*.gz")) == []
    v = seal.verify(lab, later)
    assert v["ok"], v["problems"]
    assert v["expired"] == 1 and v["files"] == 0
    text = (pathlib.Path(lab["state_dir"]) / "manifests" / "000002.manifest").read_text()
    assert "expire %s" % (lab["store"] / "messages.log-20261202-1764633600.gz") in text


def test_a_broken_chain_stops_the_seal(lab):
    _rotated(lab, "messages.log-20261202-1764633600", "b\n")
    seal.seal(lab, NOW)
    m = pathlib.Path(lab["state_dir"]) / "manifests" / "000001.manifest"
    m.write_text(m.read_text().replace("seq 1", "seq 7"))
    _rotated(lab, "messages.log-20261203-1764720000", "c\n")
    with pytest.raises(seal.SealError, match="chain is broken"):
        seal.seal(lab, NOW)


def test_main_prints_json_and_exits_by_the_result(lab, tmp_path, capsys):
    conf = tmp_path / "seal.json"
    conf.write_text(json.dumps({k: v for k, v in lab.items() if k not in ("flags", "store")}))
    _rotated(lab, "messages.log-20261202-1764633600", "b\n")
    assert seal.main(["seal", "--config", str(conf), "--now", "2026-12-03T02:30:00Z"]) == 0
    assert "LOG SEAL 2026-12-03T02:30:00Z" in capsys.readouterr().out
    out = tmp_path / "last.json"
    assert seal.main(["verify", "--config", str(conf), "--full", "--json-out", str(out),
                      "--now", "2026-12-03T02:31:00Z"]) == 0
    assert json.loads(out.read_text())["full"] is True
    assert seal.main(["verify", "--config", str(conf), "--anchor", "sha256:" + SHA]) == 1
