"""The backup unit's template records a retention waiver's written reason
(molecule/backup only proves that validation accepts the waiver)."""

from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parents[2] / "roles" / "backup" / "templates"


def render(**overrides) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["comment"] = lambda text: "# " + text
    values = {
        "ansible_managed": "Ansible managed",
        "backup_retention_waiver_reason": "",
        "backup_repositories": [{"name": "local", "type": "local", "path": "/srv/backup/restic"}],
        "__backup_job": "/usr/local/libexec/odoo-hipaa-backup",
        "__backup_cache_dir": "/var/cache/odoo-hipaa-backup",
        "__backup_state_dir": "/var/lib/odoo-hipaa-backup",
    }
    values.update(overrides)
    return env.get_template("odoo-hipaa-backup.service.j2").render(**values)


def test_a_waiver_reason_is_written_into_the_unit():
    unit = render(backup_retention_waiver_reason="archive kept elsewhere (ticket 42)")
    assert "# Retention waiver: archive kept elsewhere (ticket 42)" in unit
    assert "ExecStart=/usr/local/libexec/odoo-hipaa-backup backup" in unit


def test_no_waiver_line_without_a_reason():
    assert "Retention waiver" not in render()
