#!/usr/bin/env bash
# Start and stop a lab virtual machine (QEMU, Debian 12 from
# lab/build-vm-image.sh) for scenarios that need a real kernel.
#
#   lab/vm.sh start DIR [SERIAL:SIZE ...]   boot a VM whose state lives in DIR
#   lab/vm.sh wait DIR [TIMEOUT]            wait until it answers SSH
#   lab/vm.sh ssh DIR [COMMAND ...]         run a command in it as root
#   lab/vm.sh stop DIR                      power it off and delete DIR
#
# start: the root disk is a qcow2 overlay on the cached base image (which stays
# clean); each SERIAL:SIZE adds an empty virtio disk that the guest sees as
# /dev/disk/by-id/virtio-SERIAL. SSH is forwarded from a free port on
# 127.0.0.1 (written to DIR/port); the guest's serial console goes to
# DIR/console.log. Direct kernel boot: an in-guest `reboot` resets the VM and
# QEMU boots the same kernel again, so reboots can be tested.
#
# Suite: ODOO_HIPAA_VM_SUITE (bookworm, the default, or trixie).
# Acceleration: TCG (software emulation), the only one that works on the lab
# machines (a KVM guest hangs in early boot there, see
# shared/reference/test-environment.md). ODOO_HIPAA_VM_ACCEL=kvm overrides.
# Priority: the emulator runs at nice ODOO_HIPAA_VM_NICE (default -10).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${ODOO_HIPAA_CACHE:-$HOME/.cache/odoo_hipaa}/vm
key=$cache/id_ed25519
accel=${ODOO_HIPAA_VM_ACCEL:-tcg}
memory=${ODOO_HIPAA_VM_MEMORY:-1536}
cpus=${ODOO_HIPAA_VM_CPUS:-1}
suite=${ODOO_HIPAA_VM_SUITE:-bookworm}

die() { echo "vm.sh: $*" >&2; exit 1; }
usage() { sed -n '5,9p' "$0" >&2; exit 2; }

ssh_opts() {
  echo -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
       -o LogLevel=ERROR -o ConnectTimeout=10 -o IdentitiesOnly=yes -i "$key" \
       -p "$(cat "$1/port")" root@127.0.0.1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd_start() {
  local dir=${1:?usage: vm.sh start DIR [SERIAL:SIZE ...]}; shift
  [ -e "$dir/qemu.pid" ] && kill -0 "$(cat "$dir/qemu.pid")" 2>/dev/null && die "a VM already runs from $dir"
  local image
  image=$("$here/build-vm-image.sh" "$suite" | tail -n 1)
  mkdir -p "$dir"
  rm -f "$dir"/*.qcow2 "$dir/console.log"
  qemu-img create -q -f qcow2 -b "$image/disk.raw" -F raw "$dir/root.qcow2"
  local drives=(-drive "file=$dir/root.qcow2,format=qcow2,if=none,id=root,cache=unsafe"
                -device virtio-blk-pci,drive=root)
  local spec serial size
  for spec in "$@"; do
    serial=${spec%%:*}; size=${spec#*:}
    [[ $serial =~ ^[A-Za-z0-9_-]{1,20}$ ]] || die "disk serial '$serial': letters, digits, - and _ only, at most 20"
    qemu-img create -q -f qcow2 "$dir/$serial.qcow2" "$size"
    drives+=(-drive "file=$dir/$serial.qcow2,format=qcow2,if=none,id=$serial,cache=unsafe"
             -device "virtio-blk-pci,drive=$serial,serial=$serial")
  done
  local port
  port=$(free_port)
  echo "$port" > "$dir/port"
  qemu-system-x86_64 -name "odoo-hipaa-$(basename "$dir")" \
    -accel "$accel" -m "$memory" -smp "$cpus" \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "root=LABEL=odoo-hipaa-root rw console=ttyS0 panic=10" \
    "${drives[@]}" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
    -device virtio-rng-pci \
    -display none -serial "file:$dir/console.log" -monitor none \
    -daemonize -pidfile "$dir/qemu.pid"
  # Under TCG the guest is one busy host thread, and the longest single job of
  # a test run: it gets the CPU ahead of the other jobs beside it, so the run's
  # critical path is not stretched by the load around it. nice -10: at -5, with
  # two scenarios and the demo beside it (CI), a reboot of the guest once took
  # more than 600 s.
  renice -n "${ODOO_HIPAA_VM_NICE:--10}" -p "$(cat "$dir/qemu.pid")" >/dev/null 2>&1 || true
  echo "vm.sh: started $(basename "$dir") (pid $(cat "$dir/qemu.pid"), ssh port $port, accel $accel)" >&2
}

cmd_wait() {
  local dir=${1:?usage: vm.sh wait DIR [TIMEOUT]} timeout=${2:-300}
  local deadline=$(( $(date +%s) + timeout ))
  # shellcheck disable=SC2046
  until ssh $(ssh_opts "$dir") true 2>/dev/null; do
    kill -0 "$(cat "$dir/qemu.pid")" 2>/dev/null || { tail -n 30 "$dir/console.log" >&2; die "QEMU exited"; }
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 30 "$dir/console.log" >&2
      die "no SSH answer within ${timeout}s (console above, full log $dir/console.log)"
    fi
    sleep 3
  done
}

cmd_ssh() {
  local dir=${1:?usage: vm.sh ssh DIR [COMMAND ...]}; shift
  # shellcheck disable=SC2046
  exec ssh $(ssh_opts "$dir") "$@"
}

cmd_stop() {
  local dir=${1:?usage: vm.sh stop DIR}
  if [ -s "$dir/qemu.pid" ]; then
    local pid
    pid=$(cat "$dir/qemu.pid")
    # only our QEMU: the pid file must still name a qemu process started from DIR
    if kill -0 "$pid" 2>/dev/null && grep -qa -- "$dir/root.qcow2" "/proc/$pid/cmdline"; then
      kill "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start|wait|ssh|stop)
    c=$1; shift
    if [ $# -ge 1 ]; then d=$(realpath -m "$1"); shift; set -- "$d" "$@"; fi
    "cmd_$c" "$@" ;;
  *) usage ;;
esac
