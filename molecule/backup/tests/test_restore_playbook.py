"""playbooks/restore.yml rebuilds the database on a fresh host from the
off-site copy, and the row counts match the source's."""

import json
import os
import subprocess

import pytest

SOURCE = "bk-app-d12"
FRESH = "bk-fresh-d12"


def test_restore_playbook_rebuilds_the_database_on_a_fresh_host(lab_host):
    source, fresh = lab_host(SOURCE), lab_host(FRESH)
    manifest = json.loads(source.file("/var/lib/odoo-hipaa-backup/manifest.json").content_string)
    playbook = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "restore.yml")
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    proc = subprocess.run(["ansible-playbook", "-i", inventory, playbook, "--limit", FRESH],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:]
    count = "runuser -u postgres -- psql -XAt -d odoo -c 'SELECT count(*) FROM patient'"
    assert fresh.check_output(count) == str(manifest["tables"]["public.patient"])
    assert fresh.check_output("find /var/lib/odoo/filestore -type f | wc -l") == "40"
    assert fresh.file("/var/lib/odoo/filestore/odoo/28/attachment-40").user == "odoo"
    assert not fresh.file("/var/lib/odoo/sessions/werkzeug_session").exists


def test_restore_never_overwrites_a_database_with_data(lab_host):
    playbook = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "restore.yml")
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    proc = subprocess.run(["ansible-playbook", "-i", inventory, playbook, "--limit", FRESH],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
    assert proc.returncode != 0
    assert "refusing to overwrite it" in proc.stdout
