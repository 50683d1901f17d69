#!/usr/bin/env bash
# Benchmark (not a test) of the log_shipping role on the converged lab pair
# (molecule converge -s log_shipping): log-shipping-app-d12 -> log-shipping-agg-d13.
#  1. Sustained messages/s from client to aggregator, side by side on the same pair:
#       role:     RELP over TLS 1.2+ (mutual certificates), the role's disk-assisted
#                 queue and ruleset (odoo_hipaa_forward), into the role's per-host store
#       baseline: plain TCP syslog (omfwd, no TLS, no RELP acks) into the same store
#       and, to split the cost, RELP without TLS (same queue settings, no certificates)
#     Each round appends N numbered lines at once to a file the client reads (imfile)
#     and times until the aggregator has stored all N; rounds alternate, median reported.
#  2. Drain time of the backlog built during a 60 s outage: aggregator stopped, RATE
#     lines/s for 60 s on the client (role path), aggregator started, time until all stored.
#   benchmarks/log_shipping_bench.sh [N] [ROUNDS] [RATE]
# Bounded: N (default 200000) lines per round, ROUNDS (3) per side, 60 s outage at RATE
# (500/s), every wait capped at 300 s. Only the two lab containers are addressed.
# Figures go to stdout and benchmarks/results/log_shipping.json; the bench's
# rsyslog snippets and files are removed at the end.
set -euo pipefail
n=${1:-200000}; rounds=${2:-3}; rate=${3:-500}
app=log-shipping-app-d12; agg=log-shipping-agg-d13
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/lab/containers.conf}
on() { local h=$1; shift; podman exec "$h" bash -c "$1"; }
calc() { python3 -c "print(round($1, 3))"; }
store=/var/log/remote/$app/messages.log

for h in $app $agg; do
  podman container exists "$h" || { echo "$h is not running: molecule converge -s log_shipping first" >&2; exit 2; }
done

cleanup() {
  on $app "rm -f /etc/rsyslog.d/zz-lsh-bench.conf; rm -rf /var/tmp/lsh-bench; systemctl restart rsyslog" || true
  on $agg "rm -f /etc/rsyslog.d/zz-lsh-bench.conf; systemctl start rsyslog; systemctl restart rsyslog" || true
}
trap cleanup EXIT

echo "== bench inputs: plain TCP on $agg:10514, plain RELP on $agg:12514, file inputs on $app"
on $agg "cat > /etc/rsyslog.d/zz-lsh-bench.conf <<'CONF'
# benchmark only (benchmarks/log_shipping_bench.sh): plain TCP into the same store
module(load=\"imtcp\")
input(type=\"imtcp\" port=\"10514\" ruleset=\"odoo_hipaa_store\")
input(type=\"imrelp\" port=\"12514\" ruleset=\"odoo_hipaa_store\")
CONF
rsyslogd -N1 >/dev/null && systemctl restart rsyslog"
on $app "mkdir -p /var/tmp/lsh-bench && : > /var/tmp/lsh-bench/tls.log && : > /var/tmp/lsh-bench/plain.log && : > /var/tmp/lsh-bench/relp.log
cat > /etc/rsyslog.d/zz-lsh-bench.conf <<'CONF'
# benchmark only (benchmarks/log_shipping_bench.sh)
input(type=\"imfile\" file=\"/var/tmp/lsh-bench/tls.log\" tag=\"lshbench:\" ruleset=\"odoo_hipaa_forward\")
input(type=\"imfile\" file=\"/var/tmp/lsh-bench/plain.log\" tag=\"lshbench:\" ruleset=\"lsh_bench_plain\")
input(type=\"imfile\" file=\"/var/tmp/lsh-bench/relp.log\" tag=\"lshbench:\" ruleset=\"lsh_bench_relp\")
ruleset(name=\"lsh_bench_relp\") {
  action(type=\"omrelp\" target=\"$agg\" port=\"12514\" template=\"RSYSLOG_SyslogProtocol23Format\"
         queue.type=\"LinkedList\" queue.size=\"100000\" action.resumeRetryCount=\"-1\")
}
ruleset(name=\"lsh_bench_plain\") {
  action(type=\"omfwd\" target=\"$agg\" port=\"10514\" protocol=\"tcp\" template=\"RSYSLOG_SyslogProtocol23Format\"
         queue.type=\"LinkedList\" queue.size=\"100000\" action.resumeRetryCount=\"-1\")
}
CONF
rsyslogd -N1 >/dev/null && systemctl restart rsyslog"
sleep 3

# Wait on the aggregator until COUNT lines of RUN are stored; prints the epoch time.
wait_stored() {  # RUN COUNT OFFSET
  on $agg "end=\$((SECONDS + 300)); while [ \$(tail -c +$(( $3 + 1 )) $store | grep -c 'RUN=$1 ') -lt $2 ]; do
    [ \$SECONDS -lt \$end ] || { echo timeout >&2; exit 1; }; sleep 0.2; done; date +%s.%N"
}

one_round() {  # MODE -> msgs/s
  local mode=$1 run off t0 t1
  run=b$RANDOM$RANDOM
  on $app "seq 1 $n | sed 's/^/RUN=$run SEQ=/' > /var/tmp/lsh-bench/batch"
  off=$(on $agg "stat -c %s $store")
  t0=$(on $app "date +%s.%N; cat /var/tmp/lsh-bench/batch >> /var/tmp/lsh-bench/$mode.log")
  t1=$(wait_stored "$run" "$n" "$off")
  calc "$n / ($t1 - $t0)"
}

declare -a tls plain relp
for i in $(seq 1 "$rounds"); do
  tls+=("$(one_round tls)");     echo "round $i: RELP/TLS   ${tls[-1]} msg/s"
  plain+=("$(one_round plain)"); echo "round $i: plain TCP  ${plain[-1]} msg/s"
  relp+=("$(one_round relp)");   echo "round $i: plain RELP ${relp[-1]} msg/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
tls_med=$(median "${tls[@]}"); plain_med=$(median "${plain[@]}"); relp_med=$(median "${relp[@]}")
ratio=$(calc "$tls_med / $plain_med"); ratio_relp=$(calc "$tls_med / $relp_med")

echo "== 60 s outage at $rate msg/s"
run=o$RANDOM$RANDOM
off=$(on $agg "stat -c %s $store")
on $agg "systemctl stop rsyslog"
on $app "python3 - <<PY
import time
end = time.monotonic() + 60
seq = 0
with open('/var/tmp/lsh-bench/tls.log', 'a') as f:
    while time.monotonic() < end:
        t = time.monotonic()
        for _ in range($rate // 10):
            seq += 1
            f.write(f'RUN=$run SEQ={seq}\n')
        f.flush()
        time.sleep(max(0, 0.1 - (time.monotonic() - t)))
print(seq, file=open('/var/tmp/lsh-bench/outage-count', 'w'))
PY"
backlog=$(on $app "cat /var/tmp/lsh-bench/outage-count")
queue_kb=$(on $app "du -sk /var/spool/rsyslog | cut -f1")
t0=$(on $agg "date +%s.%N; systemctl start rsyslog")
t1=$(wait_stored "$run" "$backlog" "$off")
drain=$(calc "$t1 - $t0")
resume_max=$(on $app "grep -o 'action.resumeIntervalMax=\"[0-9]*\"' /etc/rsyslog.conf | tr -dc 0-9")

versions="$(on $app "dpkg-query -W -f '\${Version}' rsyslog") (client) / $(on $agg "dpkg-query -W -f '\${Version}' rsyslog") (aggregator)"
printf '\n%-44s %12s\n' "sustained, $n lines x $rounds rounds" "msg/s (median)"
printf '%-44s %12s   rounds: %s\n' "RELP over TLS (role)" "$tls_med" "${tls[*]}"
printf '%-44s %12s   rounds: %s\n' "plain TCP syslog (baseline)" "$plain_med" "${plain[*]}"
printf '%-44s %12s   rounds: %s\n' "RELP without TLS (to split the cost)" "$relp_med" "${relp[*]}"
printf '%-44s %12s\n' "ratio RELP/TLS : plain TCP" "$ratio"
printf '%-44s %12s\n' "ratio RELP/TLS : RELP plain (TLS cost)" "$ratio_relp"
printf '%-44s %12s\n' "60 s outage backlog (messages)" "$backlog"
printf '%-44s %12s\n' "client disk queue during outage (KiB)" "$queue_kb"
printf '%-44s %12s\n' "drain time after restart (s)" "$drain"
printf '%-44s %12s\n' "client resumeIntervalMax (s)" "$resume_max"
mkdir -p "$root/benchmarks/results"
cat > "$root/benchmarks/results/log_shipping.json" <<JSON
{"client": "$app", "aggregator": "$agg", "rsyslog": "$versions", "lines_per_round": $n, "rounds": $rounds,
 "tls_msgs_per_s": [$(IFS=,; echo "${tls[*]}")], "plain_msgs_per_s": [$(IFS=,; echo "${plain[*]}")],
 "relp_plain_msgs_per_s": [$(IFS=,; echo "${relp[*]}")],
 "tls_median": $tls_med, "plain_median": $plain_med, "relp_plain_median": $relp_med,
 "ratio_tls_plain": $ratio, "ratio_tls_relp_plain": $ratio_relp,
 "outage_s": 60, "outage_rate": $rate, "backlog": $backlog, "queue_kib": $queue_kb, "drain_s": $drain,
 "client_resume_interval_max_s": $resume_max, "date": "$(date -u +%FT%TZ)"}
JSON
