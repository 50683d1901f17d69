"""The filters every role validates paths and networks with: each bad value
gets the one rule it breaks, a good value gets ''."""

import pytest

from ansible_collections.onprem.odoo_hipaa.plugins.filter.network_problem import network_problem
from ansible_collections.onprem.odoo_hipaa.plugins.filter.path_problem import path_problem
from ansible_collections.onprem.odoo_hipaa.plugins.filter.secret_problem import secret_problem


@pytest.mark.parametrize("path, below, problem", [
    ("/var/log/nginx/odoo-access.json.log", ["/var/log"], ""),
    ("/srv/odoo-data", [], ""),
    ("/var/log/nginx/odoo access.log", ["/var/log"], "contains whitespace or a control character"),
    ("/var/log/nginx/odoo\taccess.log", [], "contains whitespace or a control character"),
    ("/var/log/x\nInclude /etc/passwd", [], "contains whitespace or a control character"),
    ("var/log/odoo.log", [], "is not an absolute path"),
    ("", [], "is empty or not a string"),
    (None, [], "is empty or not a string"),
    (["/srv"], [], "is empty or not a string"),
    ("/srv/odoo;rm", [], "contains ';'"),
    ("/srv/$HOME/x", [], "contains '$'"),
    ("/srv/odoo/", [], "ends with a slash"),
    ("/srv//odoo", [], "has an empty, '.' or '..' component"),
    ("/var/log/../../etc/shadow", ["/var/log"], "has an empty, '.' or '..' component"),
    ("/etc", [], "is a system directory"),
    ("/", [], "is a system directory"),
    ("/var/lib", [], "is a system directory"),
    ("/tmp/odoo.log", ["/var/log"], "is not below /var/log"),
    ("/var/logs/x", ["/var/log"], "is not below /var/log"),
    ("/var/log/nginx", ["/var/log/nginx"], ""),
])
def test_path_problem(path, below, problem):
    got = path_problem(path, below)
    assert got == problem if problem == "" else got.startswith(problem)


@pytest.mark.parametrize("net, problem", [
    ("10.20.0.0/24", ""),
    ("192.168.10.0/24", ""),
    ("172.16.0.0/16", ""),
    ("fd00:20::/64", ""),
    ("10.20.0.15/32", ""),
    ("0.0.0.0/0", "is broader than /16 (IPv4)"),
    ("::/0", "is broader than /48 (IPv6)"),
    ("10.0.0.0/8", "is broader than /16 (IPv4)"),
    ("203.0.113.0/24", "is not a private network"),
    ("2001:db8::/64", "is not a private network"),
    ("10.20.0.5/24", "has host bits set (the network is 10.20.0.0/24)"),
    ("all", "is not a network in CIDR form"),
    ("10.20.0.0", "is not a network in CIDR form"),
    ("10.20.0.0/33", "is not a valid IPv4 or IPv6 network"),
    ("300.1.1.0/24", "is not a valid IPv4 or IPv6 network"),
    (24, "is not a network in CIDR form"),
])
def test_network_problem(net, problem):
    got = network_problem(net, 16, 48)
    assert got == problem if problem == "" else got.startswith(problem)


def test_network_problem_public_allowed_when_asked():
    assert network_problem("203.0.113.0/24", 16, 48, False) == ""


@pytest.mark.parametrize("secret, problem", [
    ("a-long-and-real-restic-password-8c1f", ""),
    ("", "is missing or empty"),
    (None, "is missing or empty"),
    ("too-short", "has 9 characters; at least 20 are required"),
    ("CHANGEME-CHANGEME-CHANGEME", "looks like a placeholder"),
    ("<put the restic password here>", "looks like a placeholder"),
    ("xxxxxxxxxxxxxxxxxxxxxxxxxx", "looks like a placeholder"),
    ("abababababababababababab", "repeats one or two characters"),
])
def test_secret_problem(secret, problem):
    got = secret_problem(secret, 20)
    assert got == problem if problem == "" else got.startswith(problem)
    if secret:
        assert secret not in got
