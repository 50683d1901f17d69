# Source this to use the lab's tools by hand:  . lab/env.sh
# (scripts/setup.sh must have run once.)
_odoo_hipaa_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export PATH="$_odoo_hipaa_root/.venv/bin:$PATH"
export CONTAINERS_CONF="$_odoo_hipaa_root/lab/containers.conf"
export ANSIBLE_COLLECTIONS_PATH="$_odoo_hipaa_root/collections"
export MOLECULE_GLOB="molecule/*/molecule.yml"
unset _odoo_hipaa_root
