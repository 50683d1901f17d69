"""The evidence module (onprem.odoo_hipaa.hipaa_evidence) run on one lab host
as playbooks/verify.yml runs it, for the scenarios' tests: its rows by check.
molecule/conftest.py puts this folder on the import path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


def evidence_rows(host: str, checks: list[str], settings: dict) -> dict[str, dict]:
    args = json.dumps({"checks": checks, "settings": settings})
    proc = subprocess.run(["ansible", "-i", str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent), host,
                           "-m", "onprem.odoo_hipaa.hipaa_evidence", "-a", args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                                   ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    # the JSON document, then whatever other callbacks print after it
    report, _end = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index("{"):])
    return {row["check"]: row for row in report["plays"][0]["tasks"][0]["hosts"][host]["rows"]}
