#!/usr/bin/env bash
# Set up everything the lab and the tests need on a fresh Debian 12 machine.
# Safe to run again: each step is skipped when already done.
#   - Debian packages: podman (with runc, netavark, aardvark-dns), mmdebstrap
#   - a Python venv (.venv) with the pinned tools (requirements-dev.txt + constraints.txt),
#     and .venv-galaxy with galaxy-importer (requirements-galaxy.txt)
#   - .venv-sanity: ansible-test's home, with the venvs of its sanity tests
#   - collections/: this collection linked in, so roles resolve as onprem.odoo_hipaa.<role>
#   - the lab images localhost/odoo-hipaa-{bookworm,trixie}, built from Debian's mirror,
#     and the Debian 12 VM image for the LUKS scenario (lab/build-vm-image.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '==> %s\n' "$*"; }

# --- Debian packages ---------------------------------------------------------
apt_packages=(podman runc netavark aardvark-dns slirp4netns uidmap fuse-overlayfs
              iptables                                    # netavark drives the firewall through it (podman networks)
              mmdebstrap python3-venv ca-certificates
              qemu-system-x86 qemu-utils openssh-client   # the LUKS VM (molecule/luks)
              chromium)                                   # renders the evidence report (molecule/site)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python venv ---------------------------------------------------------------
stamp=.venv/.requirements.sha256
want=$(cat requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating the Python venv (.venv) with pinned tools"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
  echo "$want" > "$stamp"
fi

# --- lab images (built in the background while the venvs below are made) ------
images=()
if [ "${ODOO_HIPAA_SKIP_IMAGES:-0}" != 1 ]; then
  say "building the lab images (cached under ${ODOO_HIPAA_CACHE:-$HOME/.cache/odoo_hipaa})"
  lab/build-image.sh bookworm & images+=($!)
  lab/build-image.sh trixie & images+=($!)
  lab/build-vm-image.sh >/dev/null & images+=($!)
fi

# galaxy-importer (what Galaxy runs on an upload) pins attrs<24, which the
# tools above do not take: a venv of its own.
gstamp=.venv-galaxy/.requirements.sha256
gwant=$(sha256sum requirements-galaxy.txt | cut -d' ' -f1)
if [ ! -x .venv-galaxy/bin/python ] || [ "$(cat "$gstamp" 2>/dev/null)" != "$gwant" ]; then
  say "creating the galaxy-importer venv (.venv-galaxy)"
  rm -rf .venv-galaxy   # a stale or half-made one is rebuilt whole
  python3 -m venv .venv-galaxy
  .venv-galaxy/bin/pip install -q --disable-pip-version-check -r requirements-galaxy.txt
  echo "$gwant" > "$gstamp"
fi

# ansible-test sanity (scripts/sanity.sh) makes a venv of its own for each test,
# with the versions ansible-core pins (ansible_test/_data/requirements/sanity.*.txt),
# from PyPI; it bootstraps pip in each from a get-pip script that it downloads
# from a host outside the package registries. Its HOME is .venv-sanity: pip's
# wheel from PyPI with a stand-in for that script (scripts/ansible_test_get_pip.py)
# in its cache, and the venvs, made here once.
at=$(.venv/bin/python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pipv=$(sed -nE "s/^ +pip='([0-9.]+)',$/\1/p" "$at/_internal/python_requirements.py")
[ -n "$pipv" ] || { echo "cannot tell which pip ansible-test bootstraps ($at/_internal/python_requirements.py)"; exit 1; }
sstamp=.venv-sanity/.requirements.sha256
swant=$( { echo "pip $pipv"; cat "$at"/_data/requirements/sanity.*.txt scripts/ansible_test_get_pip.py; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$sstamp" 2>/dev/null)" != "$swant" ]; then
  say "making ansible-test's sanity venvs (.venv-sanity)"
  rm -rf .venv-sanity
  cache=.venv-sanity/.ansible/test/cache
  mkdir -p "$cache"
  .venv/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$cache" "pip==$pipv"
  cp scripts/ansible_test_get_pip.py "$cache/get_pip_${pipv//./_}.py"
  scripts/sanity.sh --prime-venvs >.venv-sanity/prime.log 2>&1 || { tail -30 .venv-sanity/prime.log; exit 1; }
  echo "$swant" > "$sstamp"
fi

# --- collections -----------------------------------------------------------------
mkdir -p collections/ansible_collections/onprem
ln -sfn ../../.. collections/ansible_collections/onprem/odoo_hipaa
if [ "${ODOO_HIPAA_USE_GALAXY:-0}" = 1 ]; then
  say "installing collections from Galaxy (requirements.yml)"
  .venv/bin/ansible-galaxy collection install -r requirements.yml -p collections
  .venv/bin/ansible-galaxy collection install -r requirements-lab.yml -p collections
fi

for p in "${images[@]}"; do wait "$p"; done   # set -e: a failed build ends the set-up
say "set-up done"
