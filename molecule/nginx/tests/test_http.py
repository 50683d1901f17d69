"""HTTP behaviour of the public entry, seen from the other lab host:
redirects, security headers on every response, the session cookie, Odoo's
proxy headers, the database manager block, login throttling, websockets."""

import json
import shlex
import time

import pytest
from nginx_lab import HSTS_MIN, LOGIN_BURST, LOGIN_RATE_PER_MIN

testinfra_hosts = ["nginx"]

STANDIN_HTTP_UNIT = "test-upstream-odoo-standin@8069.service"


def assert_security_headers(resp, hsts=True):
    if hsts:
        value = resp.header("Strict-Transport-Security")
        assert value, resp.headers
        directives = [d.strip() for d in value.split(";")]
        max_age = int(next(d for d in directives if d.startswith("max-age=")).split("=", 1)[1])
        assert max_age >= HSTS_MIN, value
        assert "includeSubDomains" in directives, value
    assert resp.header("X-Content-Type-Options") == "nosniff", resp.headers
    frame = resp.header("X-Frame-Options")
    csp = resp.header("Content-Security-Policy") or ""
    assert frame in ("SAMEORIGIN", "DENY") or "frame-ancestors 'self'" in csp, resp.headers
    assert resp.header("Referrer-Policy"), resp.headers
    # Exactly one of each: Odoo's own copies are hidden.
    for name in ("strict-transport-security", "x-frame-options", "x-content-type-options"):
        assert len(resp.headers.get(name, [])) <= 1, resp.headers
    assert resp.header("Server") == "nginx", resp.headers  # server_tokens off


def test_http_redirects_to_https_with_301(client):
    resp = client.curl("/web?debug=1", scheme="http")
    assert resp.status == 301
    assert resp.header("Location") == f"https://{client.server}/web?debug=1"
    assert_security_headers(resp, hsts=False)


def test_http_redirect_ignores_a_forged_host(client):
    resp = client.curl("/web", "-H", "Host: evil.example", scheme="http")
    assert resp.status == 301 and resp.header("Location") == f"https://{client.server}/web"


@pytest.mark.parametrize("path,status", [
    ("/web", 200),                       # proxied to the upstream
    ("/missing/page", 404),              # error from the upstream
    ("/web/database/manager", 403),      # error from nginx itself
])
def test_security_headers_on_every_response(client, path, status):
    resp = client.curl(path)
    assert resp.status == status, (resp.status, resp.body[:300])
    assert resp.http_version == "HTTP/2"
    assert_security_headers(resp)


def test_security_headers_on_502_when_odoo_is_down(client, host):
    host.check_output(f"systemctl stop {STANDIN_HTTP_UNIT}")
    try:
        resp = client.curl("/web")
        assert resp.status == 502
        assert_security_headers(resp)
        assert "nginx/" not in resp.body  # no version on error pages
    finally:
        host.check_output(f"systemctl start {STANDIN_HTTP_UNIT}")
    for _ in range(20):
        if client.curl("/web").status == 200:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the test upstream did not come back")


def test_session_cookie_gets_secure_httponly_samesite(client):
    resp = client.curl("/web")
    cookies = [c for c in resp.headers.get("set-cookie", []) if c.startswith("session_id=")]
    assert cookies, resp.headers
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in cookies[0].split(";")[1:]}
    assert "secure" in attrs and "httponly" in attrs, cookies
    assert attrs.get("samesite", "").lower() in ("samesite=lax", "samesite=strict"), cookies


def test_every_cookie_reaches_the_browser_secure(client):
    """Odoo's td_id (trusted device) and any other cookie: Secure as well."""
    cookies = client.curl("/web").headers.get("set-cookie", [])
    assert any(c.startswith("td_id=") for c in cookies), cookies
    for cookie in cookies:
        assert "secure" in [a.strip().lower() for a in cookie.split(";")[1:]], cookie


def test_odoo_gets_the_proxy_headers_its_docs_require(client):
    resp = client.curl("/web/proxy-probe", "-H", "X-Forwarded-For: 203.0.113.7")
    assert resp.status == 200
    seen = resp.json()["headers"]
    assert seen["X-Forwarded-Proto"] == "https"
    assert seen["X-Forwarded-Host"] == client.server
    assert seen["X-Real-IP"] in client.addresses()
    # Odoo's proxy_mode takes the last hop, which nginx appends: the real client.
    assert seen["X-Forwarded-For"].split(",")[-1].strip() == seen["X-Real-IP"]


@pytest.mark.parametrize("path", [
    "/web/database/manager",
    "/web/database/list",
    "/web/database/backup",
    "/web/%64atabase/manager",    # percent-encoded
    "//web/database/manager",     # doubled slash
])
def test_database_manager_is_refused(client, path):
    # The test upstream answers 200 there, so a refusal can only come from nginx.
    resp = client.curl(path, "--path-as-is")
    assert resp.status in (403, 404), (path, resp.status, resp.body[:200])


def test_login_is_rate_limited_per_client(client):
    """burst + 1 logins pass back to back, then 429; the JSON login route
    shares the per-client budget; other pages are not throttled."""
    refill = (LOGIN_BURST + 1) * 60 / LOGIN_RATE_PER_MIN + 1
    if client.statuses("/web/login", 1) == [429]:   # a previous run drained the budget
        time.sleep(refill)
    else:
        time.sleep(60 / LOGIN_RATE_PER_MIN + 0.5)   # give back the probe's token
    codes = client.statuses("/web/login", LOGIN_BURST + 6)
    assert codes[:LOGIN_BURST + 1] == [200] * (LOGIN_BURST + 1), codes
    assert set(codes[LOGIN_BURST + 1:]) == {429}, codes
    assert client.statuses("/web/session/authenticate", 2, "-X", "POST", "--json", "{}") == [429, 429]
    resp = client.curl("/web/login")
    assert resp.status == 429
    assert_security_headers(resp)
    assert client.statuses("/web", 3) == [200, 200, 200]


WEBSOCKET_PROBE = r"""
import base64, hashlib, json, os, socket, ssl, sys
server = sys.argv[1]
ctx = ssl.create_default_context(cafile="/root/nginx-client/ca.crt")
ctx.set_alpn_protocols(["http/1.1"])
key = base64.b64encode(os.urandom(16)).decode()
with socket.create_connection((server, 443), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=server) as s:
    s.sendall((f"GET /websocket HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
head = data.split(b"\r\n\r\n")[0].decode().split("\r\n")
headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in head[1:])}
expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
print(json.dumps({"status": head[0], "headers": headers, "accept_ok": headers.get("sec-websocket-accept") == expected}))
"""


def test_websocket_upgrade_reaches_the_gevent_port(client):
    out = client.host.check_output(f"python3 -c {shlex.quote(WEBSOCKET_PROBE)} {client.server}")
    result = json.loads(out)
    assert result["status"].split()[1] == "101", result
    assert result["accept_ok"], result
    assert result["headers"]["x-standin-port"] == "8072", result   # the gevent upstream answered
    assert result["headers"]["upgrade"].lower() == "websocket"


def test_access_log_is_one_json_object_per_request(client, host):
    marker = f"/web/log-probe-{time.time_ns()}"
    client.curl(marker + "?patient=secret", "-A", "hipaa-probe/1.0")
    line = next(l for l in reversed(host.file("/var/log/nginx/odoo-access.json.log").content_string.splitlines())
                if marker in l)
    entry = json.loads(line)
    for key in ("time", "client", "method", "path", "status", "bytes", "request_time", "user_agent", "forwarded_for"):
        assert key in entry, entry
    assert entry["path"] == marker            # no query string: it can carry PHI
    assert entry["status"] == 200 and entry["method"] == "GET"
    assert entry["client"] in client.addresses()
    assert entry["user_agent"] == "hipaa-probe/1.0"
