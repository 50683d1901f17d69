"""Helpers of the nginx scenario, imported by the tests and conftest.py. Each
nginx host is probed from the other one (nginx-d12 <-> nginx-d13) over the
scenario's podman network with curl, openssl s_client and python3 run inside
the client container."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

PEER = {"nginx-d12": "nginx-d13", "nginx-d13": "nginx-d12"}
# Where each host's certificate comes from (molecule.yml): the lab CA's files,
# or ACME from pebble on nginx-d13.
TLS_SOURCE = {"nginx-d12": "files", "nginx-d13": "acme"}
# The lab CA and pebble's issuing root (prepare.yml)
CA = "/root/nginx-client/ca.crt"
HSTS_MIN = 31536000
LOGIN_BURST = 5          # molecule.yml: nginx_login_burst
LOGIN_RATE_PER_MIN = 30  # role default nginx_login_rate: 30r/m


@dataclass
class Response:
    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: str = ""
    http_version: str = ""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    def json(self):
        return json.loads(self.body)


def parse_response(raw: str) -> Response:
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    version, status = lines[0].split()[:2]
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return Response(int(status), headers, body, version)


class Client:
    """A lab host used as the HTTP/TLS client of another one."""

    def __init__(self, host, server: str):
        self.host = host
        self.server = server

    def curl(self, path: str, *args: str, scheme: str = "https") -> Response:
        url = f"{scheme}://{self.server}{path}"
        cmd = ["curl", "-s", "-i", "--max-time", "20", "--cacert", CA, *args, url]
        r = self.host.run(shlex.join(cmd))
        assert r.rc == 0, f"{cmd}: rc={r.rc} {r.stderr}"
        return parse_response(r.stdout)

    def statuses(self, path: str, count: int, *args: str) -> list[int]:
        """count requests in one curl process (one TLS connection, back to back)."""
        cmd = ["curl", "-s", "--cacert", CA, *args]
        for _ in range(count):
            cmd += ["-o", "/dev/null", "-w", "%{http_code}\\n", f"https://{self.server}{path}"]
        return [int(s) for s in self.host.check_output(shlex.join(cmd)).split()]

    def s_client(self, *args: str):
        cmd = ["openssl", "s_client", "-connect", f"{self.server}:443", "-servername", self.server, *args]
        return self.host.run("timeout 20 " + shlex.join(cmd) + " </dev/null")

    def addresses(self) -> set[str]:
        out = self.host.check_output("ip -o addr show scope global")
        return {line.split()[3].split("/")[0] for line in out.splitlines()}
