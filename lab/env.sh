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
# The lab's plays run under Mitogen (lab/strategy_plugins/lab_mitogen.py, the
# pinned `mitogen` of requirements-dev.txt): one Python per host for a whole
# run, where stock Ansible starts one per task. ODOO_HIPAA_LAB_MITOGEN=0: stock
# Ansible (the demo's default: it runs the site as a site would).
export ANSIBLE_STRATEGY_PLUGINS="$_odoo_hipaa_root/lab/strategy_plugins"
if [ "${ODOO_HIPAA_LAB_MITOGEN:-1}" = 0 ]; then
  unset ANSIBLE_STRATEGY
else
  export ANSIBLE_STRATEGY=lab_mitogen
fi
# The Odoo source archive the lab deploys (method `archive`): by default the
# real Odoo 18.0 Community archive of ../shared/odoo; point it at your own
# (Odoo's nightly odoo_18.0.latest.tar.gz, or a tarball of a git checkout).
export ODOO_HIPAA_ODOO_ARCHIVE="${ODOO_HIPAA_ODOO_ARCHIVE:-$(cd "$_odoo_hipaa_root/.." && pwd)/shared/odoo/odoo-18.0-community-src.tar.gz}"
unset _odoo_hipaa_root
