"""Helpers of the log_shipping scenario: the lab's two hosts and a poller
for lines arriving on the aggregator."""

import shlex
import time
import uuid

APP = "log-shipping-app-d12"
AGG = "log-shipping-agg-d13"
STORE = "/var/log/remote"
PORT = 2514
TEST_DIR = "/root/log-shipping-test"
# The sender's timestamp (RFC 3339 with fraction and offset), its host name, the address it came from.
LINE_HEAD = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d (?P<host>\S+) (?P<ip>\S+) (?P<facility>\w+)\.(?P<severity>\w+) "


def marker(label: str) -> str:
    return f"lshtest-{label}-{uuid.uuid4().hex[:12]}"


def stored_lines(agg, text: str, host_dir: str = "*") -> list[str]:
    """Lines holding text in the store (current and rotated files)."""
    out = agg.run(f"zcat -f {STORE}/{host_dir}/messages.log* 2>/dev/null | grep -F -- {shlex.quote(text)}")
    return [line for line in out.stdout.splitlines() if line]


def wait_stored(agg, text: str, host_dir: str = APP, timeout: int = 180) -> list[str]:
    """Poll the aggregator until a line with text is stored (generous: the
    machine is shared); returns the lines, or [] after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        lines = stored_lines(agg, text, host_dir)
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(1)


def probe(app, message: str, *args: str) -> dict:
    """Run the RELP test client on the app host against the aggregator."""
    import json
    out = app.check_output(f"python3 {TEST_DIR}/relp_probe.py {AGG} {PORT} {message} {' '.join(args)}")
    return json.loads(out)
