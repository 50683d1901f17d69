#!/usr/bin/env bash
# Benchmark (not a test) of the pgbackrest role's point-in-time recovery on
# one converged lab host (molecule converge -s pgbackrest), two measurements:
#
#  1. RPO under a steady write load, with the role's default archive_timeout
#     (60 s; the lab's 15 s is put back at the end). RUNS times: a writer
#     commits one row per ~100 ms into a scratch database, each row carrying
#     its clock_timestamp() (the writer logs every acknowledged commit); after
#     a random 20-90 s the whole PostgreSQL unit is SIGKILLed (systemctl kill:
#     postmaster, backends and any archive-push in flight, as if the host were
#     lost). The data directory is then treated as lost: pgBackRest restores
#     the end of the archive into a scratch directory, a sterile instance (no
#     TCP, own socket, settings from pg_controldata, like the weekly drill's)
#     is started and promoted there, and
#        lost_s    = time of the last acknowledged commit - newest restored commit
#        lost_rows = acknowledged rows missing from the restore
#        rto_s     = restore + start until promoted (read-write)
#     The real cluster is then restarted (crash recovery from its intact data
#     directory), and before the next run a CHECKPOINT and `pgbackrest check`
#     (a segment switch, waited for in the archive) make every run start with
#     nothing unarchived and a fresh baseline row: the runs are independent and
#     the minutes between them (restore, restart), when nothing is written,
#     are not counted as lost. Without that, the rows the
#     previous run lost (still in the restarted cluster's open segment) count
#     again, and the first archive_timeout switch after a crash restart was
#     seen to come late (once > 70 s; the checkpointer can miss the end of
#     recovery and sleep checkpoint_timeout). Goal: median lost_s <= 60 s.
#  2. Restore time per GB: DB_MB of rows, then a pgBackRest full backup (zst,
#     encrypted, the role's settings) and a pg_basebackup (-Ft -X stream,
#     uncompressed tar: the fastest plain restore, so pgBackRest's decompression
#     and decryption count against it); each restored into a scratch directory
#     and started until it accepts read-write connections (pgBackRest: replay of
#     the archive to its end and promotion; base backup: recovery to the backup's
#     consistency point). Per GB of the whole cluster (sum of pg_database_size):
#     both restores restore every database.
#
#   benchmarks/pitr_bench.sh [HOST] [DB_MB] [RUNS]      (pitr-d13 1024 5)
#
# Touches, and puts back on exit (also on failure): archive_timeout (a conf.d
# file), pg_hba.conf (one `local replication postgres peer` line while
# pg_basebackup runs), the cluster's running state. Removes the scratch
# database pitr_bench and /srv/backup/pitr-bench. The extra full backup stays
# in the repository (expired by the normal retention).
# Figures go to stdout and benchmarks/results/pitr.json.
set -euo pipefail
host=${1:-pitr-d13}; db_mb=${2:-1024}; runs=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/lab/containers.conf}
helper=/run/pitr-bench-helper.sh
ex() { podman exec "$host" bash -c "$1"; }
h() { podman exec "$host" bash "$helper" "$@"; }
calc() { python3 -c "print(round($1, 3))"; }

# The part that runs inside the container, as root (PostgreSQL work as postgres).
podman exec -i "$host" bash -c "cat > $helper && chmod 0700 $helper" <<'HELPER'
set -euo pipefail
S=/srv/backup/pitr-bench          # scratch: on the backup volume, like the drill's
STANZA=odoo
SPORT=5498                        # scratch instances' port (socket only)
read -r VER RPORT < <(pg_lsclusters -h | awk '$2 == "main" {print $1, $3; exit}')
BIN=/usr/lib/postgresql/$VER/bin
SVC=postgresql@$VER-main.service
ETC=/etc/postgresql/$VER/main
BENCHCONF=$ETC/conf.d/99-pitr-bench.conf
cd /tmp
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
export PGOPTIONS='-c client_min_messages=warning'
sql() { local db=$1; shift; as_pg psql -XAtq -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$RPORT" -d "$db" -c "$*"; }
ssql() { local n=$1 db=$2; shift 2; as_pg psql -XAtq -v ON_ERROR_STOP=1 -h "$S/$n/run" -p "$SPORT" -d "$db" -c "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }'; }
real_ready() {
  for _ in $(seq 600); do as_pg pg_isready -q -h /var/run/postgresql -p "$RPORT" && return 0; sleep 0.5; done
  echo "PostgreSQL $VER/main does not accept connections" >&2; return 1
}

# A sterile instance in $S/<name>/data: the drill's scratch_conf.
scratch_conf() {
  local d=$S/$1/data
  {
    echo "listen_addresses = ''"
    echo "port = $SPORT"
    echo "unix_socket_directories = '$S/$1/run'"
    echo "shared_buffers = 32MB"
    echo "jit = off"
    echo "archive_mode = off"
    echo "ssl = off"
    echo "logging_collector = off"
    echo "shared_preload_libraries = 'pgaudit'"
    echo "pgaudit.log = 'read, write, ddl'"
    as_pg "$BIN/pg_controldata" "$d" | sed -nE \
      -e 's/^max_connections setting: +([0-9]+)$/max_connections = \1/p' \
      -e 's/^max_worker_processes setting: +([0-9]+)$/max_worker_processes = \1/p' \
      -e 's/^max_wal_senders setting: +([0-9]+)$/max_wal_senders = \1/p' \
      -e 's/^max_prepared_xacts setting: +([0-9]+)$/max_prepared_transactions = \1/p' \
      -e 's/^max_locks_per_xact setting: +([0-9]+)$/max_locks_per_transaction = \1/p'
  } > "$d/postgresql.conf"
  echo "local all postgres peer" > "$d/pg_hba.conf"
  : > "$d/pg_ident.conf"
  chown postgres:postgres "$d/postgresql.conf" "$d/pg_hba.conf" "$d/pg_ident.conf"
  chmod 0600 "$d/postgresql.conf" "$d/pg_hba.conf" "$d/pg_ident.conf"
}
scratch_start() {  # until it accepts read-write connections (promoted / out of recovery)
  local n=$1
  scratch_conf "$n"
  as_pg "$BIN/pg_ctl" -D "$S/$n/data" -l "$S/$n/postgresql.log" -w -t 1200 start >/dev/null
  for _ in $(seq 12000); do
    [ "$(ssql "$n" postgres "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && return 0
    if grep -q FATAL "$S/$n/postgresql.log"; then grep FATAL "$S/$n/postgresql.log" >&2; return 1; fi
    sleep 0.1
  done
  echo "scratch instance $n not promoted" >&2; return 1
}
scratch_dir() { rm -rf "${S:?}/$1"; install -d -o postgres -g postgres -m 0700 "$S/$1" "$S/$1/run"; }
scratch_remove() {
  if [ -f "$S/$1/data/postmaster.pid" ]; then
    as_pg "$BIN/pg_ctl" -D "$S/$1/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "${S:?}/$1"
}
writer_stop() {
  rm -f "$S/writer.on"
  if [ -s "$S/writer.pid" ]; then
    local pid; pid=$(cat "$S/writer.pid")
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
    rm -f "$S/writer.pid"
  fi
}

case $1 in
setup)  # archive_timeout = the role's default for the benchmark; the writer's table
  install -d -o postgres -g postgres -m 0700 "$S"
  printf '# pitr_bench.sh: the role default while the benchmark runs; removed at its end.\narchive_timeout = 60\n' > "$BENCHCONF"
  chown postgres:postgres "$BENCHCONF"; chmod 0640 "$BENCHCONF"
  sql postgres "SELECT pg_reload_conf()" >/dev/null; sleep 1
  sql postgres "DROP DATABASE IF EXISTS pitr_bench WITH (FORCE)"
  sql postgres "CREATE DATABASE pitr_bench"
  sql pitr_bench "CREATE TABLE w (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())"
  # the table and a first row reach the archive before the first kill (the
  # baseline when a run loses every row it wrote)
  sql pitr_bench "INSERT INTO w DEFAULT VALUES"
  as_pg pgbackrest --stanza=$STANZA --log-level-console=warn check
  sql postgres "SELECT setting FROM pg_settings WHERE name = 'archive_timeout'" ;;
writer-start)  # one committed row per ~100 ms; every acknowledged commit logged as id|epoch
  : > "$S/acks"; chown postgres:postgres "$S/acks"; touch "$S/writer.on"
  setsid setpriv --reuid=postgres --regid=postgres --init-groups -- bash -c '
    while [ -e "$1/writer.on" ]; do
      out=$(psql -XAtq -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$2" -d pitr_bench \
            -c "INSERT INTO w DEFAULT VALUES RETURNING id, extract(epoch FROM at)" 2>/dev/null) || break
      printf "%s\n" "$out" >> "$1/acks"
      sleep 0.1
    done' _ "$S" "$RPORT" </dev/null >/dev/null 2>&1 &
  echo $! > "$S/writer.pid" ;;
kill)  # lose the host: every process of the unit at once; prints the last ack (id|epoch)
  systemctl kill --signal=SIGKILL "$SVC"
  for _ in $(seq 100); do pgrep -u postgres -x postgres >/dev/null || break; sleep 0.1; done
  writer_stop
  tail -n 1 "$S/acks" ;;
restore)  # restore the newest backup + the archive to its end into $S/<name>; prints seconds
  n=$2; scratch_dir "$n"; t0=$(now)
  as_pg pgbackrest --stanza=$STANZA --pg1-path="$S/$n/data" --type=default --archive-mode=off \
    --log-level-console=warn restore >&2
  scratch_start "$n"; since "$t0" ;;
restored)  # max id | max epoch of the writer's rows in the scratch instance, and acks lost
  r=$(ssql "$2" pitr_bench "SELECT coalesce(max(id), 0) || '|' || coalesce(extract(epoch FROM max(at)), 0) FROM w")
  lost=$(awk -F'|' -v m="${r%%|*}" '$1 > m' "$S/acks" | wc -l)
  echo "$r|$lost" ;;
remove) scratch_remove "$2" ;;
start-real)  # and everything written so far archived: each run starts alike
  systemctl is-active --quiet "$SVC" || systemctl start "$SVC"
  real_ready
  sql pitr_bench "INSERT INTO w DEFAULT VALUES"   # the next run's baseline, not the previous run's last row
  sql postgres "CHECKPOINT"
  as_pg pgbackrest --stanza=$STANZA --log-level-console=warn check ;;
data)  # $2 MB of rows (the shape of backup_bench.sh's bench_rows); prints cluster bytes
  sql pitr_bench "DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows AS SELECT g AS id, md5(g::text) || repeat(md5((g*7)::text), 15) AS payload FROM generate_series(1, ($2 * 1024 * 1024 / 560)::int) g"
  sql pitr_bench "CHECKPOINT"
  sql postgres "SELECT sum(pg_database_size(datname)) FROM pg_database" ;;
full-backup)
  t0=$(now); as_pg pgbackrest --stanza=$STANZA --type=full --log-level-console=warn backup >&2; since "$t0" ;;
basebackup)  # pg_basebackup needs a replication connection: one hba line while it runs
  cp -p "$ETC/pg_hba.conf" "$S/pg_hba.conf.orig"
  { echo "local replication postgres peer"; cat "$S/pg_hba.conf.orig"; } > "$ETC/pg_hba.conf"
  sql postgres "SELECT pg_reload_conf()" >/dev/null; sleep 1
  rm -rf "$S/bb"; t0=$(now)
  as_pg pg_basebackup -h /var/run/postgresql -p "$RPORT" -D "$S/bb" -Ft -X stream -c fast
  t=$(since "$t0")
  cp -p "$S/pg_hba.conf.orig" "$ETC/pg_hba.conf"; rm -f "$S/pg_hba.conf.orig"
  sql postgres "SELECT pg_reload_conf()" >/dev/null
  echo "$t" ;;
bb-restore)  # extract the base backup into $S/<name>, start; prints seconds
  n=$2; scratch_dir "$n"; t0=$(now)
  install -d -o postgres -g postgres -m 0700 "$S/$n/data"
  as_pg tar -xf "$S/bb/base.tar" -C "$S/$n/data"
  as_pg tar -xf "$S/bb/pg_wal.tar" -C "$S/$n/data/pg_wal"
  scratch_start "$n"; since "$t0" ;;
cleanup)  # everything back; the real cluster running with the lab's archive_timeout
  writer_stop 2>/dev/null || true
  for d in "$S"/*/; do if [ -d "$d" ]; then scratch_remove "$(basename "$d")"; fi; done
  if [ -f "$S/pg_hba.conf.orig" ]; then cp -p "$S/pg_hba.conf.orig" "$ETC/pg_hba.conf"; fi
  rm -rf "${S:?}" "$BENCHCONF"
  systemctl is-active --quiet "$SVC" || systemctl start "$SVC"
  real_ready
  sql postgres "SELECT pg_reload_conf()" >/dev/null; sleep 1
  sql postgres "DROP DATABASE IF EXISTS pitr_bench WITH (FORCE)"
  as_pg pgbackrest --stanza=$STANZA --log-level-console=warn expire >&2
  as_pg pgbackrest --stanza=$STANZA --log-level-console=warn check >&2 && echo "archiving: check ok" >&2
  echo "archive_timeout back to $(sql postgres "SHOW archive_timeout")" >&2 ;;
esac
HELPER

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  echo "== cleanup on $host" >&2
  h cleanup || echo "CLEANUP FAILED: check $host by hand (cluster, $helper, /srv/backup/pitr-bench)" >&2
  ex "rm -f $helper" || true
  exit "$rc"
}
trap cleanup EXIT INT TERM

at=$(h setup)
echo "== $host: archive_timeout ${at}s for the benchmark; $runs kills under a writer committing a row every ~100 ms"
rpo_runs=()
for i in $(seq 1 "$runs"); do
  delay=$((20 + RANDOM % 71))
  h writer-start
  sleep "$delay"
  last=$(h kill)                         # id|epoch of the last acknowledged commit
  rto=$(h restore "rpo$i")
  IFS='|' read -r _ rmax_at lost_rows <<<"$(h restored "rpo$i")"
  lost=$(calc "${last#*|} - $rmax_at")
  h remove "rpo$i"
  h start-real
  printf '   run %d: killed after %3d s: lost %6.1f s (%d rows), restore+promote %.1f s\n' \
    "$i" "$delay" "$lost" "$lost_rows" "$rto"
  rpo_runs+=("{\"kill_after_s\": $delay, \"lost_s\": $lost, \"lost_rows\": $lost_rows, \"rto_s\": $rto}")
done
rpo_json="[$(IFS=,; echo "${rpo_runs[*]}")]"
rpo_median=$(python3 -c "import json, statistics, sys; print(round(statistics.median(r['lost_s'] for r in json.loads(sys.argv[1])), 3))" "$rpo_json")

echo "== $db_mb MB of rows, a pgBackRest full backup and a pg_basebackup"
bytes=$(h data "$db_mb")
db_gb=$(calc "$bytes / 1024**3")
full_s=$(h full-backup)
bb_s=$(h basebackup)
echo "== restores"
pgbr_s=$(h restore pgbr); h remove pgbr
bbr_s=$(h bb-restore bbr); h remove bbr
pgbr_gb=$(calc "$pgbr_s / $db_gb"); bbr_gb=$(calc "$bbr_s / $db_gb"); ratio=$(calc "$pgbr_s / $bbr_s")

printf '\n%-44s %10s\n' "$host, archive_timeout ${at} s" "value"
printf '%-44s %10s\n' "RPO median of $runs kills (s, goal <= 60)" "$rpo_median"
printf '%-44s %10s\n' "RPO runs lost_s" "$(python3 -c "import json, sys; print(' '.join(str(r['lost_s']) for r in json.loads(sys.argv[1])))" "$rpo_json")"
printf '%-44s %10s\n' "cluster size (GB)" "$db_gb"
printf '%-44s %10s\n' "backup: pgBackRest full / pg_basebackup (s)" "$full_s / $bb_s"
printf '%-44s %10s\n' "restore pgBackRest (s, s/GB)" "$pgbr_s, $pgbr_gb"
printf '%-44s %10s\n' "restore pg_basebackup tar (s, s/GB)" "$bbr_s, $bbr_gb"
printf '%-44s %10s\n' "ratio pgBackRest / pg_basebackup" "$ratio"

mkdir -p "$root/benchmarks/results"
python3 - "$root/benchmarks/results/pitr.json" <<PY
import json, sys
json.dump({"host": "$host", "date": "$(date -u +%FT%TZ)", "archive_timeout_s": $at,
           "rpo_median_s": $rpo_median, "rpo_runs": json.loads('$rpo_json'), "rpo_goal_s": 60,
           "db_mb": $db_mb, "db_gb": $db_gb, "pgbackrest_full_backup_s": $full_s, "basebackup_s": $bb_s,
           "pgbackrest_restore_s": $pgbr_s, "pgbackrest_restore_s_per_gb": $pgbr_gb,
           "basebackup_restore_s": $bbr_s, "basebackup_restore_s_per_gb": $bbr_gb,
           "ratio_restore_pgbackrest_vs_basebackup": $ratio},
          open(sys.argv[1], "w"), indent=1)
PY
echo "results: benchmarks/results/pitr.json"
