#!/usr/bin/env bash
# Build a Debian system-container image for the lab from Debian's mirror, and
# import it into podman as localhost/odoo-hipaa-<suite>:latest.
#
#   lab/build-image.sh bookworm|trixie
#
# The image is cached under $ODOO_HIPAA_CACHE (default ~/.cache/odoo_hipaa)
# keyed by a hash of this recipe, so a warm machine skips the build. The image
# carries a label with the same hash, so a stale image is rebuilt when the
# recipe changes.
set -euo pipefail

suite=${1:?usage: $0 bookworm|trixie}
case "$suite" in
  bookworm|trixie) ;;
  *) echo "build-image: unsupported suite '$suite' (allowed: bookworm, trixie)" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
cache=${ODOO_HIPAA_CACHE:-$HOME/.cache/odoo_hipaa}/images
mirror=${ODOO_HIPAA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${ODOO_HIPAA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
image=localhost/odoo-hipaa-$suite:latest

# What goes into every lab host: systemd as PID 1 and what Ansible needs.
# No ifupdown (networking.service hangs in a container). Packages that a role
# installs are NOT pre-installed here: converge installs them, as on a real host.
packages=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,procps,ca-certificates,locales,gnupg

recipe_hash=$( { cat "$0"; echo "$suite $packages"; } | sha256sum | cut -c1-16)
tarball=$cache/debian-$suite-$recipe_hash.tar

if [ "$(podman image inspect --format '{{ index .Labels "odoo-hipaa.recipe" }}' "$image" 2>/dev/null)" = "$recipe_hash" ]; then
  echo "build-image: $image is current (recipe $recipe_hash)"
  exit 0
fi

mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  echo "build-image: building Debian $suite rootfs with mmdebstrap (recipe $recipe_hash)"
  # Container-only adjustments, done inside the rootfs before it is packed:
  # - mask units that cannot work in a container (kernel modules, udev settle, getty);
  # - an empty machine-id, so each container gets its own at boot;
  # - no apt lists, dated 1970: converge must run apt-get update as on a real host.
  mmdebstrap --variant=apt --format=tar --include="$packages" \
    --customize-hook='chroot "$1" systemctl mask systemd-modules-load.service systemd-udevd.service systemd-udev-trigger.service getty@tty1.service console-getty.service systemd-firstboot.service' \
    --customize-hook='rm -f "$1"/etc/machine-id && touch "$1"/etc/machine-id' \
    --customize-hook='rm -f "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*_Packages && mkdir -p "$1"/var/lib/apt/periodic && touch -d @0 "$1"/var/lib/apt/periodic/update-success-stamp' \
    --customize-hook='echo "en_US.UTF-8 UTF-8" > "$1"/etc/locale.gen && chroot "$1" locale-gen >/dev/null' \
    "$suite" "$tarball.tmp" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security_mirror $suite-security main" \
    2> >(grep -v '^I:' >&2 || true)
  mv "$tarball.tmp" "$tarball"
  # keep only the current recipe's tarball for this suite
  find "$cache" -maxdepth 1 -name "debian-$suite-*.tar" ! -name "$(basename "$tarball")" -exec rm -rf {} +
fi

echo "build-image: importing $image"
podman import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=podman' \
  --change "LABEL odoo-hipaa.recipe=$recipe_hash" \
  --change "LABEL odoo-hipaa.suite=$suite" \
  "$tarball" "$image" >/dev/null
echo "build-image: $image ready"
