# Source this to use the lab's tools by hand:  . lab/env.sh
# (scripts/setup.sh must have run once.)
_odoo_hipaa_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export PATH="$_odoo_hipaa_root/.venv/bin:$PATH"
export CONTAINERS_CONF="$_odoo_hipaa_root/lab/containers.conf"
export ANSIBLE_COLLECTIONS_PATH="$_odoo_hipaa_root/collections"
export MOLECULE_GLOB="molecule/*/molecule.yml"
# The lab's containers are reached by lab/connection_plugins/podman.py (the
# short name `podman`, pipelined: one command per module, entered with nsenter
# as root, else podman exec) instead of containers.podman.podman (five podman
# commands per module). ODOO_HIPAA_LAB_EXEC=podman: always podman exec.
export ANSIBLE_CONNECTION_PLUGINS="$_odoo_hipaa_root/lab/connection_plugins"
# The Odoo source archive the lab deploys (method `archive`): by default the
# real Odoo 18.0 Community archive of ../shared/odoo; point it at your own
# (Odoo's nightly odoo_18.0.latest.tar.gz, or a tarball of a git checkout).
export ODOO_HIPAA_ODOO_ARCHIVE="${ODOO_HIPAA_ODOO_ARCHIVE:-$(cd "$_odoo_hipaa_root/.." && pwd)/shared/odoo/odoo-18.0-community-src.tar.gz}"
unset _odoo_hipaa_root
