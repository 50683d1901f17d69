"""Fixtures of the nginx scenario (helpers in nginx_lab.py)."""

import pytest
from nginx_lab import PEER, Client


@pytest.fixture(scope="module")
def client(host, lab_host):
    """The other nginx host, as a client of the host under test."""
    server = host.backend.get_hostname()
    return Client(lab_host(PEER[server]), server)
