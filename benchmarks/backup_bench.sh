#!/usr/bin/env bash
# Benchmark (not a test) of the backup role's job against raw restic, side by
# side on one converged lab host, each into its own fresh local repository:
#   baseline:  runuser -u postgres pg_dump -Fc | restic backup --stdin ; restic backup <filestore>
#   role job:  odoo_hipaa_backup.py backup (row counts in the dump's snapshot,
#              sha256 of the stream, manifest, config snapshot, retention)
# then an incremental run of each after 1% of rows and files changed, and the
# restore drill's RTO.
#   benchmarks/backup_bench.sh [HOST] [DB_MB] [FILESTORE_MB]
# HOST is a converged backup lab host (molecule converge -s backup), default
# bk-app-d12. Figures go to stdout and benchmarks/results/backup-<host>.json.
set -euo pipefail
host=${1:-bk-app-d12}; db_mb=${2:-1024}; fs_mb=${3:-2048}
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/lab/containers.conf}
ex() { podman exec "$host" bash -c "$1"; }
calc() { python3 -c "print(round($1, 3))"; }
secs() { local t0 t1; t0=$(date +%s.%N); ex "$1" >/dev/null; t1=$(date +%s.%N); calc "$t1 - $t0"; }

echo "== preparing $db_mb MB of rows and $fs_mb MB of filestore on $host"
ex "runuser -u postgres -- psql -XAq -d odoo -c \"DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows AS SELECT g AS id, md5(g::text) || repeat(md5((g*7)::text), 15) AS payload FROM generate_series(1, ($db_mb * 1024 * 1024 / 560)::int) g; ALTER TABLE bench_rows OWNER TO odoo\""
ex "mkdir -p /var/lib/odoo/filestore/bench && cd /var/lib/odoo/filestore/bench && for i in \$(seq 1 $fs_mb); do [ -s f\$i ] || head -c 1048576 /dev/urandom > f\$i; done; chown -R odoo: /var/lib/odoo/filestore"
ex "rm -rf /srv/bench && mkdir -p /srv/bench && export RESTIC_PASSWORD_FILE=/etc/odoo-hipaa-backup/restic.pass && restic init -q --repo /srv/bench/raw && restic init -q --repo /srv/bench/role"
ex "python3 - <<'PY'
import json
c = json.load(open('/etc/odoo-hipaa-backup/config.json'))
c['repositories'] = [{'name': 'bench', 'url': '/srv/bench/role'}]
c['state_dir'] = '/srv/bench/state'
json.dump(c, open('/srv/bench/config.json', 'w'))
PY"
raw="export RESTIC_PASSWORD_FILE=/etc/odoo-hipaa-backup/restic.pass RESTIC_CACHE_DIR=/srv/bench/cache; set -o pipefail; runuser -u postgres -- pg_dump -Fc -d odoo | restic -q --repo /srv/bench/raw backup --stdin --stdin-filename odoo.dump && restic -q --repo /srv/bench/raw backup /var/lib/odoo/filestore"
job="python3 /usr/local/lib/odoo-hipaa-backup/odoo_hipaa_backup.py --config /srv/bench/config.json"
change="runuser -u postgres -- psql -XAq -d odoo -c \"UPDATE bench_rows SET payload = md5(payload) WHERE id % 100 = 0\" && cd /var/lib/odoo/filestore/bench && for i in \$(seq 1 $((fs_mb / 100 + 1))); do head -c 1048576 /dev/urandom > new-\$(date +%s%N)-\$i; done"

echo "== full backups";        raw_full=$(secs "$raw");  role_full=$(secs "$job backup")
ex "$change"
echo "== incremental backups"; raw_inc=$(secs "$raw");   role_inc=$(secs "$job backup")
echo "== restore drill";       ex "$job drill" >/dev/null
rto=$(ex "python3 -c 'import json; print(json.load(open(\"/srv/bench/state/drill/last.json\"))[\"rto_seconds\"])'")
ratio_full=$(calc "$role_full / $raw_full"); ratio_inc=$(calc "$role_inc / $raw_inc")

printf '\n%-34s %10s %10s %8s\n' "dataset: ${db_mb} MB rows, ${fs_mb} MB files" "raw (s)" "role (s)" "ratio"
printf '%-34s %10.1f %10.1f %8s\n' "full backup" "$raw_full" "$role_full" "$ratio_full"
printf '%-34s %10.1f %10.1f %8s\n' "incremental after 1% change" "$raw_inc" "$role_inc" "$ratio_inc"
printf '%-34s %21.1f\n' "restore drill RTO (s)" "$rto"
mkdir -p "$root/benchmarks/results"
cat > "$root/benchmarks/results/backup-$host.json" <<JSON
{"host": "$host", "db_mb": $db_mb, "filestore_mb": $fs_mb, "raw_full_s": $raw_full, "role_full_s": $role_full,
 "ratio_full": $ratio_full, "raw_incremental_s": $raw_inc, "role_incremental_s": $role_inc,
 "ratio_incremental": $ratio_inc, "drill_rto_s": $rto, "date": "$(date -u +%FT%TZ)"}
JSON
ex "rm -rf /srv/bench /var/lib/odoo/filestore/bench; runuser -u postgres -- psql -XAq -d odoo -c 'DROP TABLE bench_rows'"
