"""Unit tests for the odoo_admin_passwd filter (Odoo's master password hash)."""

import importlib.util
import pathlib

import pytest
from passlib.context import CryptContext

_PATH = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "filter" / "odoo_admin_passwd.py"
_spec = importlib.util.spec_from_file_location("odoo_admin_passwd", _PATH)
flt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(flt)

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def first_hash():
    return flt.odoo_admin_passwd(PASSWORD)


def test_format_and_rounds(first_hash):
    assert first_hash.startswith("$pbkdf2-sha512$600000$")
    assert flt.rounds_of(first_hash) == 600000


def test_odoo_crypt_context_accepts_it(first_hash):
    # The same context Odoo's tools/config.py builds for admin_passwd.
    ctx = CryptContext(["pbkdf2_sha512", "plaintext"], deprecated=["plaintext"], pbkdf2_sha512__rounds=600_000)
    assert ctx.identify(first_hash) == "pbkdf2_sha512"
    assert ctx.verify(PASSWORD, first_hash)
    assert not ctx.verify("wrong", first_hash)


def test_matching_hash_is_kept(first_hash):
    assert flt.odoo_admin_passwd(PASSWORD, first_hash) == first_hash
    assert flt.odoo_admin_passwd(PASSWORD, first_hash + "\n") == first_hash


def test_changed_password_gets_a_new_hash(first_hash):
    new = flt.odoo_admin_passwd("another passw0rd", first_hash)
    assert new != first_hash and flt.verifies("another passw0rd", new)


def test_random_salt():
    assert flt.odoo_admin_passwd("same", "", 600000) != flt.odoo_admin_passwd("same", "", 600000)


def test_a_weaker_hash_of_the_same_password_is_replaced():
    from passlib.hash import pbkdf2_sha512
    weak = pbkdf2_sha512.using(rounds=1000).hash(PASSWORD)
    new = flt.odoo_admin_passwd(PASSWORD, weak)
    assert new != weak and flt.rounds_of(new) == 600000


@pytest.mark.parametrize("current", ["", "admin", "False", "$pbkdf2-sha512$garbage", None])
def test_plaintext_or_garbage_is_replaced(current):
    assert flt.verifies(PASSWORD, flt.odoo_admin_passwd(PASSWORD, current))


def test_empty_password_is_refused():
    with pytest.raises(Exception, match="non-empty"):
        flt.odoo_admin_passwd("")


def test_too_few_rounds_are_refused():
    with pytest.raises(Exception, match="at least 600000"):
        flt.odoo_admin_passwd("pw", "", 1000)
