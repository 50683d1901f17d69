# -*- coding: utf-8 -*-
# Copyright: onprem.odoo_hipaa contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LUKS layer's evidence: every ePHI path is on a LUKS2 volume.

Each check returns (passed, observed, expected); CHECKS maps its name to
(control, title, check), merged into the module's registry by hipaa_evidence."""

from __future__ import annotations

import re

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.evidence_core import Fail, _out


def check_luks_volumes(ctx):
    paths = ctx.s("encrypted_paths", [])
    if not paths:
        raise Fail("no ePHI paths given")
    observed, ok = {}, True
    for path in paths:
        rc, src, _err = ctx.run(["findmnt", "-n", "-o", "SOURCE", "--target", path])
        src = src.strip()
        rc, types, _err = ctx.run(["lsblk", "-n", "-s", "-o", "TYPE,PATH", src]) if src.startswith("/dev/") else (1, "", "")
        chain = [line.split() for line in types.splitlines() if line.strip()]
        crypt = [p for t, p in (c for c in chain if len(c) == 2) if t == "crypt"]
        if not crypt:
            observed[path] = "on %s: not on a dm-crypt volume" % (src or "?")
            ok = False
            continue
        backing = [p for t, p in (c for c in chain if len(c) == 2) if t in ("disk", "part", "lvm", "loop")]
        dump = _out(ctx, ["cryptsetup", "luksDump", backing[0]], "cryptsetup luksDump") if backing else ""
        facts = {
            "version": re.search(r"^Version:\s*(\d+)", dump, re.M),
            "cipher": re.search(r"^\s*cipher:\s*(\S+)", dump, re.M),
            "key": re.search(r"Cipher key:\s*(\d+) bits", dump),
            "pbkdf": re.search(r"PBKDF:\s*(\S+)", dump),
        }
        facts = dict((k, m.group(1) if m else None) for k, m in facts.items())
        good = facts == {"version": "2", "cipher": "aes-xts-plain64", "key": "512", "pbkdf": "argon2id"}
        observed[path] = "on %s via %s: LUKS%s %s %s-bit %s" % (
            crypt[0], backing[0] if backing else "?", facts["version"], facts["cipher"], facts["key"], facts["pbkdf"])
        ok = ok and good
    return ok, observed, "every ePHI path on LUKS2 aes-xts-plain64 512-bit argon2id"


CHECKS = {
    "luks_volumes": ("AC-4", "ePHI volumes on LUKS2", check_luks_volumes),
}
