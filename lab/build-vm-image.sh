#!/usr/bin/env bash
# Build the lab's Debian virtual machine image from Debian's mirror, for
# scenarios that need a real kernel (dm-crypt, block devices, reboots):
# containers share the host kernel, which has no device-mapper.
#
#   lab/build-vm-image.sh [bookworm|trixie]   # default bookworm; build if
#                                             # missing; print the image directory
#
# Output (cached under $ODOO_HIPAA_CACHE/vm, default ~/.cache/odoo_hipaa/vm,
# keyed by a hash of this recipe and of the lab SSH key, so a warm machine
# skips the build and a changed recipe rebuilds):
#   vm/id_ed25519, id_ed25519.pub       the lab key pair; root logs in with it
#   vm/<suite>-<hash>/disk.raw         ext4 root filesystem labelled
#                                       odoo-hipaa-root (sparse, 2 GiB),
#                                       used read-only as the backing file of a
#                                       per-run qcow2 overlay (lab/vm.sh)
#   vm/<suite>-<hash>/vmlinuz, initrd.img    for QEMU's direct kernel boot
# The last line on stdout is the image directory.
#
# Needs root (files keep their owners in the image), mmdebstrap and e2fsprogs.
set -euo pipefail

suite=${1:-bookworm}
case "$suite" in
  bookworm|trixie) ;;
  *) echo "build-vm-image: unsupported suite '$suite' (allowed: bookworm, trixie)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
cache=${ODOO_HIPAA_CACHE:-$HOME/.cache/odoo_hipaa}/vm
mirror=${ODOO_HIPAA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${ODOO_HIPAA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
size=${ODOO_HIPAA_VM_DISK_SIZE:-2G}

# A kernel, systemd with udev (the /dev/disk/by-id links), SSH and what Ansible
# needs; then everything the VM scenarios install, so that converge never
# downloads under emulation (TCG runs about 11x slower than the host):
# - role luks: cryptsetup, clevis (Tang/NBDE unlock at boot), tang (a local
#   Tang server for tests), e2fsprogs;
# - reserved for an auditd/log scenario: auditd, rsyslog, rsyslog-gnutls.
packages=linux-image-amd64,systemd,systemd-sysv,udev,dbus,kmod,iproute2,procps,mount,util-linux
packages+=,openssh-server,python3,python3-apt
packages+=,cryptsetup,cryptsetup-bin,e2fsprogs,clevis,clevis-luks,clevis-systemd,tang
packages+=,auditd,rsyslog,rsyslog-gnutls
# Debian 13 ships systemd's crypttab generator in a package of its own.
[ "$suite" = bookworm ] || packages+=,systemd-cryptsetup

log() { echo "build-vm-image: $*" >&2; }

mkdir -p "$cache"
chmod 0700 "$cache"
key=$cache/id_ed25519
if [ ! -s "$key" ]; then
  log "generating the lab SSH key pair $key"
  ssh-keygen -q -t ed25519 -N '' -C odoo-hipaa-lab-vm -f "$key"
fi

recipe_hash=$( { cat "$0"; echo "$suite $packages $size"; cat "$key.pub"; } | sha256sum | cut -c1-16)
out=$cache/$suite-$recipe_hash
if [ -s "$out/disk.raw" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then
  log "image is current (recipe $recipe_hash)"
  echo "$out"
  exit 0
fi

start=$(date +%s)
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

log "building Debian $suite rootfs with mmdebstrap (recipe $recipe_hash)"
# Guest adjustments, made inside the rootfs before it becomes a disk image:
# - root found by its label (QEMU may enumerate the data disks before it, so
#   it is not always /dev/vda; data disks get /dev/disk/by-id/virtio-<serial>);
# - DHCP on every Ethernet link through systemd-networkd (no ifupdown);
# - a serial console on ttyS0 (QEMU writes it to console.log);
# - root logs in over SSH with the lab key only;
# - no timers that would compete for the emulated CPU (apt, man-db, fstrim,
#   e2scrub);
# - no apt lists, marked fresh: the image already holds every package the
#   scenarios need, so converge's apt tasks find them installed without
#   downloading lists, and python-apt opens an empty cache in seconds instead
#   of parsing the lists for over a minute under TCG (stamp dated 2037: ext4
#   timestamps of this image end in 2038). A package missing from
#   the image then fails loudly (add it to the list above);
# - an empty machine-id, so every boot of a fresh overlay gets its own.
mmdebstrap --variant=apt --format=directory --include="$packages" \
  --customize-hook='echo "LABEL=odoo-hipaa-root / ext4 rw,errors=remount-ro 0 1" > "$1"/etc/fstab' \
  --customize-hook='echo odoo-hipaa-vm > "$1"/etc/hostname && printf "127.0.0.1 localhost\n127.0.1.1 odoo-hipaa-vm\n" > "$1"/etc/hosts' \
  --customize-hook='printf "[Match]\nType=ether\n\n[Network]\nDHCP=ipv4\n" > "$1"/etc/systemd/network/20-lab-dhcp.network' \
  --customize-hook='printf "nameserver 10.0.2.3\n" > "$1"/etc/resolv.conf' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service serial-getty@ttyS0.service' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer fstrim.timer e2scrub_all.timer e2scrub_reap.service' \
  --customize-hook="install -d -m 0700 \"\$1\"/root/.ssh && install -m 0600 '$key.pub' \"\$1\"/root/.ssh/authorized_keys" \
  --customize-hook='printf "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n" > "$1"/etc/ssh/sshd_config.d/lab.conf' \
  --customize-hook='rm -f "$1"/var/cache/apt/*.bin && find "$1"/var/lib/apt/lists -maxdepth 1 -type f ! -name lock -delete' \
  --customize-hook='mkdir -p "$1"/var/lib/apt/periodic && touch -d 2037-12-31 "$1"/var/lib/apt/periodic/update-success-stamp' \
  --customize-hook='rm -f "$1"/etc/machine-id && touch "$1"/etc/machine-id' \
  --customize-hook="cp \"\$1\"/boot/vmlinuz-* '$work/vmlinuz' && cp \"\$1\"/boot/initrd.img-* '$work/initrd.img'" \
  "$suite" "$rootfs" \
  "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security_mirror $suite-security main" \
  2> >(grep -v '^I:' >&2 || true)

log "making the $size ext4 root filesystem"
truncate -s "$size" "$work/disk.raw"
mkfs.ext4 -q -L odoo-hipaa-root -d "$rootfs" "$work/disk.raw"
rm -rf "$rootfs"

mkdir -p "$out.tmp"
mv "$work/disk.raw" "$work/vmlinuz" "$work/initrd.img" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
# keep only the current recipe's image
find "$cache" -maxdepth 1 -type d -name "$suite-*" ! -name "$(basename "$out")" -exec rm -rf {} +
log "image ready in $(( $(date +%s) - start )) s: $out"
echo "$out"
