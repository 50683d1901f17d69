"""Unit tests for the SCRAM-SHA-256 verifier filter (no PostgreSQL needed).

The cross-check against a real server (login with the password) is in the
postgresql Molecule scenario.
"""

import base64
import hashlib
import hmac
import importlib.util
import pathlib

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "filter" / "scram_sha256_verifier.py"
_spec = importlib.util.spec_from_file_location("scram", _PATH)
scram = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scram)


def test_format_matches_postgresql_rolpassword():
    v = scram.scram_sha256_verifier("correct horse battery staple")
    assert scram.VERIFIER_RE.match(v)
    assert v.startswith("SCRAM-SHA-256$4096:")


def test_known_vector_from_rfc7677_style_derivation():
    # Independently derive the keys with the RFC 5802 formulas and compare.
    salt = b"0123456789abcdef"
    stored, server = scram._keys("pencil", salt, 4096)
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)
    assert server == hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert stored == hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()


def test_existing_matching_verifier_is_kept():
    first = scram.scram_sha256_verifier("s3cret-Passw0rd")
    assert scram.scram_sha256_verifier("s3cret-Passw0rd", first) == first


def test_changed_password_gets_new_verifier():
    first = scram.scram_sha256_verifier("s3cret-Passw0rd")
    second = scram.scram_sha256_verifier("other-Passw0rd!", first)
    assert second != first
    assert scram.verifies("other-Passw0rd!", second)
    assert not scram.verifies("s3cret-Passw0rd", second)


def test_new_verifiers_use_random_salt():
    a = scram.scram_sha256_verifier("same")
    b = scram.scram_sha256_verifier("same")
    assert a != b
    assert base64.b64decode(a.split("$")[1].split(":")[1]) != base64.b64decode(b.split("$")[1].split(":")[1])


@pytest.mark.parametrize("current", ["", "md5abc", "SCRAM-SHA-256$garbage", None])
def test_non_verifier_current_value_is_replaced(current):
    v = scram.scram_sha256_verifier("pw", current or "")
    assert scram.verifies("pw", v)


def test_empty_password_is_refused():
    with pytest.raises(Exception, match="non-empty"):
        scram.scram_sha256_verifier("")


def test_too_few_iterations_are_refused():
    with pytest.raises(Exception, match="at least 4096"):
        scram.scram_sha256_verifier("pw", "", 1000)
