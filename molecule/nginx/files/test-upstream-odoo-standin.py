#!/usr/bin/env python3
"""TEST UPSTREAM ONLY - stands in for Odoo in the nginx Molecule scenario.

Not Odoo, never deployed by the collection: Odoo cannot be downloaded on the
lab machines, so this python3 stdlib server plays the parts of Odoo that the
nginx role depends on, on 127.0.0.1 only:

  --role http    (port 8069): answers every path with 200 and a JSON echo of
                 the request (path and the X-Forwarded-*/X-Real-IP headers
                 nginx added), sets a `session_id` cookie the way Odoo does
                 (HttpOnly, no Secure, no SameSite), answers 404 under
                 /missing/, and 200 on /web/database/* (so a refusal there can
                 only come from nginx).
  --role gevent  (port 8072): answers a websocket upgrade on /websocket with
                 101 Switching Protocols (RFC 6455 accept key), then closes.

Stopping its systemd unit (test-upstream-odoo-standin@8069) makes nginx
answer 502, which the tests use to check headers on error responses.
"""

import argparse
import base64
import hashlib
import json
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ECHOED = ("Host", "X-Forwarded-Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP",
          "Upgrade", "Connection")


class Handler(BaseHTTPRequestHandler):
    server_version = "test-upstream-odoo-standin"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    role = "http"
    port = 0

    def log_message(self, fmt, *args):  # journald gets stderr; keep it short
        pass

    def _send(self, status, body, extra_headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Standin-Port", str(self.port))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _echo(self):
        return json.dumps({
            "standin": "test-upstream-odoo-standin",
            "role": self.role,
            "method": self.command,
            "path": self.path,
            "headers": {h: self.headers.get(h) for h in ECHOED if self.headers.get(h) is not None},
        })

    def _http(self):
        if self.path.startswith("/missing/"):
            return self._send(404, json.dumps({"error": "not found", "path": self.path}))
        # Odoo 17/18: session_id=...; Expires=...; Max-Age=604800; HttpOnly; Path=/
        cookie = f"session_id={secrets.token_hex(20)}; Max-Age=604800; HttpOnly; Path=/"
        # Odoo's trusted-device cookie, as auth_totp sets it (no Secure).
        td_id = f"td_id={secrets.token_hex(20)}; Max-Age=7776000; HttpOnly; SameSite=Lax; Path=/"
        return self._send(200, self._echo(), [("Set-Cookie", cookie), ("Set-Cookie", td_id)])

    def _gevent(self):
        if self.path.split("?")[0] != "/websocket":
            return self._send(404, json.dumps({"error": "gevent port serves /websocket only"}))
        key = self.headers.get("Sec-WebSocket-Key")
        if (self.headers.get("Upgrade", "").lower() != "websocket" or not key
                or "upgrade" not in self.headers.get("Connection", "").lower()):
            return self._send(400, json.dumps({"error": "websocket upgrade expected"}))
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("X-Standin-Port", str(self.port))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True

    def _dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        return self._gevent() if self.role == "gevent" else self._http()

    do_GET = do_POST = do_HEAD = _dispatch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--role", choices=["http", "gevent"], required=True)
    args = ap.parse_args()
    Handler.role, Handler.port = args.role, args.port
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
