# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is wrong with a secret given as input, in words that never repeat the
secret, or '' when nothing is."""

from __future__ import annotations

DOCUMENTATION = r"""
name: secret_problem
author: onprem.odoo_hipaa contributors (@onprem)
short_description: what is wrong with a secret ('' when nothing is), without repeating it
description:
  - The roles compute this under C(no_log) and then assert on the result
    without C(no_log), so a refused secret is explained (too short, a
    placeholder) and never shown.
  - "Rules: a non-empty string; at least O(min_length) characters; not a
    placeholder (C(changeme), C(password), C(secret), C(<...>), C(xxxx) ...);
    more than two distinct characters."
positional: min_length
options:
  _input:
    description: The secret.
    type: raw
    required: true
  min_length:
    description: The fewest characters accepted.
    type: int
    default: 16
"""

EXAMPLES = r"""
- name: Describe the backup password's problem (no_log; the result holds no secret)
  ansible.builtin.set_fact:
    __backup_password_problem: "{{ backup_password | default('') | onprem.odoo_hipaa.secret_problem(20) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The first rule the secret breaks, in words (never the secret), or an empty string.
  type: string
"""

import re

# Whole values (letters and digits only, lower case) that are placeholders.
PLACEHOLDERS = frozenset([
    "changeme", "password", "passw0rd", "secret", "placeholder", "example", "default", "todo", "fixme",
    "admin", "test", "letmein", "vault", "none", "null", "undefined",
])
# Fragments that mark a value as not yet filled in.
MARKERS = ("changeme", "change_me", "change-me", "replaceme", "replace_me", "placeholder", "xxxx",
           "<", ">", "{{", "}}", "todo")


def secret_problem(secret, min_length=16):
    if not isinstance(secret, str) or not secret:
        return "is missing or empty"
    if len(secret) < int(min_length):
        return "has %d characters; at least %d are required" % (len(secret), int(min_length))
    low = secret.lower()
    if re.sub(r"[^a-z0-9]", "", low) in PLACEHOLDERS or any(m in low for m in MARKERS):
        return "looks like a placeholder (changeme, <...>, xxxx, todo ...), not a real secret"
    if len(set(secret)) <= 2:
        return "repeats one or two characters; it is not a real secret"
    return ""


class FilterModule(object):
    def filters(self):
        return {"secret_problem": secret_problem}
