# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is wrong with a path a role will write into a configuration file or
create on a host, in words, or '' when nothing is."""

from __future__ import annotations

DOCUMENTATION = r"""
name: path_problem
author: onprem.odoo_hipaa contributors (@onprem)
short_description: what is wrong with a host path given as input ('' when nothing is)
description:
  - The roles check every path they write into a configuration file or create
    on a host with this filter, before any change, so a careless value is
    refused with the rule it breaks (one rule, the first one broken) instead of
    failing later in nginx, systemd or PostgreSQL after files have changed.
  - "Rules: a non-empty string; absolute; no whitespace or control character;
    only letters, digits and C(. _ - + @ = , : /); no empty, C(.) or C(..)
    component and no trailing slash; not a system directory (C(/), C(/etc),
    C(/usr), C(/var) ... themselves); below one of O(below) when given."
positional: below
options:
  _input:
    description: The path.
    type: raw
    required: true
  below:
    description: Directories the path must lie beneath (or equal); empty means anywhere that is not a system directory.
    type: list
    elements: string
    default: []
"""

EXAMPLES = r"""
- name: Refuse an access log path nginx would choke on
  ansible.builtin.assert:
    that: (nginx_access_log | onprem.odoo_hipaa.path_problem(['/var/log'])) == ''
    fail_msg: "nginx_access_log is '{{ nginx_access_log }}': {{ nginx_access_log | onprem.odoo_hipaa.path_problem(['/var/log']) }}."
"""

RETURN = r"""
_value:
  description: The first rule the path breaks, in words, or an empty string.
  type: string
"""

import re

_ALLOWED = re.compile(r"^[A-Za-z0-9._+@=,:/-]+$")
SYSTEM_DIRS = frozenset([
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt", "/proc",
    "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
    "/usr/sbin", "/usr/share", "/var", "/var/lib", "/var/log", "/var/cache", "/var/tmp", "/var/backups",
])


def path_problem(path, below=None):
    if not isinstance(path, str) or not path:
        return "is empty or not a string"
    if not path.startswith("/"):
        return "is not an absolute path"
    bad = [c for c in path if c.isspace() or ord(c) < 32 or ord(c) == 127]
    if bad:
        return "contains whitespace or a control character"
    if not _ALLOWED.match(path):
        odd = sorted(set(c for c in path if not _ALLOWED.match(c)))
        return "contains %s (allowed: letters, digits and . _ - + @ = , : /)" % ", ".join(repr(c) for c in odd)
    if path != "/" and path.endswith("/"):
        return "ends with a slash"
    parts = path.split("/")[1:]
    if path != "/" and any(p in ("", ".", "..") for p in parts):
        return "has an empty, '.' or '..' component"
    if path in SYSTEM_DIRS:
        return "is a system directory"
    below = [b.rstrip("/") or "/" for b in (below or [])]
    if below and not any(path == b or path.startswith(b + "/") or b == "/" for b in below):
        return "is not below %s" % " or ".join(below)
    return ""


class FilterModule(object):
    def filters(self):
        return {"path_problem": path_problem}
