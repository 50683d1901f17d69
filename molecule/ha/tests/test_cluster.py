"""The rack's database tier from outside (#18): three Debian 13 nodes, each
an etcd member and a Patroni member, and a client that connects as Odoo does.

- one primary and a synchronous standby, replication over TLS with the
  replication role's client certificate, checksums on every member;
- the client reaches the primary by libpq's multi-host list; a replica is
  not writable; pg_hba refuses a wrong certificate and a plaintext login;
- etcd: no plaintext, no handshake without a client certificate, no TLS 1.1,
  RBAC on (a certificate alone reads nothing; Patroni's user only its prefix);
- Patroni's REST API: no handshake without a certificate; a state change
  without the password is refused (401 from a member, 403 from elsewhere);
- a SIGKILL of the primary's postmaster under a writer, and separately the
  primary cut off the network: writes resume with no operator, no
  acknowledged write is lost, the old primary rejoins as a streaming replica
  (durations to reports/ci/ha-failover.json);
- the evidence report's rows of the cluster pass on every member;
- a planned switchover (playbooks/ha_switchover.yml) under a writer loses no
  acknowledged write, and a candidate that is not a member is refused;
- etcd loses one member: writes go on; loses two: no node stays writable (no
  split brain), and all recovers when they return;
- refused input before any change: synchronous mode off without a waiver, an
  even etcd membership.

Timings are recorded, never asserted, except hang detectors."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from lab_evidence import evidence_rows

DB = ["ha-db1-d13", "ha-db2-d13", "ha-db3-d13"]
CLIENT = "ha-client-d13"
SCOPE = "ha-lab"
NETWORK = "odoo-hipaa-ha"   # molecule.yml
PSQL = "runuser -u postgres -- psql -XAtqc "
CTL = "patronictl -c /etc/patroni/17-main.yml "
PKI = "/root/pgclient"
ODOO_DSN = ("host=ha-db1-d13,ha-db2-d13,ha-db3-d13 dbname=odoo user=odoo sslmode=verify-full"
            f" sslrootcert={PKI}/ca.crt target_session_attrs=read-write connect_timeout=3")
REPORT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")) / "reports" / "ci" / "ha-failover.json"


def members(lab_host, avoid: str = "") -> list[dict]:
    """patronictl list, as JSON, asked on the first member that answers
    (never on `avoid`, a member cut off from etcd, where it would hang)."""
    for name in [n for n in DB if n != avoid]:
        out = lab_host(name).run(CTL + f"list {SCOPE} -f json")
        if out.rc == 0:
            return json.loads(out.stdout)
    raise AssertionError("no member answers patronictl list")


def leader(lab_host, avoid: str = "") -> str | None:
    found = [m["Member"] for m in members(lab_host, avoid) if m["Role"] == "Leader"]
    return found[0] if len(found) == 1 else None


def wait_for(what, check, timeout: float = 180, step: float = 2):
    """Poll check() until it returns something true; the timeout detects a hang."""
    end = time.time() + timeout
    while time.time() < end:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s: {what}")


def healthy(lab_host) -> bool:
    """One leader, every other member streaming, a synchronous standby."""
    ms = members(lab_host)
    roles = sorted(m["Role"] for m in ms)
    return (len(ms) == 3 and roles.count("Leader") == 1 and "Sync Standby" in roles
            and all(m["State"] in ("running", "streaming") for m in ms))


def writable(lab_host) -> list[str]:
    return [n for n in DB if lab_host(n).run(PSQL + "'SELECT NOT pg_is_in_recovery()'").stdout.strip() == "t"]


def client_psql(lab_host, sql: str, cert: str = "odoo-client", dsn: str = ODOO_DSN, password: str = "lab-only-Odoo-db-passw0rd"):
    c = lab_host(CLIENT)
    return c.run(f"PGPASSWORD={password} psql -XAtq '{dsn} sslcert={PKI}/{cert}.crt sslkey={PKI}/{cert}.key' -c \"{sql}\"")


def record(key: str, value) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data[key] = value
    REPORT.write_text(json.dumps(data, indent=1))


@pytest.fixture(scope="module")
def cluster(lab_host):
    wait_for("a healthy cluster", lambda: healthy(lab_host))
    return lab_host


# --- the cluster as converged --------------------------------------------------

def test_one_primary_and_a_synchronous_standby(cluster):
    ms = members(cluster)
    assert sorted(m["Role"] for m in ms) == ["Leader", "Replica", "Sync Standby"], ms
    assert writable(cluster) == [leader(cluster)]
    dcs = cluster(DB[0]).check_output(CTL + "show-config")
    assert "synchronous_mode: true" in dcs and "synchronous_mode_strict: false" in dcs, dcs


def test_replication_runs_over_tls_with_the_replication_certificate(cluster):
    primary = cluster(leader(cluster))
    rows = primary.check_output(PSQL + "\"SELECT r.application_name, r.sync_state, s.ssl, s.version, s.client_dn"
                                       " FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) ORDER BY 1\"")
    lines = [line.split("|") for line in rows.splitlines()]
    assert len(lines) == 2, rows
    assert all(ssl == "t" and dn.endswith("CN=replicator") and version in ("TLSv1.2", "TLSv1.3")
               for _app, _sync, ssl, version, dn in lines), rows
    assert "sync" in [sync for _app, sync, *_ in lines], rows
    for name in DB:
        if name != leader(cluster):
            conninfo = cluster(name).check_output(PSQL + "'SELECT conninfo FROM pg_stat_wal_receiver'")
            assert "sslmode=verify-full" in conninfo and "sslcert=" in conninfo, conninfo


def test_every_member_has_checksums_pgaudit_and_scram(cluster):
    for name in DB:
        h = cluster(name)
        assert h.check_output(PSQL + "'SHOW data_checksums'") == "on"
        assert "pgaudit" in h.check_output(PSQL + "'SHOW shared_preload_libraries'")
        assert h.check_output(PSQL + "'SHOW password_encryption'") == "scram-sha-256"
        assert h.check_output(PSQL + "'SHOW ssl_min_protocol_version'") == "TLSv1.2"
        hba = [line.split() for line in h.file("/etc/postgresql/17/main/pg_hba.conf").content_string.splitlines()
               if line.strip() and not line.lstrip().startswith("#")]
        assert all((rule[0] in ("local", "hostssl") or rule[-1] == "reject") and "trust" not in rule for rule in hba), hba
        assert ["hostssl", "replication", "replicator"] in [rule[:3] for rule in hba], hba
        # the server reads role postgresql's files, which Patroni never writes
        assert h.check_output(PSQL + "'SHOW hba_file'") == "/etc/postgresql/17/main/pg_hba.conf"
        assert h.check_output(PSQL + "'SHOW ident_file'") == "/etc/postgresql/17/main/pg_ident.conf"
        assert not h.file("/etc/postgresql/17/main/postgresql.conf").exists


def test_the_client_reaches_the_primary_as_odoo_does(cluster):
    out = client_psql(cluster, "SELECT inet_server_addr(), NOT pg_is_in_recovery(), current_user")
    assert out.rc == 0, out.stderr
    assert out.stdout.strip().endswith("|t|odoo"), out.stdout
    # a replica is not writable, whatever the client asks
    replica = next(n for n in DB if n != leader(cluster))
    direct = client_psql(cluster, "CREATE TABLE nope (i int)",
                         dsn=f"host={replica} dbname=odoo user=odoo sslmode=verify-full sslrootcert={PKI}/ca.crt")
    assert direct.rc != 0 and "read-only" in direct.stderr, direct.stderr


def test_pg_hba_refuses_a_stranger_certificate_and_plaintext(cluster):
    # a certificate of the site CA whose CN is not the role, with Odoo's right
    # password: refused (PostgreSQL names the method, scram, not the CN check)
    stranger = client_psql(cluster, "SELECT 1", cert="intruder-client")
    assert stranger.rc != 0 and "authentication failed for user \"odoo\"" in stranger.stderr, stranger.stderr
    plain = cluster(CLIENT).run(f"PGPASSWORD=lab-only-Odoo-db-passw0rd psql -XAtq 'host={DB[0]} dbname=odoo user=odoo"
                                " sslmode=disable' -c 'SELECT 1'")
    assert plain.rc != 0 and "no encryption" in plain.stderr, plain.stderr
    as_replicator = client_psql(cluster, "SELECT 1", dsn=f"host={DB[0]} dbname=replication replication=true"
                                f" user=replicator sslmode=verify-full sslrootcert={PKI}/ca.crt")
    assert as_replicator.rc != 0, as_replicator.stdout


# --- etcd ---------------------------------------------------------------------

def _addr(cluster, name: str) -> str:
    return cluster(name).check_output("hostname -I").split()[0]


def test_etcd_speaks_tls_only_and_wants_a_client_certificate(cluster):
    c = cluster(CLIENT)
    ip = _addr(cluster, DB[0])
    assert c.run(f"curl -sS --max-time 5 http://{ip}:2379/health").rc != 0
    assert c.run(f"curl -sS --max-time 5 --cacert {PKI}/ca.crt https://{ip}:2379/health").rc != 0
    ok = c.run(f"curl -sS --max-time 5 --cacert {PKI}/ca.crt --cert {PKI}/odoo-client.crt --key {PKI}/odoo-client.key"
               f" https://{ip}:2379/health")
    assert ok.rc == 0, ok.stderr
    old = c.run(f"openssl s_client -connect {ip}:2379 -tls1_1 -cert {PKI}/odoo-client.crt -key {PKI}/odoo-client.key"
                " </dev/null")
    assert old.rc != 0
    peer = c.run(f"curl -sS --max-time 5 --cacert {PKI}/ca.crt https://{ip}:2380/members")
    assert peer.rc != 0


def test_etcd_rbac_keeps_patroni_to_its_prefix(cluster):
    h = cluster(DB[0])
    ip = _addr(cluster, DB[0])
    tls = (f"ETCDCTL_API=3 etcdctl --endpoints=https://{ip}:2379 --cacert=/etc/etcd/tls/ca.crt"
           " --cert=/etc/etcd/tls/etcd.crt --key=/etc/etcd/tls/etcd.key ")
    anonymous = h.run(tls + f"get /service/{SCOPE}/leader")
    assert anonymous.rc != 0, anonymous.stdout
    user = "--user patroni-ha-lab:lab-only-etcd-patroni-passw0rd "
    assert h.run(tls + user + f"get /service/{SCOPE}/leader --print-value-only").stdout.strip() == leader(cluster)
    other = h.run(tls + user + "put /service/other-cluster/leader me")
    assert other.rc != 0 and "permission denied" in other.stderr, other.stderr


# --- Patroni's REST API --------------------------------------------------------

def test_the_rest_api_wants_a_certificate_and_a_password_for_changes(cluster):
    c = cluster(CLIENT)
    ip = _addr(cluster, DB[0])
    assert c.run(f"curl -sS --max-time 5 --cacert {PKI}/ca.crt https://{ip}:8008/patroni").rc != 0
    cert = f"--cacert {PKI}/ca.crt --cert {PKI}/odoo-client.crt --key {PKI}/odoo-client.key"
    assert c.check_output(f"curl -sS -o /dev/null -w '%{{http_code}}' {cert} https://{ip}:8008/patroni") == "200"
    # not a member, not an admin network: 403 even with the password
    elsewhere = c.check_output(f"curl -sS -o /dev/null -w '%{{http_code}}' {cert} -u patroni:lab-only-patroni-api-passw0rd"
                               f" -X POST https://{ip}:8008/reload")
    assert elsewhere == "403"
    # from a member, with its certificate: no password or a wrong one is 401
    member = cluster(DB[1])
    assert _member_post(member, f"https://{ip}:8008/reload") == "401"
    assert _member_post(member, f"https://{ip}:8008/reload", "patroni:wrong-password") == "401"


def _member_post(member, url: str, credentials: str = "") -> str:
    """HTTP status of a POST made on a member with its node certificate
    (the members have Python, not curl)."""
    script = ("import base64, ssl, sys, urllib.request, urllib.error\n"
              "ctx = ssl.create_default_context(cafile='/etc/patroni/tls/ca.crt')\n"
              "ctx.load_cert_chain('/etc/patroni/tls/node.crt', '/etc/patroni/tls/node.key')\n"
              "req = urllib.request.Request(sys.argv[1], data=b'', method='POST')\n"
              "if sys.argv[2]:\n"
              "    req.add_header('Authorization', 'Basic ' + base64.b64encode(sys.argv[2].encode()).decode())\n"
              "try:\n"
              "    print(urllib.request.urlopen(req, context=ctx, timeout=10).status)\n"
              "except urllib.error.HTTPError as exc:\n"
              "    print(exc.code)\n")
    member.run(f"cat > /root/post.py <<'EOF'\n{script}EOF")
    return member.check_output(f"python3 /root/post.py {url} '{credentials}'")


def test_a_changed_configuration_is_checked_on_a_running_member(cluster):
    """The check before every change of Patroni's configuration works while
    Patroni runs (its ports are taken) and still refuses a broken file."""
    h = cluster(DB[0])
    live = h.run("/usr/local/sbin/odoo-hipaa-patroni-checkconf /etc/patroni/17-main.yml")
    assert live.rc == 0, live.stderr
    h.run("sed -E 's/^(    ttl:) [0-9]+$/\\1 soon/' /etc/patroni/17-main.yml > /root/broken.yml")
    broken = h.run("/usr/local/sbin/odoo-hipaa-patroni-checkconf /root/broken.yml")
    h.run("rm -f /root/broken.yml")
    assert broken.rc != 0 and "ttl" in broken.stdout + broken.stderr, broken.stdout + broken.stderr


# --- the evidence report's rows -------------------------------------------------

HA_ROWS = {"patroni": ["cluster_sync_standby", "pg_replication_tls", "patroni_api_auth", "pg_hba", "pg_tls"],
           "etcd": ["etcd_tls"]}


def evidence(name: str, checks: list[str], settings: dict | None = None) -> dict:
    """The evidence module's rows on one member, run as verify.yml runs it."""
    settings = dict({"patroni_members": DB, "patroni_synchronous_mode": True, "patroni_replication_user": "replicator"},
                    **(settings or {}))
    return evidence_rows(name, checks, settings)


def test_the_evidence_rows_of_the_cluster_pass_on_every_member(cluster):
    """Primary and replicas alike (pg_replication_tls reads the other side on a replica)."""
    for name in DB:
        rows = evidence(name, HA_ROWS["patroni"] + HA_ROWS["etcd"])
        failed = {check: row["observed"] for check, row in rows.items() if row["status"] != "pass"}
        assert not failed, f"{name}: {failed}"
    assert "refused" in rows["patroni_api_auth"]["observed"]["probe"]
    assert "refused" in rows["etcd_tls"]["observed"]["probe"]


# --- refused input -------------------------------------------------------------

REFUSED = {
    "synchronous replication off without a reason": ({"patroni_synchronous_mode": False}, "synchronous_mode is off without patroni_async_waiver_reason"),
    "a ttl shorter than the loop and two retries": ({"patroni_ttl": 20, "patroni_loop_wait": 11}, "patroni_ttl 20 < loop_wait 11 + 2 x retry_timeout 5"),
    "an even etcd membership": ({"patroni_etcd_hosts": ["10.89.0.250:2379", "10.89.0.251:2379"]}, "has 2 member(s), an even number"),
    "the scope of another cluster in capitals": ({"patroni_scope": "HA_Lab"}, "patroni_scope 'HA_Lab' must match"),
    "Odoo's role as the replication role": ({"patroni_replication_user": "odoo"}, "must be two roles of their own"),
    "a setting Patroni owns in postgresql_settings": ({"postgresql_settings": {"max_connections": 500}}, "postgresql_settings may not set max_connections"),
}
WATCHED = ["sha256sum /etc/patroni/17-main.yml /etc/postgresql/17/main/pg_hba.conf /etc/postgresql/17/main/conf.d/50-odoo-hipaa.conf",
           "systemctl show -p ActiveEnterTimestamp patroni@17-main.service"]


@pytest.fixture(scope="module")
def refused(refused_batch, cluster):
    return refused_batch("patroni", REFUSED, [DB[0]], [], WATCHED)


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_input_is_refused_before_any_change(refused, case):
    refused.check(case)


# --- failures (last: each leaves a healthy cluster) ----------------------------

def _writer(cluster, run: str, seconds: int):
    c = cluster(CLIENT)
    script = (Path(__file__).parent / "writer.py").read_text()
    c.run(f"cat > /root/writer.py <<'EOF'\n{script}\nEOF")
    c.run(f"rm -f /root/{run}.json; nohup python3 /root/writer.py {run} {seconds} > /root/{run}.json 2>/root/{run}.err &")


def _writer_result(cluster, run: str, seconds: int) -> dict:
    c = cluster(CLIENT)
    out = wait_for(f"writer {run} done", lambda: c.file(f"/root/{run}.json").exists and
                   c.file(f"/root/{run}.json").content_string.strip(), timeout=seconds + 120)
    return json.loads(out)


def _lost(cluster, run: str, acked: list[int]) -> list[int]:
    out = client_psql(cluster, f"SELECT seq FROM ha_probe WHERE run = '{run}'")
    assert out.rc == 0, out.stderr
    present = {int(x) for x in out.stdout.split()}
    return sorted(set(acked) - present)


def test_sigkill_of_the_primary_loses_no_acknowledged_write(cluster):
    old = leader(cluster)
    run, seconds = f"sigkill{int(time.time())}", 75
    _writer(cluster, run, seconds)
    time.sleep(10)
    h = cluster(old)
    pid = h.check_output("head -1 /var/lib/postgresql/17/main/postmaster.pid")
    killed_at = time.time()
    h.run(f"kill -9 {pid}")
    new = wait_for("a new leader", lambda: (lambda ld: ld if ld and ld != old else None)(leader(cluster)), timeout=120)
    promoted_s = round(time.time() - killed_at, 1)
    result = _writer_result(cluster, run, seconds)
    lost = _lost(cluster, run, result["acked"])
    wait_for("the old primary streaming again", lambda: healthy(cluster), timeout=180)
    rejoined = {m["Member"]: m for m in members(cluster)}[old]
    record("sigkill", {"old_leader": old, "new_leader": new, "promoted_after_s": promoted_s,
                       "write_gap_s": result["max_gap_s"], "acknowledged": len(result["acked"]),
                       "acknowledged_writes_lost": len(lost), "errors": result["error_count"],
                       "old_leader_rejoined_as": rejoined["Role"], "timeline": rejoined.get("TL")})
    assert lost == [], f"acknowledged writes lost: {lost}"
    assert len(result["acked"]) > 0 and result["acked"][-1] > result["acked"][0]
    assert rejoined["State"] == "streaming" and rejoined["Role"] in ("Replica", "Sync Standby")


def run_playbook(playbook: str, *extra: str, timeout: int = 400) -> subprocess.CompletedProcess:
    """One of the collection's playbooks against the lab, as an operator runs it."""
    root = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."))
    return subprocess.run(["ansible-playbook", "-i", str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
                           str(root / "playbooks" / playbook), *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1"))


def switchover(*extra: str) -> subprocess.CompletedProcess:
    """playbooks/ha_switchover.yml."""
    return run_playbook("ha_switchover.yml", *extra)


def test_a_planned_switchover_loses_no_acknowledged_write(cluster):
    ms = members(cluster)
    old = leader(cluster)
    sync = next(m["Member"] for m in ms if m["Role"] == "Sync Standby")
    # refused before any change: a candidate that is not a member
    wrong = switchover("-e", f"patroni_switchover_candidate={CLIENT}")
    assert wrong.returncode != 0 and "No switchover, nothing was changed" in wrong.stdout, wrong.stdout[-2000:]
    assert leader(cluster) == old
    run, seconds = f"switchover{int(time.time())}", 45
    _writer(cluster, run, seconds)
    time.sleep(8)
    done = switchover()
    assert done.returncode == 0, done.stdout[-3000:]
    assert leader(cluster) == sync
    result = _writer_result(cluster, run, seconds)
    lost = _lost(cluster, run, result["acked"])
    record("switchover", {"old_leader": old, "new_leader": sync, "write_gap_s": result["max_gap_s"],
                          "acknowledged": len(result["acked"]), "acknowledged_writes_lost": len(lost),
                          "errors": result["error_count"]})
    assert lost == [], f"acknowledged writes lost: {lost}"
    wait_for("the old primary streaming again", lambda: healthy(cluster), timeout=120)


def podman(*args: str) -> None:
    subprocess.run(["podman", *args], check=True, timeout=60)


def test_a_primary_cut_off_the_network_loses_no_acknowledged_write(cluster):
    """The primary's container leaves the lab network (every packet to and
    from it lost): the others elect a leader, the old primary cannot renew
    its key and demotes itself, and once it is back it rejoins as a replica."""
    old = leader(cluster)
    ip = _addr(cluster, old)
    run, seconds = f"netcut{int(time.time())}", 90
    _writer(cluster, run, seconds)
    time.sleep(10)
    cut_at = time.time()
    podman("network", "disconnect", NETWORK, old)
    try:
        new = wait_for("a new leader", lambda: (lambda ld: ld if ld and ld != old else None)(leader(cluster, old)),
                       timeout=120)
        promoted_s = round(time.time() - cut_at, 1)
        # alone, the old primary demotes itself (or stops): never two writable nodes
        wait_for("the cut-off primary read-only", lambda: cluster(old).run(
            PSQL + "'SELECT NOT pg_is_in_recovery()'").stdout.strip() != "t", timeout=90)
        demoted_s = round(time.time() - cut_at, 1)
    finally:
        podman("network", "connect", "--ip", ip, NETWORK, old)
    result = _writer_result(cluster, run, seconds)
    lost = _lost(cluster, run, result["acked"])
    wait_for("the old primary streaming again", lambda: healthy(cluster), timeout=240)
    rejoined = {m["Member"]: m for m in members(cluster)}[old]
    record("network_cut", {"old_leader": old, "new_leader": new, "promoted_after_s": promoted_s,
                           "old_leader_read_only_after_s": demoted_s, "write_gap_s": result["max_gap_s"],
                           "acknowledged": len(result["acked"]), "acknowledged_writes_lost": len(lost),
                           "errors": result["error_count"], "old_leader_rejoined_as": rejoined["Role"]})
    assert lost == [], f"acknowledged writes lost: {lost}"
    assert len(result["acked"]) > 0 and result["acked"][-1] > result["acked"][0]
    assert rejoined["State"] == "streaming" and rejoined["Role"] in ("Replica", "Sync Standby")
    assert len(wait_for("one writable node", lambda: writable(cluster) or None, timeout=60)) == 1


def test_etcd_losing_one_member_changes_nothing_and_losing_two_leaves_no_writable_node(cluster):
    old = leader(cluster)
    others = [n for n in DB if n != old]
    try:
        cluster(others[0]).run("systemctl stop etcd")
        time.sleep(5)
        one = client_psql(cluster, "SELECT NOT pg_is_in_recovery()")
        assert one.rc == 0 and one.stdout.strip() == "t", one.stderr
        cluster(others[1]).run("systemctl stop etcd")
        # the primary cannot renew its key without a majority: it demotes within ttl
        wait_for("no writable node", lambda: writable(cluster) == [], timeout=90)
        for _ in range(5):   # and stays so: never a second primary
            assert writable(cluster) == []
            time.sleep(2)
    finally:
        for name in others:
            cluster(name).run("systemctl start etcd")
    wait_for("a healthy cluster again", lambda: healthy(cluster), timeout=180)
    # the leader may still be finishing its promotion when patronictl names it
    assert len(wait_for("one writable node", lambda: writable(cluster) or None, timeout=60)) == 1
