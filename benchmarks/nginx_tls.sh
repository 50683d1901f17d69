#!/usr/bin/env bash
# Benchmark: the nginx role's hardened TLS entry vs. Debian's stock TLS settings.
#
#   benchmarks/nginx_tls.sh            # Debian 12 lab container (default)
#   BENCH_SUITE=trixie benchmarks/nginx_tls.sh
#
# What it does, all inside one throwaway lab container (nginx-bench, from the
# lab image, removed at the end unless BENCH_KEEP=1):
#   1. converges onprem.odoo_hipaa.nginx onto it (lab CA certificate, ECDSA P-256),
#      so the "hardened" side is exactly what the role writes (port 443);
#   2. adds a second server block on port 8443 with Debian's stock TLS settings
#      (nginx.conf of the nginx package: ssl_protocols TLSv1 TLSv1.1 TLSv1.2
#      TLSv1.3; ssl_prefer_server_ciphers on; nginx's default ciphers, session
#      tickets, no session cache), no extra headers, Debian's combined access log;
#   3. both proxy to the same upstream on 127.0.0.1:8069: a static nginx server
#      answering 200 with a session_id cookie, fast enough that the TLS/proxy
#      layer, not the upstream, is what is measured (Odoo itself is far slower);
#   4. runs wrk (Debian package, HTTP/1.1 keep-alive, over loopback) against
#      each, interleaved, BENCH_ROUNDS x BENCH_SECONDS each, and reports the
#      median requests/s and p99 latency and the ratio hardened / stock
#      (goal: >= 0.9).
# Results: printed, and written to reports/nginx_tls-<suite>.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. lab/env.sh

suite=${BENCH_SUITE:-bookworm}
rounds=${BENCH_ROUNDS:-3}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
name=nginx-bench
work=$(mktemp -d)
say() { printf '==> %s\n' "$*"; }
cleanup() {
  rm -rf "$work"
  if [ "${BENCH_KEEP:-0}" != 1 ]; then podman rm -f "$name" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

say "starting $name (localhost/odoo-hipaa-$suite:latest)"
podman rm -f "$name" >/dev/null 2>&1 || true
podman run -d --name "$name" --hostname "$name" --systemd=always --privileged \
  "localhost/odoo-hipaa-$suite:latest" /lib/systemd/systemd >/dev/null
for _ in $(seq 60); do
  state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
  case $state in running|degraded) break ;; esac
  sleep 1
done

cat > "$work/inventory.yml" <<YAML
all:
  hosts:
    $name:
      ansible_connection: containers.podman.podman
      ansible_python_interpreter: /usr/bin/python3
      nginx_tls_cert_file: $work/pki/$name.crt
      nginx_tls_key_file: $work/pki/$name.key
YAML
cat > "$work/bench.yml" <<'YAML'
- name: Lab certificate for the benchmark host
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the lab CA and the server certificate
      ansible.builtin.include_role:
        name: onprem.odoo_hipaa.lab_pki
      vars:
        lab_pki_dir: "{{ playbook_dir }}/pki"
        lab_pki_certificates:
          - { name: nginx-bench, common_name: nginx-bench, subject_alt_names: ["DNS:nginx-bench"] }

- name: The role's hardened entry, plus Debian's stock TLS beside it
  hosts: nginx-bench
  tasks:
    - name: Apply onprem.odoo_hipaa.nginx
      ansible.builtin.include_role:
        name: onprem.odoo_hipaa.nginx

    - name: Install wrk
      ansible.builtin.apt:
        name: wrk
        state: present

    - name: The benchmark's upstream and the stock-TLS server
      ansible.builtin.copy:
        dest: /etc/nginx/conf.d/zz-benchmark.conf
        mode: "0644"
        content: |
          # BENCHMARK ONLY (benchmarks/nginx_tls.sh)
          # Upstream for both sides: a fast static stand-in for Odoo.
          server {
              listen 127.0.0.1:8069;
              access_log off;
              location / {
                  add_header Set-Cookie "session_id=0123456789abcdef0123456789abcdef01234567; Max-Age=604800; HttpOnly; Path=/";
                  return 200 '{"standin": "benchmark upstream"}\n';
              }
          }
          # Debian's stock TLS (the nginx package's nginx.conf), nginx's defaults otherwise.
          server {
              listen 8443 ssl;
              server_name nginx-bench;
              ssl_certificate tls/odoo-hipaa.crt;
              ssl_certificate_key tls/odoo-hipaa.key;
              ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
              ssl_prefer_server_ciphers on;
              ssl_ciphers HIGH:!aNULL:!MD5;
              ssl_session_tickets on;
              ssl_session_cache none;
              access_log /var/log/nginx/access.log combined;
              location / {
                  proxy_pass http://127.0.0.1:8069;
              }
          }

    - name: Load the benchmark servers
      ansible.builtin.shell: nginx -t -q && systemctl reload nginx
      changed_when: true
YAML
say "converging the nginx role and the stock-TLS server (ansible)"
ANSIBLE_STDOUT_CALLBACK=default \
  ansible-playbook -i "$work/inventory.yml" "$work/bench.yml" > "$work/ansible.log" 2>&1 \
  || { tail -40 "$work/ansible.log"; exit 1; }

run_wrk() {  # port -> "rps p99_ms"
  podman exec "$name" wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency \
    "https://127.0.0.1:$1/web/bench" | awk '
      /^ +99%/ { v=$2; if (v ~ /us$/) { sub(/us/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms/,"",v) } else if (v ~ /s$/) { sub(/s/,"",v); v*=1000 } p99=v }
      /^Requests\/sec:/ { rps=$2 }
      /Non-2xx/ { bad=$NF }
      END { if (bad) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 } printf "%s %s\n", rps, p99 }'
}

say "checking both sides answer 200 over TLS"
for port in 443 8443; do
  podman exec "$name" sh -c "wrk -t1 -c1 -d1s https://127.0.0.1:$port/web/bench >/dev/null"
done
proto_h=$(podman exec "$name" sh -c 'openssl s_client -connect 127.0.0.1:443 </dev/null 2>/dev/null | grep "^New,"')
proto_s=$(podman exec "$name" sh -c 'openssl s_client -connect 127.0.0.1:8443 </dev/null 2>/dev/null | grep "^New,"')

say "wrk: $rounds rounds x ${seconds}s per side, $threads threads, $connections keep-alive connections"
h_rps=(); h_p99=(); s_rps=(); s_p99=()
for i in $(seq "$rounds"); do
  read -r r p < <(run_wrk 443);  h_rps+=("$r"); h_p99+=("$p")
  printf '    round %s hardened: %8s req/s  p99 %7s ms\n' "$i" "$r" "$p"
  read -r r p < <(run_wrk 8443); s_rps+=("$r"); s_p99+=("$p")
  printf '    round %s stock:    %8s req/s  p99 %7s ms\n' "$i" "$r" "$p"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
hr=$(median "${h_rps[@]}"); hp=$(median "${h_p99[@]}")
sr=$(median "${s_rps[@]}"); sp=$(median "${s_p99[@]}")
ratio=$(awk -v a="$hr" -v b="$sr" 'BEGIN { printf "%.3f", a / b }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.9) ? "meets the goal (>= 0.9)" : "BELOW the goal (>= 0.9)" }')
nginx_v=$(podman exec "$name" sh -c 'nginx -v 2>&1 | cut -d/ -f2')
ssl_v=$(podman exec "$name" openssl version | awk '{print $2}')

printf '\nnginx %s, OpenSSL %s (Debian %s), %s cores, wrk -t%s -c%s, %s x %ss each, median of rounds\n' \
  "$nginx_v" "$ssl_v" "$suite" "$(nproc)" "$threads" "$connections" "$rounds" "$seconds"
printf '  %-9s %-44s %10s %10s\n' side negotiated req/s "p99 ms"
printf '  %-9s %-44s %10s %10s\n' hardened "${proto_h#New, }" "$hr" "$hp"
printf '  %-9s %-44s %10s %10s\n' stock "${proto_s#New, }" "$sr" "$sp"
printf '  ratio hardened/stock (req/s): %s -> %s\n' "$ratio" "$verdict"

mkdir -p reports
cat > "reports/nginx_tls-$suite.json" <<JSON
{"suite": "$suite", "nginx": "$nginx_v", "openssl": "$ssl_v", "cores": $(nproc),
 "wrk": {"threads": $threads, "connections": $connections, "seconds": $seconds, "rounds": $rounds},
 "hardened": {"rps": $hr, "p99_ms": $hp, "rounds_rps": [$(IFS=,; echo "${h_rps[*]}")], "negotiated": "${proto_h#New, }"},
 "stock": {"rps": $sr, "p99_ms": $sp, "rounds_rps": [$(IFS=,; echo "${s_rps[*]}")], "negotiated": "${proto_s#New, }"},
 "ratio": $ratio}
JSON
say "recorded reports/nginx_tls-$suite.json"
