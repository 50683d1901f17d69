#!/usr/bin/env bash
# ansible-test sanity on what the collection ships (the tarball that
# ansible-galaxy builds, galaxy.yml's build_ignore applied) and on tests/ (the
# unit tests, tests/sanity/ignore-*.txt), laid out where ansible-test needs it:
# <tmp>/ansible_collections/onprem/odoo_hipaa. The lab (molecule/, lab/,
# scripts/, benchmarks/, the lab roles, inventories and playbook) is not
# shipped and not part of it.
#   scripts/sanity.sh                  every sanity test; exits non-zero on any error
#   scripts/sanity.sh --test pylint    other arguments go to ansible-test
#   scripts/sanity.sh --prime-venvs    only make the tests' venvs (scripts/setup.sh)
# ansible-test keeps its venvs and cache under its HOME: .venv-sanity, which
# scripts/setup.sh makes (see there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -d .venv-sanity/.ansible/test/cache ] || { echo ".venv-sanity is missing: run scripts/setup.sh"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
coll=$work/ansible_collections/onprem/odoo_hipaa
mkdir -p "$coll"
.venv/bin/ansible-galaxy collection build --force --output-path "$work" . >/dev/null
tar -xzf "$work"/onprem-odoo_hipaa-*.tar.gz -C "$coll"
rm "$work"/onprem-odoo_hipaa-*.tar.gz
git ls-files -z --cached --others --exclude-standard tests |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$coll"

py=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$coll"
HOME="$root/.venv-sanity" "$root/.venv/bin/ansible-test" sanity --local --python "$py" --color no "$@"
