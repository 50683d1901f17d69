#!/usr/bin/env bash
# Benchmark (not a test) of the lab's connection to its containers: the same
# playbook (20 `command` modules, 10 `copy`, 5 `template`, fact gathering) on
# one fresh lab container, reached by
#   baseline:  containers.podman.podman (no pipelining: about five podman
#              commands per module)
#   lab:       lab/connection_plugins/podman.py with ODOO_HIPAA_LAB_EXEC=podman
#              (one `podman exec -i` per module)
#   nsenter:   the same plugin (nsenter into the container), stock strategy
#   mitogen:   the lab's strategy (lab/strategy_plugins/lab_mitogen.py): one
#              `podman exec` starts one Python that runs every task
# and 100 testinfra commands (`true`) through `podman exec` and through the
# lab's nsenter backend (molecule/conftest.py).
# Each is run RUNS times (default 3); wall time and the machine's CPU time
# (all processes: podman, conmon, runc and the container's side included; run
# it on an otherwise idle machine) go to stdout and
# benchmarks/results/lab_connection.json, with the ratios.
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
cp "$work/lab.ini" "$work/nsenter.ini"
cp "$work/lab.ini" "$work/mitogen.ini"

measure() {  # measure INVENTORY -> "wall cpu" (seconds)
  python3 - "$1" "$work/bench.yml" <<'PY'
import os, subprocess, sys, time
def busy():  # the whole machine's CPU seconds (user, nice, system, irq, softirq), from /proc/stat
    fields = open("/proc/stat").readline().split()[1:8]
    return sum(int(fields[i]) for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")
t0, c0 = time.monotonic(), busy()
subprocess.run(["ansible-playbook", "-i", sys.argv[1], sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
print(f"{time.monotonic() - t0:.2f} {busy() - c0:.2f}")
PY
}
declare -A wall cpu
for kind in baseline lab nsenter mitogen; do
  for i in $(seq "$runs"); do
    if [ "$kind" = nsenter ]; then exec_way=nsenter; else exec_way=podman; fi
    if [ "$kind" = mitogen ]; then strategy=lab_mitogen; else strategy=linear; fi
    read -r w c < <(ODOO_HIPAA_LAB_EXEC=$exec_way ANSIBLE_STRATEGY=$strategy measure "$work/$kind.ini")
    echo "$kind run $i: ${w} s wall, ${c} s machine CPU"
    wall[$kind]+="$w "; cpu[$kind]+="$c "
  done
done
testinfra_runs() {  # testinfra_runs WAY -> seconds for 100 commands
  ( cd "$root/molecule" && ODOO_HIPAA_LAB_EXEC=$1 "$root/.venv/bin/python" - "$name" <<'PY'
import sys, time
sys.path.insert(0, ".")
import conftest
host = conftest._podman_host(sys.argv[1])
t0 = time.monotonic()
for _ in range(100):
    host.check_output("true")
print(f"{time.monotonic() - t0:.2f}")
PY
  )
}
ti_podman=$(testinfra_runs podman); ti_nsenter=$(testinfra_runs nsenter)
echo "testinfra, 100 commands: podman exec ${ti_podman} s, nsenter ${ti_nsenter} s"
python3 - "$root/benchmarks/results/lab_connection.json" "${wall[baseline]}" "${cpu[baseline]}" "${wall[lab]}" "${cpu[lab]}" \
  "${wall[nsenter]}" "${cpu[nsenter]}" "$ti_podman" "$ti_nsenter" "${wall[mitogen]}" "${cpu[mitogen]}" <<'PY'
import json, statistics, sys
out, bw, bc, lw, lc, nw, nc, tp, tn, mw, mc = sys.argv[1:]
med = lambda s: statistics.median(float(x) for x in s.split())
r = {"playbook": "20 command + 10 copy + 5 template + facts, one container",
     "baseline_containers_podman": {"wall_s": med(bw), "machine_cpu_s": med(bc)},
     "lab_pipelined_podman": {"wall_s": med(lw), "machine_cpu_s": med(lc)},
     "lab_pipelined_nsenter": {"wall_s": med(nw), "machine_cpu_s": med(nc)},
     "lab_mitogen": {"wall_s": med(mw), "machine_cpu_s": med(mc)},
     "testinfra_100_commands_s": {"podman_exec": float(tp), "nsenter": float(tn)}}
r["wall_ratio"] = round(r["baseline_containers_podman"]["wall_s"] / r["lab_pipelined_podman"]["wall_s"], 2)
r["cpu_ratio"] = round(r["baseline_containers_podman"]["machine_cpu_s"] / r["lab_pipelined_podman"]["machine_cpu_s"], 2)
r["nsenter_wall_ratio"] = round(r["lab_pipelined_podman"]["wall_s"] / r["lab_pipelined_nsenter"]["wall_s"], 2)
r["nsenter_cpu_ratio"] = round(r["lab_pipelined_podman"]["machine_cpu_s"] / r["lab_pipelined_nsenter"]["machine_cpu_s"], 2)
r["mitogen_wall_ratio"] = round(r["lab_pipelined_nsenter"]["wall_s"] / r["lab_mitogen"]["wall_s"], 2)
r["mitogen_cpu_ratio"] = round(r["lab_pipelined_nsenter"]["machine_cpu_s"] / r["lab_mitogen"]["machine_cpu_s"], 2)
r["testinfra_nsenter_ratio"] = round(float(tp) / float(tn), 2)
json.dump(r, open(out, "w"), indent=2)
print(json.dumps(r, indent=2))
PY
