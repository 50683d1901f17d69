"""The example rack inventory (inventories/example_rack) holds together: what
one group's variables name about another group agrees with the hosts file, the
cluster passes the roles' own topology check, and every vault name a vars
file uses is in the group's vault template. A site copies this directory, so a
mismatch here becomes a refused run (or worse, a silent one) at a hospital."""

import ipaddress
import re
from pathlib import Path

import yaml

from ansible_collections.onprem.odoo_hipaa.plugins.module_utils.ha_topology import problems

RACK = Path(__file__).resolve().parents[2] / "inventories" / "example_rack"


def load(path: str) -> dict:
    return yaml.safe_load((RACK / path).read_text()) or {}


HOSTS = load("hosts.yml")["all"]["children"]
ALL = load("group_vars/all/vars.yml")
DB = load("group_vars/patroni/vars.yml")
APP = load("group_vars/odoo_app/vars.yml")
BACKUP = load("group_vars/backup_server/vars.yml")


def hosts(group: str) -> dict:
    return HOSTS[group]["hosts"]


def addresses(group: str) -> list[str]:
    return [h["ansible_host"] + "/32" for h in hosts(group).values()]


def test_the_node_lists_match_the_hosts_file():
    assert ALL["rack_db_nodes"] == list(hosts("patroni"))
    assert APP["nginx_odoo_nodes"] == list(hosts("odoo_app"))
    assert HOSTS["etcd"]["children"] == {"patroni": None}, "every database node is an etcd member"


def test_two_odoo_nodes_share_their_state_through_the_cluster():
    assert APP["odoo_session_store"] == "db" and APP["odoo_attachment_storage"] == "db"
    assert APP["odoo_session_database"] == DB["postgresql_odoo_session_database"] == "{{ rack_session_database }}"
    assert APP["odoo_db_hosts"] == "{{ rack_db_nodes }}"


def test_the_database_admits_every_odoo_node_and_the_firewall_agrees():
    clients = sorted(c["address"] for c in DB["postgresql_tcp_clients"])
    assert clients == sorted(addresses("odoo_app"))
    assert all("rack_session_database" in c["database"] for c in DB["postgresql_tcp_clients"])
    ports = {p["name"]: set(p["sources"]) for p in DB["baseline_open_ports"]}
    members = set(addresses("patroni"))
    assert ports["postgresql"] == members | set(addresses("odoo_app"))
    assert ports["etcd_peer"] == members
    assert members <= ports["etcd_client"] and members <= ports["patroni_api"]
    app_ports = {p["name"]: set(p["sources"]) for p in APP["baseline_open_ports"]}
    assert app_ports["odoo_backend"] == set(addresses("odoo_app"))


def test_the_cluster_passes_the_topology_check():
    members = list(hosts("patroni"))
    for host in members:
        found = problems({"scope": DB["patroni_scope"], "host": host, "members": members,
                          "releases": ["13"] * len(members), "addresses": [f"10.20.0.{21 + i}" for i in range(len(members))],
                          "scopes": [], "synchronous_mode": True, "async_waiver_reason": "",
                          "ttl": 30, "loop_wait": 10, "retry_timeout": 10,
                          "etcd_hosts": [f"10.20.0.{21 + i}:2379" for i in range(len(members))], "etcd_waiver_reason": ""})
        assert found == [], found
    user = DB["etcd_rbac_users"][0]
    assert user["name"] == "patroni-" + DB["patroni_scope"] and user["prefix"] == f"/service/{DB['patroni_scope']}/"
    assert DB["etcd_cluster_name"] == DB["patroni_scope"]


def test_every_vault_name_used_has_a_template_line():
    for group in ("patroni", "odoo_app", "backup_server"):
        used = set(re.findall(r"vault_[a-z0-9_]+", (RACK / "group_vars" / group / "vars.yml").read_text()))
        template = set(load(f"group_vars/{group}/vault.yml.example"))
        assert used <= template, f"{group}: {sorted(used - template)} missing from vault.yml.example"


def test_the_cluster_is_one_client_of_the_backup_host():
    """Whichever member is the primary backs up into the cluster's one
    off-site repository: one client of the backup host, named by the scope."""
    offsite = next(r for r in DB["backup_repositories"] if r["type"] == "rest")
    [client] = BACKUP["backup_server_clients"]
    assert client["name"] == DB["patroni_scope"]
    assert offsite["user"] == "restic-" + client["name"] and offsite["port"] == client["rest_port"]
    assert offsite["host"] in hosts("backup_server")
    rest = next(p for p in BACKUP["baseline_open_ports"] if p["name"] == "restic_rest")
    assert set(rest["sources"]) == set(addresses("patroni"))


def test_the_cluster_s_point_in_time_recovery_lives_on_the_backup_host():
    """The members archive into one stanza on the backup host (a member's own
    repository would leave with it); the firewalls admit pgBackRest's TLS
    both ways, and no further."""
    assert DB["pgbackrest_repository_host"] in hosts("backup_server")
    pull = next(p for p in DB["baseline_open_ports"] if p["name"] == "pgbackrest_tls")
    assert pull["sources"] == [hosts("backup_server")[DB["pgbackrest_repository_host"]]["ansible_host"] + "/32"]
    push = next(p for p in BACKUP["baseline_open_ports"] if p["name"] == "pgbackrest_tls")
    assert set(push["sources"]) == set(addresses("patroni"))
    assert BACKUP["pgbackrest_cipher_pass"].startswith("{{ vault_")


def test_the_entries_share_one_address_that_no_host_has():
    vip = ipaddress.ip_address(APP["entry_vip_address"])
    every = [ipaddress.ip_interface(a).ip for group in ("odoo_app", "patroni", "log_aggregator", "backup_server")
             for a in addresses(group)]
    assert vip not in every
    subnet = ipaddress.ip_network(f"{vip}/{APP['entry_vip_prefix']}", strict=False)
    assert all(ipaddress.ip_interface(a).ip in subnet for a in addresses("odoo_app")), "the entries share the subnet"
    assert 1 <= APP["entry_vip_router_id"] <= 255
    assert APP["entry_vip_source_address"] == "{{ ansible_host }}"
    assert "baseline_vrrp_peers" in APP, "without it the firewall drops VRRP and both entries take the address"
