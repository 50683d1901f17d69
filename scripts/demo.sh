#!/usr/bin/env bash
# The demo (README): build the lab, converge the site onto it, show what it did.
#   scripts/demo.sh           build/start the lab and converge it (again)
#   scripts/demo.sh --luks-vm also boot a QEMU VM (Debian 12, TCG) with two empty
#                             disks, encrypt them with the luks role and prove it:
#                             luksDump, mounts, a reboot that unlocks them by
#                             keyfile, the evidence row luks_volumes (containers
#                             cannot show LUKS). Also: ODOO_HIPAA_DEMO_LUKS_VM=1
#   scripts/demo.sh --destroy remove the lab containers and network (and the VM)
# The lab is one application host, a Debian 12 systemd container named
# odoo-hipaa-lab-app, reached with `podman exec` (inventories/lab); the LUKS VM
# is reached over SSH (inventories/lab_vm, state in .lab/vm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
app=odoo-hipaa-lab-app
net=odoo-hipaa-lab
# the lab (inventories/lab/hosts.yml): NAME:DEBIAN-SUITE
hosts=(odoo-hipaa-lab-app:bookworm odoo-hipaa-lab-logs:trixie odoo-hipaa-lab-backup:trixie)
# the LUKS VM (inventories/lab_vm): state directory and its empty disks, SERIAL:SIZE
# (PostgreSQL data, the filestore: inventories/lab_vm/group_vars/db.yml)
vmdir=$root/.lab/vm
vm_disks=(odoo-hipaa-data1:256M odoo-hipaa-data2:128M)

say() { printf '\n==> %s\n' "$*"; }
usage() { sed -n '2,9p' "$0" >&2; exit 2; }

destroy=0
case "${ODOO_HIPAA_DEMO_LUKS_VM:-0}" in 1|true|yes) luks_vm=1 ;; *) luks_vm=0 ;; esac
for arg in "$@"; do
  case "$arg" in
    --destroy) destroy=1 ;;
    --luks-vm) luks_vm=1 ;;
    *) usage ;;
  esac
done

if [ "$destroy" = 1 ]; then
  export CONTAINERS_CONF="$root/lab/containers.conf"
  for spec in "${hosts[@]}"; do podman rm -f "${spec%%:*}" >/dev/null 2>&1 || true; done
  podman network rm "$net" >/dev/null 2>&1 || true
  if [ -e "$vmdir" ]; then lab/vm.sh stop "$vmdir"; echo "LUKS VM stopped, its disks deleted"; fi
  echo "lab removed"; exit 0
fi
steps=$((luks_vm ? 8 : 6))

# a fresh clone has none of the git-ignored folders this script writes to
mkdir -p reports .lab

say "1/$steps set-up (Debian packages, Python venv, lab images)"
scripts/setup.sh
# The demo runs the site under stock Ansible, as a site runs it (the Molecule
# scenarios run under Mitogen: lab/env.sh); ODOO_HIPAA_LAB_MITOGEN=1 to change that.
export ODOO_HIPAA_LAB_MITOGEN=${ODOO_HIPAA_LAB_MITOGEN:-0}
# shellcheck source=../lab/env.sh
. lab/env.sh
if [ ! -f "$ODOO_HIPAA_ODOO_ARCHIVE" ]; then
  cat >&2 <<EOF
No Odoo source archive at ODOO_HIPAA_ODOO_ARCHIVE=$ODOO_HIPAA_ODOO_ARCHIVE
The lab deploys a real Odoo 18.0 from a source archive (the air-gapped 'archive' method). Provide one and run again:
  ODOO_HIPAA_ODOO_ARCHIVE=/path/to/odoo_18.0.latest.tar.gz scripts/demo.sh
Odoo's nightly source tarball: https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz
(or: git clone -b 18.0 --depth 1 https://github.com/odoo/odoo && tar czf odoo-18.0.tar.gz odoo).
EOF
  exit 1
fi

say "2/$steps starting the lab hosts (systemd containers on the podman network $net)"
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

# --luks-vm: the VM boots now (daemonized QEMU, 30-90 s under TCG) while the
# containers converge; step 7 waits for it. A VM still running from an earlier
# run is reused (the luks role keeps volumes that open).
vm_running() { [ -s "$vmdir/qemu.pid" ] && kill -0 "$(cat "$vmdir/qemu.pid")" 2>/dev/null; }
if [ "$luks_vm" = 1 ]; then
  if vm_running; then
    vm_state="running already (port $(cat "$vmdir/port"))"
  else
    # fresh disks: forget the previous VM's facts and recovery passphrase
    rm -rf "$vmdir/facts" "$vmdir/recovery-passphrase"
    out=$(lab/vm.sh start "$vmdir" "${vm_disks[@]}" 2>&1) || { echo "$out" >&2; exit 1; }
    vm_state="booting (QEMU pid $(cat "$vmdir/qemu.pid"), SSH on 127.0.0.1:$(cat "$vmdir/port"))"
  fi
  printf '    %-24s Debian 12 QEMU VM (TCG), disks %s: %s\n' odoo-hipaa-lab-vm "${vm_disks[*]}" "$vm_state"
fi

say "3/$steps lab certificates and keys, then ansible-playbook -i inventories/lab playbooks/site.yml (Odoo from $(basename "$ODOO_HIPAA_ODOO_ARCHIVE"))"
ansible-playbook -i inventories/lab playbooks/lab_prepare.yml
ansible-playbook -i inventories/lab playbooks/site.yml

say "4/$steps what the site looks like now (checked from the outside)"
ex() { podman exec "$app" "$@"; }
pg() { ex runuser -u postgres -- psql -XAtc "$1"; }
pg_odoo() { ex runuser -u postgres -- psql -XAt -d odoo -c "$1"; }
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
printf '    %-44s %s\n' \
  "Odoo release" "$(ex sh -c 'cd /opt/odoo/server && python3 -B -c "import odoo.release as r; print(r.version)"' 2>/dev/null)" \
  "Odoo modules installed" "$(pg_odoo "SELECT count(*) FROM ir_module_module WHERE state = 'installed'")" \
  "Odoo parameters (HIPAA)" "$(pg_odoo "SELECT string_agg(key || '=' || value, ', ' ORDER BY key) FROM ir_config_parameter WHERE key IN ('auth_totp.policy', 'odoo_hipaa.session_idle_timeout', 'odoo_hipaa.session_absolute_lifetime', 'odoo_hipaa.mfa_trusted_device_days', 'base.login_cooldown_after')")" \
  "auditlog rules logging reads" "$(pg_odoo "SELECT string_agg(m.model, ', ' ORDER BY m.model) FROM auditlog_rule r JOIN ir_model m ON m.id = r.model_id WHERE r.state = 'subscribed' AND r.log_read")" \
  "Odoo logins (active)" "$(pg_odoo "SELECT string_agg(login || ' (' || active || ')', ', ' ORDER BY login) FROM res_users WHERE login IN ('admin', 'hipaa-admin')")" \
  "Odoo's database connections" "$(pg "SELECT count(*) || ' over the socket, ' || count(client_addr) || ' over TCP' FROM pg_stat_activity WHERE usename = 'odoo'")"

echo; echo "    nginx at https://$ip/ (the lab CA; behind it Odoo 18.0):"
python3 -W ignore - "$ip" "$root/.lab/pki/ca.crt" "$root/.lab/odoo-hipaa-admin-password" <<'PY'
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
# Odoo's login through nginx: the password alone gives no session (MFA).
import re, urllib.parse
def req(method, path, body=None, cookie=""):
    c = http.client.HTTPSConnection("odoo-hipaa-lab-app", 443, context=ctx, timeout=30)
    c.sock = ctx.wrap_socket(socket.create_connection((ip, 443), 30), server_hostname="odoo-hipaa-lab-app")
    headers = {"Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=headers); r = c.getresponse(); return r, r.read().decode(errors="replace")
r, page = req("GET", "/web/login")
print("    %-44s %s" % ("https://.../web/login (Odoo)", "%d, %s" % (r.status, "login form" if 'name="login"' in page else "no form")))
cookie = "; ".join(h.split(";", 1)[0] for h in r.headers.get_all("Set-Cookie") or [])
flags = sorted({a.strip().split("=")[0] for h in r.headers.get_all("Set-Cookie") or [] for a in h.split(";")[1:]})
print("    %-44s %s" % ("its Set-Cookie attributes", ", ".join(flags)))
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
admin_pw = open(sys.argv[3]).read().strip()
r, _ = req("POST", "/web/login", urllib.parse.urlencode({"login": "hipaa-admin", "password": "Lab-0%s!x" % admin_pw, "csrf_token": token, "db": "odoo"}), cookie)
print("    %-44s %s" % ("hipaa-admin, right password", "%d -> %s (second factor required)" % (r.status, r.getheader("Location"))))
PY
echo; echo "    Backup and restore drill (started now rather than by their timers):"
ex systemctl start odoo-hipaa-backup.service
ex systemctl start odoo-hipaa-restore-drill.service
ex systemctl start odoo-hipaa-backup-check.service
ex systemctl start odoo-hipaa-pitr-drill.service
# The off-site copy is append-only: its retention runs on the backup host.
podman exec odoo-hipaa-lab-backup systemctl start "odoo-hipaa-offsite-retention@$app.service"
podman exec -i "$app" python3 - <<'PY'
import json
b = json.load(open("/var/lib/odoo-hipaa-backup/last-backup.json"))
d = json.load(open("/var/lib/odoo-hipaa-backup/drill/last.json"))
print("    %-44s %s" % ("last backup run", "%s (%s, %d bytes dumped)" % (b["run"], b["result"], b["dump_bytes"])))
print("    %-44s %s" % ("restore drill", "%s: %d tables, %d rows restored = %d in the dump, RTO %.1f s"
      % (d["result"], d["tables_compared"], d["rows_restored"], d["rows_in_dump"], d["rto_seconds"])))
PY
podman exec -i "$app" python3 - <<'PY'
import json
p = json.load(open("/var/lib/odoo-hipaa-pitr/drill/last.json"))
print("    %-44s %s" % ("point-in-time drill (pgBackRest)", "%s: marker present after, absent before; RPO %s s, RTO %s s"
      % (p["result"], p["rpo_seconds"], p["rto_seconds"])))
PY
podman exec -i odoo-hipaa-lab-backup python3 - "$app" <<'PY'
import json, sys
r = json.load(open("/var/lib/odoo-hipaa-backup-server/retention/%s/last.json" % sys.argv[1]))
print("    %-44s %s" % ("off-site retention (on the backup host)", "%s: kept %s, removed %s snapshots" % (r["result"], r["kept"], r["removed"])))
PY
printf '    %-44s %s\n' "backup timers" "$(ex systemctl list-timers --no-legend 'odoo-hipaa-*' | awk '{print $(NF-1)}' | xargs)"

echo; echo "    Audit-log review (role privacy_review; started now rather than by its monthly timers):"
logs=odoo-hipaa-lab-logs
ex systemctl start odoo-hipaa-privacy-review-db.service
run=$(ex python3 -c 'import json; print(json.load(open("/var/lib/odoo-hipaa-privacy/db-last.json"))["run"])')
# the database half's closing line travels to the aggregator with the other logs (RELP/TLS)
for _ in $(seq 60); do
  podman exec "$logs" grep -qs -- "\"run\":\"$run\"" "/var/log/remote/$app/messages.log" && break
  sleep 2
done
review_rc=0
podman exec "$logs" systemctl start odoo-hipaa-privacy-review.service || review_rc=$?
podman exec -i "$logs" python3 - <<'PY'
import json
r = json.load(open("/var/lib/odoo-hipaa-privacy/last.json"))
print("    %-44s %s" % ("review of " + r["period"], "%s (database half: %s), %d findings: %s" % (
    r["result"], r["database_half"], r["total"], ", ".join("%s %d" % kv for kv in sorted(r["counts"].items())))))
print("    %-44s %s" % ("for the privacy officer", r["review"] + " (and .json)"))
PY
[ "$review_rc" -eq 0 ] || echo "    the review is incomplete (exit $review_rc): the database half's lines did not all arrive"

say "5/$steps the HIPAA evidence report, as a site runs it: the built collection, onprem.odoo_hipaa.verify (read-only)"
# As a site would: the collection built and installed from its tarball into an
# empty collections path, the playbook run by its name, the report written
# where the operator says (evidence_report_dir), not inside the collection.
verify_rc=0
site_collections=$(mktemp -d)
{ ansible-galaxy collection build --force --output-path "$site_collections" . &&
  ANSIBLE_COLLECTIONS_PATH="$site_collections" ansible-galaxy collection install --offline --no-deps \
    -p "$site_collections" "$site_collections"/onprem-odoo_hipaa-*.tar.gz &&
  ANSIBLE_COLLECTIONS_PATH="$site_collections" ansible-playbook -i inventories/lab onprem.odoo_hipaa.verify \
    -e evidence_report_dir="$root/reports/evidence"; } >"$root/reports/verify-demo.log" 2>&1 || verify_rc=$?
[ ! -e "$site_collections/ansible_collections/onprem/odoo_hipaa/reports" ] ||
  { echo "    the report was written inside the installed collection"; verify_rc=1; }
python3 - "$root/reports/evidence/latest.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
print("    %d passed, %d failed, %d waived on %s" % (s["passed"], s["failed"], s["waived"], ", ".join(s["hosts"])))
for r in d["controls"]:
    if r["status"] != "pass":
        print("    %-6s %-7s %-22s %s" % (r["status"].upper(), r["control"], r["check"], r["host"]))
for r in d["controls"]:
    if r["check"] == "odoo_access_matrix" and isinstance(r["observed"], dict) and "matrix" in r["observed"]:
        o = r["observed"]
        print("    access-control matrix (live, %s): %s; differences: %s" % (r["host"], ", ".join(
            "%s %s" % (role, "/".join(cells[m]["live"] or "-" for m in o["phi_models"])) for role, cells in o["matrix"].items()),
            "; ".join(o["differences"]) or "none"))
        print("      (letters r w c d on %s)" % ", ".join(o["phi_models"]))
PY
echo "    HTML report: $(readlink -f "$root/reports/evidence/latest.html")"
matrix_page=$(ls -t "$root"/reports/evidence/access-matrix-*.html 2>/dev/null | head -1)
[ -z "$matrix_page" ] || echo "    the written access-control matrix: $matrix_page"
[ "$verify_rc" -eq 0 ] || echo "    verify.yml exited $verify_rc: the FAIL rows above are findings (log: reports/verify-demo.log)"
demo_rc=$verify_rc

say "6/$steps the go-live gate on that evidence: onprem.odoo_hipaa.golive -e golive_evidence_file=reports/evidence/latest.json"
# The pre-go-live checklist, judged on the controller from the evidence just
# written and the lab's attestations and written waivers (inventories/lab/
# group_vars/all.yml), with the same installed collection; it reads no host.
# It must pass (green, or amber where the lab waives in writing), and must fail
# once the risk analysis is 400 days old.
golive() {
  ANSIBLE_COLLECTIONS_PATH="$site_collections" ansible-playbook -i inventories/lab onprem.odoo_hipaa.golive \
    -e golive_evidence_file="$root/reports/evidence/latest.json" "$@"
}
golive_rc=0
rm -f "$root/reports/golive/golive-latest.json" "$root/reports/golive/golive-latest.html"
golive -e evidence_report_dir="$root/reports/evidence" >"$root/reports/golive-demo.log" 2>&1 || golive_rc=$?
if [ -e "$root/reports/golive/golive-latest.json" ]; then
  python3 -c 'import json, sys; print("\n".join("    " + l for l in json.load(open(sys.argv[1]))["lines"]))' \
    "$root/reports/golive/golive-latest.json"
  echo "    HTML checklist: $(readlink -f "$root/reports/golive/golive-latest.html")"
fi
if [ "$golive_rc" -ne 0 ]; then
  echo "    golive.yml exited $golive_rc: the gate is red or did not run (log: reports/golive-demo.log)"
  [ "$demo_rc" -ne 0 ] || demo_rc=$golive_rc
fi
# The same evidence with the lab's risk analysis dated 400 days ago (at most 365):
# the gate must turn red on that item and exit non-zero.
stale=$(date -u -d '400 days ago' +%F)
stale_dir=$(mktemp -d)
stale_rc=0
golive -e lab_risk_analysis_date="$stale" -e golive_report_dir="$stale_dir" >"$root/reports/golive-demo-stale.log" 2>&1 || stale_rc=$?
if [ "$stale_rc" -ne 0 ] && python3 - "$stale_dir/golive-latest.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ra = next(i for i in d["items"] if i["key"] == "risk_analysis")
print("    %-5s %-17s %s" % (ra["state"].upper(), ra["key"], ra["reason"]))
sys.exit(0 if ra["state"] == "red" and not d["passed"] else 1)
PY
then
  echo "    a risk analysis dated $stale: golive.yml exited $stale_rc (red), as it must"
else
  echo "    a risk analysis dated $stale did not turn the gate red (exit $stale_rc; log: reports/golive-demo-stale.log)"
  demo_rc=1
fi
rm -rf "$stale_dir" "$site_collections"
if [ "$luks_vm" = 1 ]; then
  # Ansible against the VM: the luks scenario's settings (molecule/luks/molecule.yml)
  # that are not inventory variables (inventories/lab_vm/hosts.yml has the rest):
  # facts gathered once, minimal, and cached, so that the playbooks do not
  # gather them again under emulation (the luks role only reads the distribution).
  vm_ansible() {
    ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="$vmdir/facts" ANSIBLE_CACHE_PLUGIN_TIMEOUT=7200 \
      ANSIBLE_GATHERING=smart "$@"
  }
  vm() { lab/vm.sh ssh "$vmdir" "$@"; }

  say "7/$steps the LUKS VM: ansible-playbook -i inventories/lab_vm playbooks/luks.yml (two empty disks, keyfile unlock)"
  t0=$(date +%s)
  lab/vm.sh wait "$vmdir" 600
  echo "    odoo-hipaa-lab-vm answers SSH ($(vm uname -sr))"
  vm_ansible ansible -i inventories/lab_vm db -m ansible.builtin.setup -a 'gather_subset=!all,min' >/dev/null
  vm_ansible ansible-playbook -i inventories/lab_vm playbooks/luks.yml
  echo "    luks role on the VM: $(( $(date +%s) - t0 )) s (TCG emulation, ~11x slower than the host)"

  say "8/$steps the LUKS volumes, checked from the outside: luksDump, mounts, a reboot, the evidence row"
  # One SSH round trip per look: the volumes of the VM's /etc/crypttab, each
  # with its header facts (luksDump), its unlock unit and its mount.
  luks_look() {
    vm bash -s <<'SH'
set -u
grep -Ev '^[[:space:]]*(#|$)' /etc/crypttab | while read -r name dev key _; do
  dump=$(cryptsetup luksDump "$dev")
  version=$(awk '/^Version:/ {print $2}' <<<"$dump")
  cipher=$(awk '/^[[:space:]]+cipher:/ {print $2; exit}' <<<"$dump")
  bits=$(awk '/Cipher key:/ {print $3; exit}' <<<"$dump")
  pbkdf=$(awk '/PBKDF:/ {print $2}' <<<"$dump" | sort -u | xargs)
  memory=$(awk '/Memory:/ {print $2}' <<<"$dump" | sort -u | xargs)
  slots=$(sed -n '/^Keyslots:/,/^Tokens:/p' <<<"$dump" | grep -cE '^  [0-9]+: luks2')
  mnt=$(findmnt -n -o TARGET,FSTYPE,OPTIONS "/dev/mapper/$name" | awk '{print $1 " (" $2 ", " $3 ")"}')
  printf '    %-44s %s\n' "$name: $dev" "" \
    "  luksDump" "LUKS$version, $cipher, $bits-bit key, PBKDF $pbkdf (memory $memory KiB), $slots keyslots" \
    "  unlocked by" "systemd-cryptsetup@$name $(systemctl is-active "systemd-cryptsetup@$name"), key $key (crypttab)" \
    "  mounted" "${mnt:-NOT mounted}"
done
SH
  }
  luks_look
  echo "    (PBKDF cost lab-only: 32 MiB, 200 ms, for the emulated CPU; production keeps"
  echo "    cryptsetup's benchmarked defaults, up to 1 GiB and 2 s: inventories/lab_vm)"
  # data written now must be there after the reboot
  proof=$(vm 'head -c 1M /dev/urandom > /srv/postgresql/demo-proof && sync && sha256sum /srv/postgresql/demo-proof')
  boot_id=$(vm cat /proc/sys/kernel/random/boot_id)
  echo; echo "    Rebooting the VM (nobody will type a passphrase):"
  vm systemd-run --quiet --on-active=2 systemctl reboot
  t0=$(date +%s)
  while :; do
    sleep 5
    lab/vm.sh wait "$vmdir" 600
    new_id=$(vm cat /proc/sys/kernel/random/boot_id 2>/dev/null || true)
    [ -n "$new_id" ] && [ "$new_id" != "$boot_id" ] && break
    [ $(( $(date +%s) - t0 )) -lt 600 ] || { echo "    the VM did not come back within 600 s (console: $vmdir/console.log)" >&2; exit 1; }
  done
  printf '    %-44s %s\n' "back after" "$(( $(date +%s) - t0 )) s (boot id ${new_id:0:8}, was ${boot_id:0:8})" \
    "passphrase prompts waiting" "$(vm 'ls /run/systemd/ask-password/ask.* 2>/dev/null | wc -l')" \
    "data written before the reboot" "$([ "$(vm sha256sum /srv/postgresql/demo-proof)" = "$proof" ] && echo intact || echo CHANGED)"
  luks_look

  echo; echo "    The evidence check on the VM: ansible-playbook -i inventories/lab_vm playbooks/verify.yml"
  vm_verify_rc=0
  vm_ansible ansible-playbook -i inventories/lab_vm playbooks/verify.yml >"$root/reports/verify-demo-vm.log" 2>&1 || vm_verify_rc=$?
  python3 - "$root/reports/evidence-vm/latest.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
for r in d["controls"]:
    if r["check"] == "luks_volumes":
        obs = r["observed"] if isinstance(r["observed"], dict) else {"": r["observed"]}
        print("    %-6s %-7s %-22s %s" % (r["status"].upper(), r["control"], r["check"], r["host"]))
        for path, seen in sorted(obs.items()):
            print("      %-42s %s" % (path, seen))
print("    (%d passed, %d failed, %d waived: the VM has only the luks role; the rest is proven on the containers)"
      % (s["passed"], s["failed"], s["waived"]))
for r in d["controls"]:
    if r["status"] == "fail" and r["check"] != "luks_volumes":
        print("    %-6s %-7s %-22s %s" % ("FAIL", r["control"], r["check"], r["host"]))
PY
  echo "    HTML report: $(readlink -f "$root/reports/evidence-vm/latest.html")"
  [ "$vm_verify_rc" -eq 0 ] || echo "    verify.yml on the VM exited $vm_verify_rc (log: reports/verify-demo-vm.log)"
fi

echo
echo "    Odoo here is a real Odoo 18.0 ($(basename "$ODOO_HIPAA_ODOO_ARCHIVE")). The LUKS"
if [ "$luks_vm" = 1 ]; then
  echo "    volumes cannot exist in these containers: they are proven on the VM above."
  echo
  echo "    Look around:  podman exec -it $app bash   lab/vm.sh ssh .lab/vm"
  echo "    Remove:       scripts/demo.sh --destroy (the containers and the VM)"
else
  echo "    volumes are proven in a VM by the Molecule scenario luks, not in these containers"
  echo "    (or here: scripts/demo.sh --luks-vm)."
  echo
  echo "    Look around:  podman exec -it $app bash      Remove:  scripts/demo.sh --destroy"
fi
# The demo's promise is a site whose evidence passes: a failed control fails the demo too.
exit "${demo_rc:-0}"
