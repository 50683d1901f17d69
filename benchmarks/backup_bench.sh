#!/usr/bin/env bash
# Benchmark (not a test) of the backup role's job against raw restic, side by
# side on one converged lab host, each into its own fresh repositories:
#
#   local only (one local repository each):
#     baseline:  runuser -u postgres pg_dump -Fc | restic backup --stdin ; restic backup <filestore>
#     role job:  odoo_hipaa_backup.py backup (row counts in the dump's snapshot,
#                sha256 of the stream, manifest, config snapshot, retention)
#   with the off-site path (a local repository AND the host's append-only REST
#   repository, `rclone serve restic --append-only --private-repos` over mutual
#   TLS on its backup server, issue #17):
#     baseline:  what a hand-rolled script would do, the same two restic
#                backups into the local repository and again into the REST one
#                (a second pg_dump), with restic's own flags
#                --repository-file / --cacert / --tls-client-cert
#     role job:  the same job with both repositories configured like the real
#                config.json (local first, then the rest entry and its args):
#                backup into the local one, `restic copy` of the run to the
#                REST one, forget on the local one only (the backup server
#                applies the off-site retention itself)
#
# then an incremental run of each after 1% of rows and files changed, and the
# restore drill's RTO (local-only role repository).
#   benchmarks/backup_bench.sh [HOST] [DB_MB] [FILESTORE_MB]
# HOST is a converged backup lab host (molecule converge -s backup), default
# bk-app-d12; it must have a `rest` repository in its config.json. Figures go
# to stdout and benchmarks/results/backup-<host>.json.
#
# Off-site repositories: the bench never writes into the host's real off-site
# repository. It inits two fresh ones below the same client's path
# (<rest url>/bench-<time>-raw/ and -role/, the only place --private-repos and
# the service's BindPaths= let this client's account write), with the host's
# own credentials, password and certificate. The REST service is append-only,
# so the client cannot delete them: at the end (also on failure) the bench
# removes their directories as root on the backup server (a lab container,
# reached with podman exec). Were that step to fail, the bench snapshots would
# stay there until removed by hand: the server-side retention job only works
# on <root>/restic-<client>/repo itself and never looks into these.
set -euo pipefail
host=${1:-bk-app-d12}; db_mb=${2:-1024}; fs_mb=${3:-2048}
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/lab/containers.conf}
ex() { podman exec "$host" bash -c "$1"; }
calc() { python3 -c "print(round($1, 3))"; }
secs() { local t0 t1; t0=$(date +%s.%N); ex "$1" >/dev/null; t1=$(date +%s.%N); calc "$t1 - $t0"; }

# The host's REST repository: its backup server, the URL path (no password)
# and the files restic reads (repository file, CA, client certificate+key).
offsite=$(ex "python3 - <<'PY'
import json, urllib.parse
c = json.load(open('/etc/odoo-hipaa-backup/config.json'))
rest = [r for r in c['repositories'] if r.get('type') == 'rest']
if not rest:
    raise SystemExit('no rest repository in /etc/odoo-hipaa-backup/config.json')
u = urllib.parse.urlsplit(rest[0]['url'][len('rest:'):])
print(u.hostname, u.path.rstrip('/'), rest[0]['url'])
PY")
read -r srv srv_path offsite_url <<<"$offsite"      # bk-srv-d13 /restic-bk-app-d12/repo rest:https://...
client=${srv_path#/restic-}; client=${client%%/*}
tag=bench-$(date +%s)
# The directory the client's REST service binds in (src:dst:rbind), less the URL path: rclone's root.
srv_root=$(podman exec "$srv" systemctl show -P BindPaths "odoo-hipaa-restic-rest@$client")
srv_root=${srv_root%%:*}; srv_root=${srv_root%"$srv_path"}
if [ -z "$srv_root" ] || ! podman exec "$srv" test -d "$srv_root$srv_path"; then
  echo "cannot find the directory of $srv_path on $srv" >&2; exit 1
fi

cleanup() {
  ex "rm -rf /srv/bench /var/lib/odoo/filestore/bench; runuser -u postgres -- psql -XAq -d odoo -c 'DROP TABLE IF EXISTS bench_rows'" || true
  podman exec "$srv" rm -rf "$srv_root$srv_path/$tag-raw" "$srv_root$srv_path/$tag-role" || true
}
trap cleanup EXIT

echo "== preparing $db_mb MB of rows and $fs_mb MB of filestore on $host"
ex "runuser -u postgres -- psql -XAq -d odoo -c \"DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows AS SELECT g AS id, md5(g::text) || repeat(md5((g*7)::text), 15) AS payload FROM generate_series(1, ($db_mb * 1024 * 1024 / 560)::int) g; ALTER TABLE bench_rows OWNER TO odoo\""
ex "mkdir -p /var/lib/odoo/filestore/bench && cd /var/lib/odoo/filestore/bench && for i in \$(seq 1 $fs_mb); do [ -s f\$i ] || head -c 1048576 /dev/urandom > f\$i; done; chown -R odoo: /var/lib/odoo/filestore"
ex "rm -rf /srv/bench && mkdir -p -m 0700 /srv/bench && export RESTIC_PASSWORD_FILE=/etc/odoo-hipaa-backup/restic.pass && restic init -q --repo /srv/bench/raw && restic init -q --repo /srv/bench/role && restic init -q --repo /srv/bench/raw-o && restic init -q --repo /srv/bench/role-o"
# Configurations of the job (local only; local + REST like config.json) and
# the REST repository files of the two bench repositories (root, 0600).
ex "BENCH_TAG=$tag python3 - <<'PY'
import json, os
c = json.load(open('/etc/odoo-hipaa-backup/config.json'))
c['state_dir'] = '/srv/bench/state'
c['cache_dir'] = '/srv/bench/cache'
local = dict(c, repositories=[{'name': 'bench', 'url': '/srv/bench/role'}])
json.dump(local, open('/srv/bench/config.json', 'w'))
rest = [r for r in c['repositories'] if r.get('type') == 'rest'][0]
args = list(rest['args'])
i = args.index('--repository-file')
url = open(args[i + 1]).read().strip().rstrip('/')
os.umask(0o077)
for kind in ('raw', 'role'):
    with open(f'/srv/bench/offsite-{kind}.repository', 'w') as fh:
        fh.write(f\"{url}/{os.environ['BENCH_TAG']}-{kind}/\")
args[i + 1] = '/srv/bench/offsite-role.repository'
bench_rest = dict(rest, args=args, url=rest['url'].rstrip('/') + '/' + os.environ['BENCH_TAG'] + '-role/')
both = dict(c, state_dir='/srv/bench/state-o', repositories=[
    {'name': 'bench', 'type': 'local', 'url': '/srv/bench/role-o', 'args': ['--repo', '/srv/bench/role-o']}, bench_rest])
json.dump(both, open('/srv/bench/config-offsite.json', 'w'))
# restic's flags for the raw REST repository: the role's, another repository file.
args[i + 1] = '/srv/bench/offsite-raw.repository'
open('/srv/bench/offsite-raw.args', 'w').write(' '.join(args))
PY"
rest_raw=$(ex "cat /srv/bench/offsite-raw.args")
renv="export RESTIC_PASSWORD_FILE=/etc/odoo-hipaa-backup/restic.pass RESTIC_CACHE_DIR=/srv/bench/cache; set -o pipefail"
# As the role inits a copy repository: the primary's chunker parameters.
ex "$renv; restic -q $rest_raw init && restic -q ${rest_raw//offsite-raw/offsite-role} init --copy-chunker-params --from-repo /srv/bench/role-o --from-password-file /etc/odoo-hipaa-backup/restic.pass"

# raw_to REPO_ARGS: what a hand-rolled nightly script does for one repository.
raw_to() { echo "runuser -u postgres -- pg_dump -Fc -d odoo | restic -q $1 backup --stdin --stdin-filename odoo.dump && restic -q $1 backup /var/lib/odoo/filestore"; }
raw="$renv; $(raw_to "--repo /srv/bench/raw")"
raw_o="$renv; $(raw_to "--repo /srv/bench/raw-o") && $(raw_to "$rest_raw")"
job="python3 /usr/local/lib/odoo-hipaa-backup/odoo_hipaa_backup.py --config /srv/bench/config.json"
job_o="python3 /usr/local/lib/odoo-hipaa-backup/odoo_hipaa_backup.py --config /srv/bench/config-offsite.json"
change="runuser -u postgres -- psql -XAq -d odoo -c \"UPDATE bench_rows SET payload = md5(payload) WHERE id % 100 = 0\" && cd /var/lib/odoo/filestore/bench && for i in \$(seq 1 $((fs_mb / 100 + 1))); do head -c 1048576 /dev/urandom > new-\$(date +%s%N)-\$i; done"

echo "== full backups"
raw_full=$(secs "$raw");      role_full=$(secs "$job backup")
raw_full_o=$(secs "$raw_o");  role_full_o=$(secs "$job_o backup")
ex "$change"
echo "== incremental backups"
raw_inc=$(secs "$raw");       role_inc=$(secs "$job backup")
raw_inc_o=$(secs "$raw_o");   role_inc_o=$(secs "$job_o backup")
echo "== restore drill";       ex "$job drill" >/dev/null
rto=$(ex "python3 -c 'import json; print(json.load(open(\"/srv/bench/state/drill/last.json\"))[\"rto_seconds\"])'")
# Both runs of the job with the off-site path reached the REST repository.
copied=$(ex "$renv; restic ${rest_raw//offsite-raw/offsite-role} snapshots --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'")
[ "$copied" = 6 ] || { echo "expected 6 snapshots (2 runs) in the REST repository, found $copied" >&2; exit 1; }
ratio_full=$(calc "$role_full / $raw_full"); ratio_inc=$(calc "$role_inc / $raw_inc")
ratio_full_o=$(calc "$role_full_o / $raw_full_o"); ratio_inc_o=$(calc "$role_inc_o / $raw_inc_o")

printf '\n%-44s %10s %10s %8s\n' "dataset: ${db_mb} MB rows, ${fs_mb} MB files" "raw (s)" "role (s)" "ratio"
printf '%-44s %10.1f %10.1f %8s\n' "full backup" "$raw_full" "$role_full" "$ratio_full"
printf '%-44s %10.1f %10.1f %8s\n' "incremental after 1% change" "$raw_inc" "$role_inc" "$ratio_inc"
printf '%-44s %10.1f %10.1f %8s\n' "full backup, local + off-site REST" "$raw_full_o" "$role_full_o" "$ratio_full_o"
printf '%-44s %10.1f %10.1f %8s\n' "incremental, local + off-site REST" "$raw_inc_o" "$role_inc_o" "$ratio_inc_o"
printf '%-44s %21.1f\n' "restore drill RTO (s)" "$rto"
mkdir -p "$root/benchmarks/results"
cat > "$root/benchmarks/results/backup-$host.json" <<JSON
{"host": "$host", "db_mb": $db_mb, "filestore_mb": $fs_mb, "raw_full_s": $raw_full, "role_full_s": $role_full,
 "ratio_full": $ratio_full, "raw_incremental_s": $raw_inc, "role_incremental_s": $role_inc,
 "ratio_incremental": $ratio_inc, "drill_rto_s": $rto,
 "offsite": "${offsite_url}{$tag-raw,$tag-role}/ (fresh, removed after the bench)",
 "raw_full_offsite_s": $raw_full_o, "role_full_offsite_s": $role_full_o, "ratio_full_offsite": $ratio_full_o,
 "raw_incremental_offsite_s": $raw_inc_o, "role_incremental_offsite_s": $role_inc_o,
 "ratio_incremental_offsite": $ratio_inc_o, "date": "$(date -u +%FT%TZ)"}
JSON
