"""Run a script inside the real Odoo of a lab host: `odoo shell` with the
script on stdin, as the odoo user, from its data directory. The script prints
one line MARKER + JSON; odoo_shell returns that JSON (the last such line) and
fails the test with Odoo's output otherwise. Used by the odoo and ha
scenarios and benchmarks/ha_throughput_bench.py.

env: variables for Odoo's process, e.g. a cluster's libpq service
(PGSERVICEFILE, PGSERVICE), which odoo.service sets and a bare runuser would
not."""

from __future__ import annotations

import base64
import json

MARKER = "ODOO_HIPAA_TEST "


def command(env: dict[str, str] | None = None) -> str:
    """The odoo shell command line, as root on the host."""
    prefix = "env " + " ".join(f"{k}={v}" for k, v in env.items()) + " " if env else ""
    return (f"runuser -u odoo -- {prefix}/usr/bin/python3 /opt/odoo/server/odoo-bin shell -c /etc/odoo/odoo.conf"
            " -d odoo --no-http --log-level=warn")


def odoo_shell(host, script: str, env: dict[str, str] | None = None) -> dict:
    """Run script inside Odoo on the testinfra host and return the JSON of
    its marker line."""
    path = "/tmp/odoo-hipaa-test-setup.py"
    encoded = base64.b64encode(script.encode()).decode()
    run = host.run(f"printf %s {encoded} | base64 -d > {path} && cd /var/lib/odoo && {command(env)} < {path};"
                   f" rc=$?; rm -f {path}; exit $rc")
    lines = [line for line in run.stdout.splitlines() if line.startswith(MARKER)]
    assert run.rc == 0 and lines, f"odoo shell failed (rc {run.rc}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return json.loads(lines[-1][len(MARKER):])
