"""Unit tests for the HA database tier's evidence (plugins/module_utils/evidence_ha.py):
each row passes on a healthy member and fails on the drift it exists to catch."""

import json
import ssl

import pytest

from test_hipaa_evidence import make_ctx, one

CONFIG = """scope: ha-lab
restapi:
  listen: "10.0.0.1:8008"
  connect_address: "10.0.0.1:8008"
  certfile: /etc/patroni/tls/node.crt
  keyfile: /etc/patroni/tls/node.key
  cafile: /etc/patroni/tls/ca.crt
  verify_client: required
  authentication:
    username: patroni
    password: "a-long-password-from-the-vault"
ctl:
  certfile: /etc/patroni/tls/node.crt
"""
FIND = {"find /etc/patroni": "/etc/patroni/17-main.yml\n"}
MEMBERS = ["db1", "db2", "db3"]


def members(*rows):
    return json.dumps([{"Cluster": "ha-lab", "Member": m, "Role": r, "State": s, "Lag in MB": 0} for m, r, s in rows])


HEALTHY = members(("db1", "Leader", "running"), ("db2", "Sync Standby", "streaming"), ("db3", "Replica", "streaming"))


def cluster_ctx(listing, settings=None):
    return make_ctx(outputs=dict(FIND, **{"patronictl -c /etc/patroni/17-main.yml list -f json": listing}),
                    files={"/etc/patroni/17-main.yml": CONFIG},
                    settings=dict({"patroni_members": MEMBERS}, **(settings or {})))


def test_a_healthy_cluster_passes():
    row = one(cluster_ctx(HEALTHY), "cluster_sync_standby")
    assert row["status"] == "pass", row
    assert row["control"] == "CP-2"


@pytest.mark.parametrize("listing, problem", [
    (members(("db1", "Leader", "running"), ("db2", "Replica", "streaming"), ("db3", "Replica", "streaming")),
     "no synchronous standby"),
    (members(("db1", "Leader", "running"), ("db2", "Leader", "running"), ("db3", "Sync Standby", "streaming")),
     "2 leaders"),
    (members(("db1", "Replica", "streaming"), ("db2", "Sync Standby", "streaming"), ("db3", "Replica", "stopped")),
     "0 leaders"),
    (members(("db1", "Leader", "running"), ("db2", "Sync Standby", "streaming"), ("db3", "Replica", "stopped")),
     "db3 stopped"),
    (members(("db1", "Leader", "running"), ("db2", "Sync Standby", "streaming")), "the inventory declares"),
])
def test_a_cluster_that_could_lose_a_commit_or_split_fails(listing, problem):
    row = one(cluster_ctx(listing), "cluster_sync_standby")
    assert row["status"] == "fail" and problem in json.dumps(row["observed"]), row


def test_no_synchronous_standby_is_fine_only_when_the_site_turned_sync_off():
    listing = members(("db1", "Leader", "running"), ("db2", "Replica", "streaming"), ("db3", "Replica", "streaming"))
    assert one(cluster_ctx(listing, {"patroni_synchronous_mode": False}), "cluster_sync_standby")["status"] == "pass"


def test_no_patroni_configuration_is_no_proof():
    row = one(make_ctx(outputs={"find /etc/patroni": ""}), "cluster_sync_standby")
    assert row["status"] == "fail" and "no proof" in row["observed"]


PSQL = "runuser -u postgres -- psql -XAtq -F \t -d postgres -c "


def repl_ctx(in_recovery, rows):
    return make_ctx(outputs={PSQL + "SELECT pg_is_in_recovery()": in_recovery,
                             PSQL + "SELECT r.application_name": rows,
                             PSQL + "SELECT status, conninfo": rows},
                    settings={"patroni_members": MEMBERS})


def test_the_primary_streams_to_every_standby_over_tls_with_the_replication_certificate():
    rows = "db2\tt\tTLSv1.3\t/CN=replicator\ndb3\tt\tTLSv1.2\t/CN=replicator\n"
    assert one(repl_ctx("f\n", rows), "pg_replication_tls")["status"] == "pass"


@pytest.mark.parametrize("rows, problem", [
    ("db2\tf\t\t\ndb3\tt\tTLSv1.3\t/CN=replicator\n", "db2: ssl f"),
    ("db2\tt\tTLSv1.3\t/CN=odoo\ndb3\tt\tTLSv1.3\t/CN=replicator\n", "client /CN=odoo"),
    ("db2\tt\tTLSv1.3\t/CN=replicator\n", "1 standby connection(s), 2 expected"),
])
def test_a_plaintext_foreign_or_missing_standby_fails(rows, problem):
    row = one(repl_ctx("f\n", rows), "pg_replication_tls")
    assert row["status"] == "fail" and problem in json.dumps(row["observed"]), row


def test_a_replica_streams_with_verify_full_and_a_certificate():
    good = "streaming\tuser=replicator host=10.0.0.1 sslmode=verify-full sslcert=/etc/patroni/tls/replication.crt\n"
    assert one(repl_ctx("t\n", good), "pg_replication_tls")["status"] == "pass"
    weak = "streaming\tuser=replicator host=10.0.0.1 sslmode=prefer\n"
    assert one(repl_ctx("t\n", weak), "pg_replication_tls")["status"] == "fail"
    assert one(repl_ctx("t\n", ""), "pg_replication_tls")["status"] == "fail"


ETCD = """# managed
ETCD_LISTEN_CLIENT_URLS=https://10.0.0.1:2379
ETCD_LISTEN_PEER_URLS=https://10.0.0.1:2380
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_CLIENT_CERT_AUTH=true
ETCD_AUTO_TLS=false
ETCD_PEER_AUTO_TLS=false
ETCD_ENABLE_V2=false
"""


def etcd_ctx(text=ETCD, handshake=(False, "SSLError: certificate required")):
    seen = []

    def tls(host, port, name, version, ciphers=None):
        seen.append((host, port, version))
        return handshake
    ctx = make_ctx(files={"/etc/default/etcd": text}, tls=tls)
    return ctx, seen


def test_etcd_with_tls_and_client_certificates_passes_and_is_probed_live():
    ctx, seen = etcd_ctx()
    assert one(ctx, "etcd_tls")["status"] == "pass"
    assert seen == [("10.0.0.1", 2379, ssl.TLSVersion.TLSv1_2)]


@pytest.mark.parametrize("text, handshake, problem", [
    (ETCD.replace("https://10.0.0.1:2380", "http://10.0.0.1:2380"), None, "is not https"),
    (ETCD.replace("ETCD_CLIENT_CERT_AUTH=true", "ETCD_CLIENT_CERT_AUTH=false"), None, "ETCD_CLIENT_CERT_AUTH=false"),
    (ETCD.replace("ETCD_ENABLE_V2=false", "ETCD_ENABLE_V2=true"), None, "ETCD_ENABLE_V2=true"),
    (ETCD, (True, "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256"), "without a client certificate"),
    (ETCD, (False, "ConnectionRefusedError: [Errno 111]"), "not reachable"),
])
def test_etcd_drift_fails(text, handshake, problem):
    ctx, _seen = etcd_ctx(text, handshake or (False, "SSLError: certificate required"))
    row = one(ctx, "etcd_tls")
    assert row["status"] == "fail" and problem in json.dumps(row["observed"]), row


def api_ctx(config=CONFIG, answer=None):
    def http(scheme, host, port, name, path):
        if answer is None:
            raise ssl.SSLError("tlsv13 alert certificate required")
        if isinstance(answer, Exception):
            raise answer
        return answer, []
    return make_ctx(outputs=FIND, files={"/etc/patroni/17-main.yml": config}, http=http)


def test_the_rest_api_refusing_a_request_without_a_certificate_passes():
    row = one(api_ctx(), "patroni_api_auth")
    assert row["status"] == "pass" and row["control"] == "IA-1", row


@pytest.mark.parametrize("config, answer, problem", [
    (CONFIG, 200, "answered without a client certificate"),
    (CONFIG.replace("verify_client: required", "verify_client: optional"), None, "verify_client is optional"),
    (CONFIG.replace('    password: "a-long-password-from-the-vault"\n', ""), None, "no authentication"),
    (CONFIG, ConnectionRefusedError(111, "refused"), "not reachable"),
])
def test_an_open_or_unauthenticated_rest_api_fails(config, answer, problem):
    row = one(api_ctx(config, answer), "patroni_api_auth")
    assert row["status"] == "fail" and problem in json.dumps(row["observed"]), row


# --- odoo_shared_state -------------------------------------------------------------

ODOO_PSQL = "runuser -u postgres -- psql -XAtq -F \t -d odoo -c "
SESSIONS_PSQL = "runuser -u postgres -- psql -XAtq -F \t -d odoo_sessions -c "


def shared_ctx(location="db\n", on_disk="0\n", table="t\n", nodes=("app1", "app2"), sessions_db="odoo_sessions"):
    return make_ctx(outputs={ODOO_PSQL + "SELECT value FROM ir_config_parameter": location,
                             ODOO_PSQL + "SELECT count(*) FROM ir_attachment": on_disk,
                             SESSIONS_PSQL + "SELECT to_regclass": table},
                    settings={"odoo_nodes": list(nodes), "odoo_database": "odoo",
                              "odoo_session_database": sessions_db})


def test_two_nodes_sharing_attachments_and_sessions_through_the_cluster_pass():
    row = one(shared_ctx(), "odoo_shared_state")
    assert row["status"] == "pass", row
    assert row["control"] == "CP-2"


def test_one_odoo_node_may_keep_its_files_on_its_disk():
    assert one(shared_ctx(location="", on_disk="12\n", nodes=("app1",)), "odoo_shared_state")["status"] == "pass"


@pytest.mark.parametrize("kwargs, problem", [
    ({"location": ""}, "ir_attachment.location is file (unset)"),
    ({"location": "file\n"}, "ir_attachment.location is file"),
    ({"on_disk": "3\n"}, "3 binary attachment(s) point into a node's filestore"),
    ({"table": "f\n"}, "no http_sessions table in odoo_sessions"),
    ({"sessions_db": ""}, "no session database declared"),
])
def test_node_local_attachments_or_sessions_with_two_nodes_fail(kwargs, problem):
    row = one(shared_ctx(**kwargs), "odoo_shared_state")
    assert row["status"] == "fail" and problem in json.dumps(row["observed"]), row
