"""The Debian 12 path of roles etcd and patroni (#18): one member under the
written waiver, in a cluster of its own (ha-solo), beside the three-member
Debian 13 cluster. Debian 12 ships etcd 3.4 (no --tls-min-version: the TLS
floor comes from the cipher-suite list), Patroni 3.0.2 (no
--ignore-listen-port) and PostgreSQL 15.

- one leader, running; TLS 1.1 refused by etcd, TLS 1.2 with a client
  certificate accepted;
- the configuration check works on the running member and refuses a broken file;
- the evidence rows pass (synchronous mode off under its waiver)."""

from __future__ import annotations

import json

from test_cluster import evidence, wait_for

SOLO = "ha-solo-d12"
CTL = "patronictl -c /etc/patroni/15-main.yml "


def solo_members(lab_host) -> list[dict]:
    out = lab_host(SOLO).run(CTL + "list ha-solo -f json")
    return json.loads(out.stdout) if out.rc == 0 else []


def test_the_debian_12_member_leads_its_own_cluster(lab_host):
    ms = wait_for("the solo member running", lambda: [m for m in solo_members(lab_host)
                                                       if m["Role"] == "Leader" and m["State"] == "running"])
    assert [m["Member"] for m in ms] == [SOLO]
    versions = lab_host(SOLO).check_output("dpkg-query -W -f '${Package}=${Version} ' patroni etcd-server postgresql-15")
    assert "patroni=3.0.2" in versions and "etcd-server=3.4." in versions, versions


def test_etcd_3_4_refuses_tls_1_1_and_wants_a_client_certificate(lab_host):
    h = lab_host(SOLO)
    ip = h.check_output("hostname -I").split()[0]
    tls = "-cert /etc/etcd/tls/etcd.crt -key /etc/etcd/tls/etcd.key -CAfile /etc/etcd/tls/ca.crt"
    assert h.run(f"openssl s_client -connect {ip}:2379 -tls1_1 {tls} </dev/null").rc != 0
    assert h.run(f"openssl s_client -connect {ip}:2379 -tls1_2 {tls} </dev/null").rc == 0


def test_the_configuration_check_works_on_patroni_3_0(lab_host):
    h = lab_host(SOLO)
    live = h.run("/usr/local/sbin/odoo-hipaa-patroni-checkconf /etc/patroni/15-main.yml")
    assert live.rc == 0, live.stdout + live.stderr
    h.run("sed -E 's/^(    ttl:) [0-9]+$/\\1 soon/' /etc/patroni/15-main.yml > /root/broken.yml")
    broken = h.run("/usr/local/sbin/odoo-hipaa-patroni-checkconf /root/broken.yml")
    h.run("rm -f /root/broken.yml")
    assert broken.rc != 0 and "ttl" in broken.stdout + broken.stderr, broken.stdout + broken.stderr


def test_the_evidence_rows_pass_on_the_debian_12_member(lab_host):
    rows = evidence(SOLO, ["cluster_sync_standby", "patroni_api_auth", "etcd_tls", "pg_tls", "pg_hba"],
                    {"patroni_members": [SOLO], "patroni_synchronous_mode": False})
    failed = {check: row["observed"] for check, row in rows.items() if row["status"] != "pass"}
    assert not failed, failed
