# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Odoo's admin_passwd (master password) as a passlib pbkdf2_sha512 hash,
computed on the controller, so the plaintext never reaches the host."""

from __future__ import annotations

DOCUMENTATION = r"""
name: odoo_admin_passwd
short_description: passlib pbkdf2_sha512 hash of Odoo's master password, stable across runs
description:
  - Returns C($pbkdf2-sha512$<rounds>$<salt>$<checksum>), the form Odoo's
    CryptContext accepts as a pre-hashed C(admin_passwd).
  - When O(current) is a pbkdf2_sha512 hash with at least O(rounds) rounds that
    verifies against the password it is returned unchanged, so a run with an
    unchanged password leaves odoo.conf alone despite the random salt.
positional: current, rounds
options:
  _input:
    description: The master password (from a vaulted variable).
    type: string
    required: true
  current:
    description: The admin_passwd value currently on the host, or empty.
    type: string
    default: ''
  rounds:
    description: PBKDF2 rounds for a new hash (at least 600000).
    type: int
    default: 600000
"""

EXAMPLES = r"""
admin_passwd: "{{ odoo_admin_password | onprem.odoo_hipaa.odoo_admin_passwd(current_admin_passwd) }}"
"""

RETURN = r"""
_value:
  description: The pbkdf2_sha512 hash.
  type: string
"""

import re

from ansible.errors import AnsibleFilterError

try:
    from passlib.hash import pbkdf2_sha512
except ImportError:  # pragma: no cover - reported when the filter is used
    pbkdf2_sha512 = None

MIN_ROUNDS = 600000
HASH_RE = re.compile(r"^\$pbkdf2-sha512\$(?P<rounds>\d+)\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+$")


def _need_passlib():
    if pbkdf2_sha512 is None:
        raise AnsibleFilterError("odoo_admin_passwd needs passlib on the controller (pip install passlib)")


def rounds_of(value):
    """Rounds of a pbkdf2_sha512 hash, or 0 when value is not one."""
    match = HASH_RE.match(value or "")
    return int(match.group("rounds")) if match else 0


def verifies(password, value):
    """True when value is a pbkdf2_sha512 hash of password."""
    _need_passlib()
    if not rounds_of(value):
        return False
    try:
        return bool(pbkdf2_sha512.verify(password, value))
    except (ValueError, TypeError):
        return False


def odoo_admin_passwd(password, current="", rounds=MIN_ROUNDS):
    _need_passlib()
    if not isinstance(password, str) or password == "":
        raise AnsibleFilterError("odoo_admin_passwd: the password must be a non-empty string")
    rounds = int(rounds)
    if rounds < MIN_ROUNDS:
        raise AnsibleFilterError("odoo_admin_passwd: rounds must be at least %d" % MIN_ROUNDS)
    current = (current or "").strip()
    if rounds_of(current) >= rounds and verifies(password, current):
        return current
    return pbkdf2_sha512.using(rounds=rounds).hash(password)


class FilterModule(object):
    def filters(self):
        return {"odoo_admin_passwd": odoo_admin_passwd}
