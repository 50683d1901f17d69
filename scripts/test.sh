#!/usr/bin/env bash
# The test command (README): set-up, lint, collection build and install,
# unit tests, and every Molecule scenario (converge, idempotence, verify),
# each scenario on Debian 12 and Debian 13.
#   scripts/test.sh                 everything
#   scripts/test.sh postgresql      only the named Molecule scenario(s)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/setup.sh || { echo "set-up failed"; exit 1; }
# shellcheck source=../lab/env.sh
. lab/env.sh

passed=0; failed=0; failures=()
step() {  # step NAME COMMAND...
  local name=$1; shift
  local t0=$SECONDS
  printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$name"
  if "$@"; then
    passed=$((passed + 1)); printf '==> %s: ok (%ss)\n' "$name" $((SECONDS - t0))
  else
    failed=$((failed + 1)); failures+=("$name"); printf '==> %s: FAILED (%ss)\n' "$name" $((SECONDS - t0))
  fi
}

collection_build() {
  local out; out=$(mktemp -d)
  ansible-galaxy collection build --force --output-path "$out" . &&
  ansible-galaxy collection install --force --offline --no-deps -p "$out/installed" "$out"/onprem-odoo_hipaa-*.tar.gz &&
  # The installed artifact (not this work tree) must provide the roles and the filter.
  for role in postgresql nginx backup backup_server lab_pki; do
    ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-doc -t role "onprem.odoo_hipaa.$role" >/dev/null || return 1
  done &&
  ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-doc -t filter onprem.odoo_hipaa.scram_sha256_verifier >/dev/null &&
  ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-playbook --syntax-check -i localhost, playbooks/site.yml &&
  rm -rf "$out"
}

if [ $# -eq 0 ]; then
  step "ansible-lint (production profile)" ansible-lint
  step "collection build and install" collection_build
  step "unit tests" pytest -q tests/unit
  mapfile -t scenarios < <(ls molecule/*/molecule.yml | cut -d/ -f2)
else
  scenarios=("$@")
fi

for s in "${scenarios[@]}"; do
  step "molecule scenario $s" molecule test -s "$s"
done

echo
[ $failed -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "summary: $passed passed, $failed failed"
[ $failed -eq 0 ]
