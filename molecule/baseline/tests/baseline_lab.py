"""Helpers of the baseline scenario, imported by the tests and conftest.py.
baseline-d13 probes baseline-d12 from outside over the scenario's network:
from its main address (the admin station) and from a second address
(.250, the outsider), with Python sockets and OpenSSH run inside it."""

from __future__ import annotations

import json
import shlex
import time

APP = "baseline-d12"
OUTSIDE = "baseline-d13"
KEY = "/root/.ssh/lab_admin"
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=10"]

# open: connected; filtered: no answer (dropped); refused: RST (nothing listens or rejected).
PROBE = """
import socket, sys
host, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.settimeout(4)
if src != '-':
    s.bind((src, 0))
try:
    s.connect((host, port)); print('open')
except socket.timeout:
    print('filtered')
except ConnectionRefusedError:
    print('refused')
"""


def addresses(app_host) -> dict[str, str]:
    """admin_station and outsider, as prepare.yml recorded them on baseline-d12."""
    return json.loads(app_host.file("/etc/ansible/facts.d/baseline_lab.fact").content_string)


class Outside:
    """baseline-d13 as a client of baseline-d12."""

    def __init__(self, host, target: str = APP):
        self.host = host
        self.target = target

    def probe(self, port: int, source: str | None = None) -> str:
        cmd = ["python3", "-c", PROBE, self.target, str(port), source or "-"]
        return self.host.check_output(shlex.join(cmd)).strip()

    def ssh(self, user: str, *opts: str, command: str = "id -un", password: str | None = None):
        cmd = ["ssh", *SSH_OPTS, *opts, f"{user}@{self.target}", command]
        if password is not None:
            cmd = ["sshpass", "-p", password, *cmd]
        return self.host.run(shlex.join(cmd))


def wait_for(check, timeout: float = 90, interval: float = 2):
    """Poll check() until it returns a truthy value; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
