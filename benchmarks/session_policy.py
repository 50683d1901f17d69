#!/usr/bin/env python3
"""Benchmark (a figure, not a test): what the session-limit addon
(odoo_hipaa_session_policy) costs a real Odoo 18.0.

JSON-RPC requests per second -- an authenticated search_read of 20 partners,
one keep-alive TLS connection through nginx, as the web client sends them --
with the addon installed ("policy") and with it uninstalled and out of
server_wide_modules ("none"), on the same deployment, interleaved over ROUNDS
rounds (the order alternates) so a load change on the shared machine does not
land on one side only. Records the raw figures, the medians and
ratio = policy / none in benchmarks/results/session_policy.json.

Run by benchmarks/session_policy.sh (which knows the lab); arguments:
  HOST_CONTAINER ADDRESS SERVER_NAME CA_FILE
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "molecule" / "odoo" / "tests"))
from odoo_client import OdooClient, totp  # noqa: E402  (the tests' client: one login code path)

CONTAINER, ADDRESS, SERVER_NAME, CA_FILE = sys.argv[1:5]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = float(os.environ.get("SECONDS_PER_RUN", "20"))
WARMUP = 30
DB = "odoo"
LOGIN, PASSWORD = "bench-user", "Bench-Only-Passw0rd!x"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MODULE = "odoo_hipaa_session_policy"
CONF = "/etc/odoo/odoo.conf"
SHELL = ("cd /var/lib/odoo && runuser -u odoo -- /usr/bin/python3 /opt/odoo/server/odoo-bin shell"
         " -c {conf} -d odoo --no-http --log-level=warn")


def sh(cmd: str, stdin: str | None = None) -> str:
    proc = subprocess.run(["podman", "exec", "-i", CONTAINER, "sh", "-c", cmd], input=stdin,
                          text=True, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd!r} failed: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def odoo_shell(script: str, conf: str = CONF) -> str:
    return sh(SHELL.format(conf=conf), script)


def wait_healthy() -> None:
    for _ in range(90):
        if sh("python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:8069/web/health',"
              " timeout=5).status)\" 2>/dev/null || true").strip() == "200":
            return
        time.sleep(1)
    raise SystemExit("Odoo did not come back")


def setup_user() -> None:
    odoo_shell(f"""
Users = env["res.users"].sudo().with_context(active_test=False, no_reset_password=True)
user = Users.search([("login", "=", {LOGIN!r})], limit=1) or Users.create(
    {{"login": {LOGIN!r}, "name": "Benchmark user (lab)", "password": {PASSWORD!r},
      "groups_id": [(6, 0, [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id])]}})
env.cr.execute("UPDATE res_users SET totp_secret = %s, active = true WHERE id = %s", [{SECRET!r}, user.id])
if env["res.partner"].search_count([]) < 200:
    env["res.partner"].create([{{"name": "Bench partner %d" % i}} for i in range(200)])
env.cr.commit()
""")


def set_mode(mode: str) -> None:
    """policy: the role's odoo.conf and the module installed; none: the module
    uninstalled and left out of server_wide_modules. Odoo restarted either way."""
    if mode == "none":
        sh(f"cp -p {CONF} /root/odoo.conf.bench-orig && sed -i 's/,{MODULE}$//' {CONF}"
           f" && ! grep -q '^server_wide_modules.*{MODULE}' {CONF}")
        odoo_shell(f"""
m = env["ir.module.module"].search([("name", "=", {MODULE!r}), ("state", "=", "installed")])
m and m.button_immediate_uninstall()
env.cr.commit()
""")
    else:
        if sh("test -e /root/odoo.conf.bench-orig && echo yes || true").strip() == "yes":
            sh(f"cp -p /root/odoo.conf.bench-orig {CONF} && rm /root/odoo.conf.bench-orig")
        odoo_shell(f"""
m = env["ir.module.module"].search([("name", "=", {MODULE!r})])
m.state != "installed" and m.button_immediate_install()
env.cr.commit()
""")
    sh("systemctl restart odoo.service")
    wait_healthy()
    installed = sh(f"runuser -u postgres -- psql -XAtd odoo -c \"SELECT state FROM ir_module_module WHERE name = '{MODULE}'\"").strip()
    assert (installed == "installed") == (mode == "policy"), (mode, installed)


def login() -> str:
    sh("runuser -u postgres -- psql -XAtd odoo -c \"DELETE FROM auth_totp_rate_limit_log\"")
    client = OdooClient(ADDRESS, SERVER_NAME, CA_FILE)
    first = client.login(DB, LOGIN, PASSWORD)
    assert first.mfa_required, (first.status, first.location)
    result = client.submit_totp(totp(SECRET))
    if not result.logged_in:
        time.sleep(31 - time.time() % 30)
        result = client.submit_totp(totp(SECRET))
    assert result.logged_in, (result.status, result.location)
    return client.cookies["session_id"]


def measure(session_id: str) -> dict:
    ctx = ssl.create_default_context(cafile=CA_FILE)
    conn = http.client.HTTPSConnection(SERVER_NAME, 443, context=ctx, timeout=30)
    conn.sock = ctx.wrap_socket(socket.create_connection((ADDRESS, 443), 30), server_hostname=SERVER_NAME)
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "model": "res.partner", "method": "search_read", "args": [[]],
        "kwargs": {"fields": ["name", "email"], "limit": 20}}}).encode()
    headers = {"Content-Type": "application/json", "Cookie": f"session_id={session_id}"}

    def one():
        conn.request("POST", "/web/dataset/call_kw/res.partner/search_read", body, headers)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        assert resp.status == 200 and "result" in data and len(data["result"]) == 20, data

    for _ in range(WARMUP):
        one()
    count, start = 0, time.monotonic()
    while time.monotonic() - start < SECONDS:
        one()
        count += 1
    elapsed = time.monotonic() - start
    conn.close()
    return {"requests": count, "seconds": round(elapsed, 2), "rps": round(count / elapsed, 1),
            "load_average": os.getloadavg()[0]}


def main() -> None:
    setup_user()
    runs = {"policy": [], "none": []}
    try:
        for r in range(ROUNDS):
            for mode in (("policy", "none") if r % 2 == 0 else ("none", "policy")):
                set_mode(mode)
                figure = measure(login())
                runs[mode].append(figure)
                print(f"round {r + 1} {mode:6} {figure['rps']:7.1f} req/s  (load {figure['load_average']:.1f})", flush=True)
    finally:
        set_mode("policy")
    medians = {m: statistics.median(f["rps"] for f in runs[m]) for m in runs}
    result = {
        "what": "JSON-RPC search_read (20 partners) per second, one keep-alive TLS connection through nginx, "
                "authenticated (TOTP) session; odoo_hipaa_session_policy installed vs uninstalled, interleaved",
        "host": CONTAINER, "odoo": "18.0", "rounds": ROUNDS, "seconds_per_run": SECONDS,
        "cpus": os.cpu_count(), "runs": runs,
        "median_rps": medians, "ratio": round(medians["policy"] / medians["none"], 3),
        "goal": ">= 0.95",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = ROOT / "benchmarks" / "results" / "session_policy.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"median policy {medians['policy']} req/s, none {medians['none']} req/s, ratio {result['ratio']} -> {out}")


if __name__ == "__main__":
    main()
