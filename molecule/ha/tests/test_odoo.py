"""A real Odoo 18 on the rack's database cluster (#18), from outside.

ha-app1-d12 runs Odoo 18.0 (the shared source archive, Debian 12, libpq 15)
behind its nginx; its db_host lists the three members and libpq's service
(target_session_attrs=read-write) finds the primary.

- Odoo's sessions are on the primary only (a replica never holds one);
- a user who logged in with password and TOTP creates partners through nginx
  by JSON-RPC, one at a time, while the primary's postmaster is SIGKILLed:
  writes resume with no operator and every partner Odoo acknowledged is in
  the database afterwards (0 lost). The gap goes to reports/ci/ha-failover.json.

Timings are recorded, never asserted, except hang detectors."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "odoo" / "tests"))
from odoo_client import OdooClient, error_name, totp  # noqa: E402  (molecule/odoo/tests)
from odoo_shell import odoo_shell as shared_odoo_shell  # noqa: E402  (molecule/odoo/tests)
from test_cluster import DB, PSQL, healthy, leader, record, wait_for  # noqa: E402

APP = "ha-app1-d12"
LOGIN = "ha-writer"
PASSWORD = "Ha-Lab-Writer-Passw0rd!"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Odoo's own processes name the cluster's libpq service (odoo.service); a shell must too.
CLUSTER_ENV = {"PGSERVICEFILE": "/etc/odoo/pg_service.conf", "PGSERVICE": "odoo_hipaa"}

# The writer: a Front Desk user (creates patients) with an authenticator.
SETUP = r'''
import json
spec = json.loads(__SPEC__)
Users = env["res.users"].sudo().with_context(active_test=False, no_reset_password=True)
groups_field = "group_ids" if "group_ids" in Users._fields else "groups_id"
user = Users.search([("login", "=", spec["login"])], limit=1)
if not user:
    user = Users.create({"login": spec["login"], "name": "HA lab writer", "email": spec["login"] + "@lab.invalid",
                         "password": spec["password"],
                         groups_field: [(6, 0, [env.ref("odoo_hipaa_roles.role_front_desk").id])]})
env.cr.execute("UPDATE res_users SET totp_secret = %s WHERE id = %s", [spec["totp"], user.id])
if "auth.totp.rate.limit.log" in env:
    env["auth.totp.rate.limit.log"].sudo().search([("user_id", "=", user.id)]).unlink()
env.cr.commit()
print("ODOO_HIPAA_TEST " + json.dumps({"uid": user.id}))
'''


def odoo_shell(host, script: str) -> dict:
    return shared_odoo_shell(host, script, CLUSTER_ENV)


@pytest.fixture(scope="module")
def odoo(lab_host):
    wait_for("a healthy cluster", lambda: healthy(lab_host))
    app = lab_host(APP)
    odoo_shell(app, SETUP.replace("__SPEC__", repr(json.dumps({"login": LOGIN, "password": PASSWORD,
                                                                "totp": TOTP_SECRET}))))
    address = app.check_output("hostname -I").split()[0]
    ca = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", "ca.crt")
    return lab_host, lambda: OdooClient(address, APP, ca, timeout=30)


def logged_in(new_client) -> OdooClient:
    """Password, then the TOTP step (a code refused at a 30-s boundary: the next one)."""
    client = new_client()
    first = client.login("odoo", LOGIN, PASSWORD)
    assert first.mfa_required, f"password step: {first.status} {first.location}"
    for _ in range(2):
        if client.submit_totp(totp(TOTP_SECRET)).logged_in:
            return client
        time.sleep(30 - time.time() % 30 + 1)
    pytest.fail("the TOTP step was refused twice")


def test_odoo_holds_connections_on_the_primary_only(odoo):
    cluster, new_client = odoo
    logged_in(new_client)   # Odoo has just served requests
    app_ip = cluster(APP).check_output("hostname -I").split()[0]
    primary = leader(cluster)
    for name in DB:
        count = int(cluster(name).check_output(
            PSQL + f"\"SELECT count(*) FROM pg_stat_activity WHERE usename = 'odoo' AND client_addr = '{app_ip}'\""))
        if name == primary:
            assert count > 0, f"Odoo holds no connection on the primary {name}"
        else:
            assert count == 0, f"Odoo holds {count} connection(s) on the replica {name}"
    conf = cluster(APP).file("/etc/odoo/odoo.conf").content_string
    assert "db_host = ha-db1-d13,ha-db2-d13,ha-db3-d13" in conf
    assert "target_session_attrs=read-write" in cluster(APP).file("/etc/odoo/pg_service.conf").content_string


class Writer(threading.Thread):
    """Creates partners one at a time for `seconds`; records every id Odoo
    acknowledged, with its time, and every failed call."""

    def __init__(self, client: OdooClient, run: str, seconds: float):
        super().__init__(daemon=True)
        self.client, self.run_name, self.seconds = client, run, seconds
        self.acked: list[tuple[int, float]] = []
        self.errors: list[tuple[float, str]] = []

    def run(self) -> None:
        start, seq = time.time(), 0
        while time.time() - start < self.seconds:
            seq += 1
            try:
                answer = self.client.call_kw("res.partner", "create", [{"name": f"{self.run_name}-{seq}"}])
            except OSError as exc:
                answer = {"error": {"data": {"name": type(exc).__name__}}}
            if "result" in answer:
                self.acked.append((answer["result"], time.time()))
            else:
                self.errors.append((round(time.time() - start, 2), error_name(answer) or "?"))
                time.sleep(0.5)
            time.sleep(0.05)


def test_odoo_writes_through_nginx_survive_a_sigkill_of_the_primary(odoo):
    cluster, new_client = odoo
    client = logged_in(new_client)
    run = f"ha-odoo-{int(time.time())}"
    writer = Writer(client, run, 75)
    writer.start()
    time.sleep(12)
    old = leader(cluster)
    killed_at = time.time()
    pid = cluster(old).check_output("head -1 /var/lib/postgresql/17/main/postmaster.pid")
    cluster(old).run(f"kill -9 {pid}")
    writer.join(timeout=200)
    assert not writer.is_alive(), "the writer hangs"
    times = [t for _, t in writer.acked]
    gaps = [b - a for a, b in zip(times, times[1:])]
    ids = [i for i, _ in writer.acked]
    wait_for("the old primary streaming again", lambda: healthy(cluster), timeout=240)
    primary = leader(cluster)
    present = {int(x) for x in cluster(primary).check_output(
        "runuser -u postgres -- psql -XAtq -d odoo -c " + f"\"SELECT id FROM res_partner WHERE name LIKE '{run}-%'\"").split()}
    lost = sorted(set(ids) - present)
    record("odoo_sigkill", {"old_leader": old, "new_leader": primary, "write_gap_s": round(max(gaps), 2) if gaps else None,
                            "acknowledged": len(ids), "acknowledged_writes_lost": len(lost),
                            "failed_calls": len(writer.errors), "first_errors": writer.errors[:5]})
    assert lost == [], f"partners Odoo acknowledged are missing: {lost}"
    assert any(t > killed_at + 1 for t in times), f"no write acknowledged after the kill: {writer.errors[:10]}"
