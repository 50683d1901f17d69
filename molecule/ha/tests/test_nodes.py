"""Two Odoo nodes on the rack's cluster (#18, design note §4.4), from outside.

ha-app1-d12 and ha-app2-d12 run the same real Odoo 18 on one database, each
behind its own nginx. Everything they share goes through PostgreSQL:

- sessions (OCA session_db, database odoo_sessions): a login whose password
  step ran on one node finishes its TOTP step on the other, and the session
  then works on both; no node writes a session file;
- attachments (ir_attachment.location = db): a file uploaded through one node
  downloads through the other, and no binary attachment is left in a filestore;
- the entry: every node's nginx balances over both nodes' backend listeners,
  which admit the entries' client certificates only (CN and address);
- one node lost: its Odoo stopped behind the entry the user talks to (its
  backend listener stops with it, so the entry's connections are refused and
  every request moves on), or the whole node gone; no request fails, and the
  session goes on;
- refused input, before any change: node-local sessions or attachments on a
  database two nodes share, the session database named as Odoo's own.

A client here talks to one entry (or moves between them, for the session
tests); the shared address in front of the entries is tests/test_vip.py."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "odoo" / "tests"))
from odoo_client import OdooClient, totp  # noqa: E402  (molecule/odoo/tests)
from lab_evidence import evidence_rows
from test_cluster import DB, PSQL, healthy, leader, record, wait_for  # noqa: E402
from test_odoo import LOGIN, PASSWORD, SETUP, TOTP_SECRET, odoo_shell  # noqa: E402

APPS = ["ha-app1-d12", "ha-app2-d12"]


class Nodes:
    def __init__(self, lab_host):
        self.lab_host = lab_host
        self.address = {name: lab_host(name).check_output("hostname -I").split()[0] for name in APPS}
        self.ca = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", "ca.crt")

    def client(self, name: str) -> OdooClient:
        return OdooClient(self.address[name], name, self.ca, timeout=30)

    def move(self, client: OdooClient, name: str) -> OdooClient:
        """The same browser (its cookies), now talking to node `name`."""
        client.address, client.server_name = self.address[name], name
        return client

    def sql(self, database: str, query: str) -> str:
        primary = leader(self.lab_host)
        return self.lab_host(primary).check_output(PSQL.replace("psql ", f"psql -d {database} ") + json.dumps(query))


@pytest.fixture(scope="module")
def nodes(lab_host):
    wait_for("a healthy cluster", lambda: healthy(lab_host))
    odoo_shell(lab_host(APPS[0]), SETUP.replace("__SPEC__", repr(json.dumps(
        {"login": LOGIN, "password": PASSWORD, "totp": TOTP_SECRET}))))
    return Nodes(lab_host)


def totp_step(client: OdooClient) -> None:
    for _ in range(2):
        if client.submit_totp(totp(TOTP_SECRET)).logged_in:
            return
        time.sleep(30 - time.time() % 30 + 1)
    pytest.fail("the TOTP step was refused twice")


def logged_in_on(nodes: Nodes, password_node: str, totp_node: str) -> OdooClient:
    client = nodes.client(password_node)
    first = client.login("odoo", LOGIN, PASSWORD)
    assert first.mfa_required, f"password step on {password_node}: {first.status} {first.location}"
    totp_step(nodes.move(client, totp_node))
    return client


def test_a_login_moves_between_nodes(nodes):
    client = logged_in_on(nodes, APPS[0], APPS[1])
    uids = {name: nodes.move(client, name).uid() for name in APPS}
    assert all(uids.values()) and len(set(uids.values())) == 1, f"uid per node: {uids}"
    sid = client.cookies["session_id"]
    assert nodes.sql("odoo_sessions", f"SELECT count(*) FROM http_sessions WHERE sid = '{sid}'") == "1"
    for name in APPS:   # sessions live in PostgreSQL only
        files = nodes.lab_host(name).run("find /var/lib/odoo/sessions -type f 2>/dev/null | wc -l").stdout.strip()
        assert files == "0", f"{name} wrote {files} session file(s)"
        env = nodes.lab_host(name).check_output("systemctl show -p Environment --value odoo.service")
        assert "SESSION_DB_URI=odoo_sessions" in env, env


def test_an_attachment_uploaded_on_one_node_downloads_on_the_other(nodes):
    client = logged_in_on(nodes, APPS[1], APPS[1])
    content = f"scan {time.time()}\n".encode()
    partner = client.call_kw("res.partner", "create", [{"name": f"ha-attachment-{int(time.time())}"}])
    assert "result" in partner, partner
    created = client.call_kw("ir.attachment", "create", [{
        "name": "referral.txt", "res_model": "res.partner", "res_id": partner["result"],
        "datas": base64.b64encode(content).decode(), "mimetype": "text/plain"}])
    assert "result" in created, created
    attachment = created["result"]
    download = nodes.move(client, APPS[0]).get(f"/web/content/{attachment}?download=true")
    assert download.status == 200 and download.body.encode() == content, (download.status, download.body[:200])
    stored = nodes.sql("odoo", f"SELECT store_fname IS NULL AND db_datas IS NOT NULL FROM ir_attachment WHERE id = {attachment}")
    assert stored == "t", "the attachment is not in the database"
    # force_storage moved what -i and the first requests wrote to a filestore
    on_disk = nodes.sql("odoo", "SELECT count(*) FROM ir_attachment WHERE type = 'binary' AND store_fname IS NOT NULL")
    assert on_disk == "0", f"{on_disk} binary attachment(s) still point into a node's filestore"


def test_odoo_s_database_rows_pass_on_every_member(nodes):
    """Odoo's database-level evidence, read from each member's own copy (the
    standbys are synchronous), and the shared state of the two nodes."""
    defaults = yaml.safe_load((Path(__file__).resolve().parents[3] / "roles" / "odoo" / "defaults" / "main.yml").read_text())
    settings = {"odoo_nodes": APPS, "odoo_session_database": "odoo_sessions",
                "odoo_phi_models": defaults["odoo_auditlog_models"]}
    checks = ["odoo_shared_state", "odoo_admin_disabled", "odoo_session_limits", "odoo_mfa",
              "odoo_login_cooldown", "odoo_auditlog"]
    for name in DB:
        rows = evidence_rows(name, checks, settings)
        failed = {check: row["observed"] for check, row in rows.items() if row["status"] != "pass"}
        assert not failed, f"{name}: {failed}"


# --- the entry: every node's nginx balances over every node's backend listener ---

BACKEND = "odoo-backend.ha-lab"   # nginx_backend_tls_name (molecule.yml)
ENTRY_CERT = ("/etc/nginx/tls/odoo-hipaa-backend.crt", "/etc/nginx/tls/odoo-hipaa-backend.key")
# GET /web/health on a backend listener from a lab host, with or without a
# client certificate: the HTTP status, or the TLS error that refused it.
PROBE = r"""
import http.client, socket, ssl, sys
address, cert, key, ca = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
if cert:
    ctx.load_cert_chain(cert, key)
class Conn(http.client.HTTPSConnection):
    def connect(self):
        self.sock = ctx.wrap_socket(socket.create_connection((address, 8443), 5), server_hostname=self.host)
try:
    conn = Conn("%s", 8443, context=ctx, timeout=5)
    conn.request("GET", "/web/health")
    print(conn.getresponse().status)
except Exception as exc:
    print(type(exc).__name__)
""" % BACKEND


def backend_status(nodes, from_name: str, to_name: str, cert: tuple[str, str] = ("", "")) -> str:
    host = nodes.lab_host(from_name)
    ca = "/etc/nginx/tls/odoo-hipaa-backend-ca.crt" if from_name in APPS else "/root/pgclient/ca.crt"
    script = base64.b64encode(PROBE.encode()).decode()
    return host.check_output(f"echo {script} | base64 -d | python3 - {nodes.address[to_name]} '{cert[0]}' '{cert[1]}' {ca}")


def test_every_entry_balances_over_every_node(nodes):
    for entry in APPS:
        client = nodes.client(entry)
        for _ in range(6):
            assert client.get("/web/health").status == 200
        lines = nodes.lab_host(entry).check_output("tail -n 40 /var/log/nginx/odoo-access.json.log").splitlines()
        upstreams = {json.loads(line).get("upstream") for line in lines if '"path":"/web/health"' in line}
        wanted = {f"{nodes.address[name]}:8443" for name in APPS}
        assert wanted <= upstreams, f"{entry} sent /web/health to {upstreams}, not to every node {wanted}"


def test_a_backend_listener_admits_the_entries_only(nodes):
    assert backend_status(nodes, APPS[1], APPS[0], ENTRY_CERT) == "200"
    # no client certificate: nginx answers 400 (or the handshake fails)
    assert backend_status(nodes, APPS[1], APPS[0]) in ("400", "SSLError", "ConnectionResetError")
    # a certificate of the site CA whose CN is no entry, from an entry's address
    pki = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki")
    app2 = nodes.lab_host(APPS[1])
    for name in ("intruder-client.crt", "intruder-client.key"):
        blob = base64.b64encode(Path(pki, name).read_bytes()).decode()
        app2.check_output(f"umask 077; echo {blob} | base64 -d > /root/{name}")
    try:
        assert backend_status(nodes, APPS[1], APPS[0], ("/root/intruder-client.crt", "/root/intruder-client.key")) == "403"
    finally:
        app2.run("rm -f /root/intruder-client.crt /root/intruder-client.key")
    # the right kind of certificate from an address that is no entry
    assert backend_status(nodes, "ha-client-d13", APPS[0],
                          ("/root/pgclient/intruder-client.crt", "/root/pgclient/intruder-client.key")) == "403"


def create_partners(client: OdooClient, count: int, pause: float = 0.2) -> list[bool]:
    results = []
    for i in range(count):
        made = client.call_kw("res.partner", "create", [{"name": f"ha-entry-{int(time.time())}-{i}"}])
        results.append("result" in made)
        time.sleep(pause)
    return results


def odoo_back(nodes, name: str) -> None:
    nodes.lab_host(name).check_output("systemctl start nginx.service odoo.service")
    wait_for(f"{name}'s Odoo serving again", lambda: nodes.lab_host(name).run(
        "python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8069/web/health', timeout=3)\"").rc == 0)


def test_the_entry_routes_around_its_own_dead_odoo(nodes):
    """Odoo stops on the node whose entry the user talks to: its backend
    listener stops with it, so the entry's connections to it are refused and
    every request, POSTs included, goes to the other node; the session goes on."""
    client = logged_in_on(nodes, APPS[0], APPS[0])
    uid = client.uid()
    nodes.lab_host(APPS[0]).check_output("systemctl stop odoo.service")
    try:
        # the backend listener went down with Odoo (BindsTo): the port is closed
        listening = nodes.lab_host(APPS[0]).check_output("ss -Hltn 'sport = :8443' | wc -l")
        results = create_partners(client, 30)
        after = client.uid()
    finally:
        odoo_back(nodes, APPS[0])
    assert listening == "0", "the backend listener still listens with Odoo stopped"
    record("odoo_node_lost_behind_its_entry", {"calls": len(results), "failed": results.count(False)})
    assert after == uid, "the session did not survive its node's Odoo"
    assert results.count(False) == 0, f"{results.count(False)} of {len(results)} calls failed"


def test_a_node_lost_whole_costs_no_request(nodes):
    """nginx and Odoo stop on the other node (its machine is gone): its
    backend refuses connections, so every request, POSTs included, moves on."""
    client = logged_in_on(nodes, APPS[0], APPS[0])
    uid = client.uid()
    nodes.lab_host(APPS[1]).check_output("systemctl stop nginx.service odoo.service")
    try:
        results = create_partners(client, 30)
        after = client.uid()
    finally:
        odoo_back(nodes, APPS[1])
    record("odoo_node_lost_whole", {"calls": len(results), "failed": results.count(False)})
    assert after == uid
    assert results.count(False) == 0, f"{results.count(False)} of {len(results)} calls failed"


# --- refused input -------------------------------------------------------------

REFUSED = {
    "sessions on each node's disk with two nodes on one database": (
        {"odoo_session_store": "file"}, "must both be db, so every node sees the same sessions and attachments"),
    "attachments on each node's disk with two nodes on one database": (
        {"odoo_attachment_storage": "file"}, "must both be db, so every node sees the same sessions and attachments"),
    "Odoo's own database as the session database": (
        {"odoo_session_database": "odoo"}, "it must be a database of its own"),
}
WATCHED = ["sha256sum /etc/odoo/odoo.conf /etc/systemd/system/odoo.service",
           "systemctl show -p ActiveEnterTimestamp odoo.service"]


@pytest.fixture(scope="module")
def refused(refused_batch, nodes):
    return refused_batch("odoo", REFUSED, [APPS[1]], [], WATCHED)


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_input_is_refused_before_any_change(refused, case):
    refused.check(case)


def lab_pki(name: str) -> str:
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", name)


NGINX_REFUSED = {
    "one Odoo node behind the entry": (
        {"nginx_odoo_nodes": [APPS[1]]}, "list two or more Odoo nodes of the inventory"),
    "a node the inventory lacks": (
        {"nginx_odoo_nodes": APPS + ["ha-app9-d12"]}, 'not in the inventory: ["ha-app9-d12"]'),
    "another node's backend certificate": (
        {"nginx_backend_tls_cert_file": lab_pki(f"{APPS[0]}-backend.crt"),
         "nginx_backend_tls_key_file": lab_pki(f"{APPS[0]}-backend.key")}, f"have the CN {APPS[1]}"),
    "the public certificate, without the backend name": (
        {"nginx_backend_tls_cert_file": lab_pki(f"{APPS[1]}.crt"),
         "nginx_backend_tls_key_file": lab_pki(f"{APPS[1]}.key")}, "carry the SAN\nDNS:odoo-backend.ha-lab"),
    "every node drained": (
        {"nginx_odoo_nodes_drained": APPS}, "at least one of them must stay in rotation"),
    "a drained node that is not behind the entry": (
        {"nginx_odoo_nodes_drained": ["ha-app9-d12"]}, "it may name only nodes of nginx_odoo_nodes"),
}
NGINX_WATCHED = ["sha256sum /etc/nginx/odoo-hipaa-backend.conf /etc/nginx/conf.d/odoo-hipaa.conf",
                 "systemctl show -p ActiveEnterTimestamp odoo-hipaa-nginx-backend.service nginx.service"]


@pytest.fixture(scope="module")
def nginx_refused(refused_batch, nodes):
    return refused_batch("nginx", NGINX_REFUSED, [APPS[1]], [], NGINX_WATCHED)


@pytest.mark.parametrize("case", list(NGINX_REFUSED))
def test_bad_entry_input_is_refused_before_any_change(nginx_refused, case):
    nginx_refused.check(case)

