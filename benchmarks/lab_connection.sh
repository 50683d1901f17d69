#!/usr/bin/env bash
# Benchmark (not a test) of the lab's connection to its containers: the same
# playbook (20 `command` modules, 10 `copy`, 5 `template`, fact gathering) on
# one fresh lab container, reached by
#   baseline:  containers.podman.podman (no pipelining: about five podman
#              commands per module)
#   lab:       lab/connection_plugins/podman.py (one `podman exec -i` per module)
# Each is run RUNS times (default 3); wall time and the controller's CPU time
# (ansible-playbook and its podman children) go to stdout and
# benchmarks/results/lab_connection.json, with the ratio.
#   benchmarks/lab_connection.sh [RUNS]
set -euo pipefail
runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lab/env.sh
. "$root/lab/env.sh"
name=odoo-hipaa-bench-conn
work=$(mktemp -d)
trap 'podman rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
podman rm -f "$name" >/dev/null 2>&1 || true
podman run -d --name "$name" --privileged localhost/odoo-hipaa-bookworm:latest /lib/systemd/systemd >/dev/null
sleep 3

cat > "$work/bench.yml" <<'YAML'
- name: Module round trips
  hosts: all
  gather_facts: true
  tasks:
    - name: Run a command
      ansible.builtin.command: "true"
      loop: "{{ range(20) | list }}"
      changed_when: false
    - name: Copy a file
      ansible.builtin.copy: {content: "{{ item }} {{ 999999 | random }}\n", dest: "/tmp/bench-f{{ item }}", mode: "0644"}
      loop: "{{ range(10) | list }}"
    - name: Render a template
      ansible.builtin.template: {src: /etc/hostname, dest: "/tmp/bench-t{{ item }}-{{ 999999 | random }}", mode: "0644"}
      loop: "{{ range(5) | list }}"
YAML
echo "$name ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3" > "$work/baseline.ini"
echo "$name ansible_connection=podman ansible_python_interpreter=/usr/bin/python3" > "$work/lab.ini"

measure() {  # measure INVENTORY -> "wall cpu" (seconds)
  python3 - "$1" "$work/bench.yml" <<'PY'
import os, resource, subprocess, sys, time
t0 = time.monotonic()
subprocess.run(["ansible-playbook", "-i", sys.argv[1], sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.2f} {ru.ru_utime + ru.ru_stime:.2f}")
PY
}
declare -A wall cpu
for kind in baseline lab; do
  for i in $(seq "$runs"); do
    read -r w c < <(measure "$work/$kind.ini")
    echo "$kind run $i: ${w} s wall, ${c} s controller CPU"
    wall[$kind]+="$w "; cpu[$kind]+="$c "
  done
done
python3 - "$root/benchmarks/results/lab_connection.json" "${wall[baseline]}" "${cpu[baseline]}" "${wall[lab]}" "${cpu[lab]}" <<'PY'
import json, statistics, sys
out, bw, bc, lw, lc = sys.argv[1:]
med = lambda s: statistics.median(float(x) for x in s.split())
r = {"playbook": "20 command + 10 copy + 5 template + facts, one container",
     "baseline_containers_podman": {"wall_s": med(bw), "controller_cpu_s": med(bc)},
     "lab_pipelined_podman": {"wall_s": med(lw), "controller_cpu_s": med(lc)}}
r["wall_ratio"] = round(r["baseline_containers_podman"]["wall_s"] / r["lab_pipelined_podman"]["wall_s"], 2)
r["cpu_ratio"] = round(r["baseline_containers_podman"]["controller_cpu_s"] / r["lab_pipelined_podman"]["controller_cpu_s"], 2)
json.dump(r, open(out, "w"), indent=2)
print(json.dumps(r, indent=2))
PY
