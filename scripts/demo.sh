#!/usr/bin/env bash
# The demo (README): build the lab, converge the site onto it, show what it did.
#   scripts/demo.sh           build/start the lab and converge it (again)
#   scripts/demo.sh --destroy remove the lab containers and network
# The lab is one application host, a Debian 12 systemd container named
# odoo-hipaa-lab-app, reached with `podman exec` (inventories/lab).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
app=odoo-hipaa-lab-app
net=odoo-hipaa-lab
# the lab (inventories/lab/hosts.yml): NAME:DEBIAN-SUITE
hosts=(odoo-hipaa-lab-app:bookworm odoo-hipaa-lab-logs:trixie odoo-hipaa-lab-backup:trixie)

say() { printf '\n==> %s\n' "$*"; }

if [ "${1:-}" = "--destroy" ]; then
  export CONTAINERS_CONF="$root/lab/containers.conf"
  for spec in "${hosts[@]}"; do podman rm -f "${spec%%:*}" >/dev/null 2>&1 || true; done
  podman network rm "$net" >/dev/null 2>&1 || true
  echo "lab removed"; exit 0
fi

say "1/5 set-up (Debian packages, Python venv, lab images)"
scripts/setup.sh
# shellcheck source=../lab/env.sh
. lab/env.sh

say "2/5 starting the lab hosts (systemd containers on the podman network $net)"
podman network exists "$net" || podman network create "$net" >/dev/null
for spec in "${hosts[@]}"; do
  name=${spec%%:*}; suite=${spec##*:}
  if ! podman container exists "$name"; then
    podman run -d --name "$name" --hostname "$name" --network "$net" \
      --systemd=always --privileged "localhost/odoo-hipaa-$suite:latest" /lib/systemd/systemd >/dev/null
  fi
  podman start "$name" >/dev/null
done
for spec in "${hosts[@]}"; do
  name=${spec%%:*}
  for _ in $(seq 60); do
    state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 1
  done
  printf '    %-24s Debian %s, systemd %s\n' "$name" "$([ "${spec##*:}" = bookworm ] && echo 12 || echo 13)" "$state"
done

say "3/5 lab certificates, keys and the stand-in Odoo archive, then ansible-playbook -i inventories/lab playbooks/site.yml"
ansible-playbook -i inventories/lab playbooks/lab_prepare.yml
ansible-playbook -i inventories/lab playbooks/site.yml

say "4/5 what the site looks like now (checked from the outside)"
ex() { podman exec "$app" "$@"; }
pg() { ex runuser -u postgres -- psql -XAtc "$1"; }
printf '    %-44s %s\n' \
  "PostgreSQL version" "$(pg 'SHOW server_version')" \
  "listen_addresses (empty = socket only)" "'$(pg 'SHOW listen_addresses')'" \
  "TCP listeners on 5432" "$(ex ss -Hltn 'sport = :5432' | wc -l)" \
  "password_encryption" "$(pg 'SHOW password_encryption')" \
  "pg_hba methods in use" "$(pg "SELECT string_agg(DISTINCT auth_method, ', ') FROM pg_hba_file_rules")" \
  "pgaudit.log" "$(pg 'SHOW pgaudit.log')" \
  "data_checksums" "$(pg 'SHOW data_checksums')" \
  "Odoo role superuser / createrole / createdb" "$(pg "SELECT concat_ws(' / ', rolsuper, rolcreaterole, rolcreatedb) FROM pg_roles WHERE rolname = 'odoo'")"

ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$app")
echo; echo "    nginx at https://$ip/ (the lab CA; behind it the TEST DOUBLE of Odoo, see README):"
python3 -W ignore - "$ip" "$root/.lab/pki/ca.crt" <<'PY'
import http.client, socket, ssl, sys
ip, ca = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection((ip, 443), 5) as raw, ctx.wrap_socket(raw, server_hostname="odoo-hipaa-lab-app") as tls:
    print("    %-44s %s" % ("TLS version / cipher", "%s / %s" % (tls.version(), tls.cipher()[0])))
old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); old.check_hostname = False; old.verify_mode = ssl.CERT_NONE
old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
try:
    old.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((ip, 443), 5) as raw, old.wrap_socket(raw) as tls:
        verdict = "ACCEPTED (bad)"
except (ssl.SSLError, OSError) as exc:
    verdict = "refused: %s" % (getattr(exc, "reason", None) or exc)
print("    %-44s %s" % ("a TLS 1.1 handshake", verdict))
c = http.client.HTTPConnection(ip, 80, timeout=5); c.request("GET", "/web/login"); r = c.getresponse()
print("    %-44s %s" % ("http://.../web/login", "%d -> %s" % (r.status, r.getheader("Location"))))
c = http.client.HTTPSConnection("odoo-hipaa-lab-app", 443, context=ctx, timeout=5)
c.sock = ctx.wrap_socket(socket.create_connection((ip, 443), 5), server_hostname="odoo-hipaa-lab-app")
c.request("GET", "/web/database/manager"); r = c.getresponse()
print("    %-44s %s" % ("/web/database/manager", r.status))
print("    %-44s %s" % ("Strict-Transport-Security", r.getheader("Strict-Transport-Security")))
PY
echo; echo "    Backup and restore drill (started now rather than by their timers):"
# Odoo is not installed yet: a small table stands in for its data.
ex runuser -u postgres -- psql -XAtq -d odoo -c "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS demo_patient (id int PRIMARY KEY, name text);
    INSERT INTO demo_patient SELECT g, 'demo patient ' || g FROM generate_series(1, 100) g ON CONFLICT DO NOTHING"
ex systemctl start odoo-hipaa-backup.service
ex systemctl start odoo-hipaa-restore-drill.service
ex systemctl start odoo-hipaa-backup-check.service
podman exec -i "$app" python3 - <<'PY'
import json
b = json.load(open("/var/lib/odoo-hipaa-backup/last-backup.json"))
d = json.load(open("/var/lib/odoo-hipaa-backup/drill/last.json"))
print("    %-44s %s" % ("last backup run", "%s (%s, %d bytes dumped)" % (b["run"], b["result"], b["dump_bytes"])))
print("    %-44s %s" % ("restore drill", "%s: %d tables, %d rows restored = %d in the dump, RTO %.1f s"
      % (d["result"], d["tables_compared"], d["rows_restored"], d["rows_in_dump"], d["rto_seconds"])))
PY
printf '    %-44s %s\n' "backup timers" "$(ex systemctl list-timers --no-legend 'odoo-hipaa-*' | awk '{print $(NF-1)}' | xargs)"

say "5/5 the HIPAA evidence report: ansible-playbook -i inventories/lab playbooks/verify.yml (read-only)"
verify_rc=0
ansible-playbook -i inventories/lab playbooks/verify.yml >"$root/reports/verify-demo.log" 2>&1 || verify_rc=$?
python3 - "$root/reports/evidence/latest.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
print("    %d passed, %d failed, %d waived on %s" % (s["passed"], s["failed"], s["waived"], ", ".join(s["hosts"])))
for r in d["controls"]:
    if r["status"] != "pass":
        print("    %-6s %-7s %-22s %s" % (r["status"].upper(), r["control"], r["check"], r["host"]))
PY
echo "    HTML report: $(readlink -f "$root/reports/evidence/latest.html")"
[ "$verify_rc" -eq 0 ] || echo "    verify.yml exited $verify_rc: the FAIL rows above are findings (log: reports/verify-demo.log)"
echo
echo "    Odoo here is the odoo role's TEST DOUBLE (Odoo cannot be downloaded on this"
echo "    machine): the database-level rows are waived for that reason. The LUKS"
echo "    volumes are proven in a VM by the Molecule scenario luks, not in these containers."
echo
echo "    Look around:  podman exec -it $app bash      Remove:  scripts/demo.sh --destroy"
