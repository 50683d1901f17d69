# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCRAM-SHA-256 verifiers for PostgreSQL roles, computed on the controller.

The role sends PostgreSQL a verifier, never the password, so the plaintext
cannot appear in the server's statement or pgaudit logs.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: scram_sha256_verifier
short_description: PostgreSQL SCRAM-SHA-256 verifier for a password, stable across runs
description:
  - Returns a verifier in PostgreSQL's C(rolpassword) format,
    C(SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>).
  - When O(current) is a verifier that already matches the password it is
    returned unchanged, so a role whose password did not change is left
    alone despite the random salt.
positional: current
options:
  _input:
    description: The password (from a vaulted variable).
    type: string
    required: true
  current:
    description: The role's current C(rolpassword), or empty.
    type: string
    default: ''
  iterations:
    description: PBKDF2 iteration count for a new verifier (PostgreSQL's default is 4096).
    type: int
    default: 4096
"""

EXAMPLES = r"""
password: "{{ postgresql_odoo_password | onprem.odoo_hipaa.scram_sha256_verifier(current_rolpassword) }}"
"""

RETURN = r"""
_value:
  description: The SCRAM-SHA-256 verifier.
  type: string
"""

import base64
import hashlib
import hmac
import os
import re
import unicodedata

from ansible.errors import AnsibleFilterError

VERIFIER_RE = re.compile(
    r"^SCRAM-SHA-256\$(?P<iter>\d+):(?P<salt>[A-Za-z0-9+/=]+)"
    r"\$(?P<stored>[A-Za-z0-9+/=]+):(?P<server>[A-Za-z0-9+/=]+)$"
)


def _normalize(password):
    # PostgreSQL applies SASLprep when the password is valid UTF-8 and
    # prepable; NFKC normalisation covers it for the passwords Ansible passes.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", _normalize(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _format(salt, iterations, stored_key, server_key):
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, _b64(salt), _b64(stored_key), _b64(server_key))


def verifies(password, verifier):
    """True when verifier is a SCRAM-SHA-256 verifier of password."""
    match = VERIFIER_RE.match(verifier or "")
    if not match:
        return False
    salt = base64.b64decode(match.group("salt"))
    iterations = int(match.group("iter"))
    stored_key, server_key = _keys(password, salt, iterations)
    return hmac.compare_digest(base64.b64decode(match.group("stored")), stored_key) and hmac.compare_digest(
        base64.b64decode(match.group("server")), server_key
    )


def scram_sha256_verifier(password, current="", iterations=4096):
    if not isinstance(password, str) or password == "":
        raise AnsibleFilterError("scram_sha256_verifier: the password must be a non-empty string")
    if int(iterations) < 4096:
        raise AnsibleFilterError("scram_sha256_verifier: iterations must be at least 4096")
    if current and verifies(password, current):
        return current
    salt = os.urandom(16)
    stored_key, server_key = _keys(password, salt, int(iterations))
    return _format(salt, int(iterations), stored_key, server_key)


class FilterModule(object):
    def filters(self):
        return {"scram_sha256_verifier": scram_sha256_verifier}
