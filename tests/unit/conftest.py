"""The unit tests import the collection's code as Ansible does
(ansible_collections.onprem.odoo_hipaa...): collections/ is made by scripts/setup.sh."""

import pathlib
import sys

_ROOT = pathlib.Path(__file__).resolve().parents[2]
_LINK = _ROOT / "collections" / "ansible_collections" / "onprem" / "odoo_hipaa"
if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    _LINK.symlink_to("../../..")
sys.path.insert(0, str(_ROOT / "collections"))
