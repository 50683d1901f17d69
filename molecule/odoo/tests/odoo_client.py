"""A small HTTPS client of a real Odoo 18.0 behind nginx, used by the
Molecule tests of the odoo scenario (test_safeguards.py). Standard library
only; it talks to Odoo as a browser and the web client's JSON-RPC do:

- TLS verified against the lab CA, SNI and Host = the server name, while the
  TCP connection goes to the container's address (no DNS in the lab);
- its own cookie jar (name -> value), a Cookie header on every request, every
  Set-Cookie parsed; the raw Set-Cookie lines of the last response in
  last_set_cookies, and of all responses in all_set_cookies, so tests can
  check attributes (Secure, HttpOnly, Max-Age);
- one new connection per request, no automatic redirects: a request returns
  (status, headers, body) and the helpers (login, submit_totp) decide;
- a 429 from nginx's login throttling is retried after a pause (nginx refused
  it before Odoo saw it, so a retry repeats nothing).

Routes and field names are Odoo 18.0's: web/controllers/home.py (/web/login),
auth_totp/controllers/home.py (/web/login/totp: totp_token, remember),
web/controllers/session.py and dataset.py (JSON-RPC).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import html
import http.client
import json
import re
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit

# The vendored user-agent parser of Odoo 18 must recognise the browser
# (auth_totp names a remembered device after it).
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36 onprem-odoo-hipaa-tests")

TOTP_STEP = 30
TOTP_DIGITS = 6

_CSRF_INPUT = re.compile(r"<input\b[^>]*\bname=[\"']csrf_token[\"'][^>]*>", re.I)
_VALUE_ATTR = re.compile(r"\bvalue=[\"']([^\"']*)[\"']", re.I)
_ALERT = re.compile(r"<(?:p|div)\b[^>]*class=[\"'][^\"']*alert-danger[^\"']*[\"'][^>]*>(.*?)</(?:p|div)>",
                    re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
REDIRECTS = (301, 302, 303, 307, 308)


class Response(NamedTuple):
    """(status, headers, body): headers is an http.client.HTTPMessage
    (headers.get(name), headers.get_all(name)); body is text."""

    status: int
    headers: http.client.HTTPMessage
    body: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


@dataclass
class LoginResult:
    """The answer to POST /web/login."""

    status: int
    location: str | None
    mfa_required: bool
    body: str
    csrf_token: str = ""

    @property
    def error(self) -> str:
        return page_error(self.body)

    @property
    def redirected(self) -> bool:
        return self.status in REDIRECTS


@dataclass
class TotpResult:
    """The answer to POST /web/login/totp (or to the GET before it, when
    that GET already redirected)."""

    status: int
    location: str | None
    body: str
    set_cookies: list[str] = field(default_factory=list)

    @property
    def error(self) -> str:
        return page_error(self.body)

    @property
    def logged_in(self) -> bool:
        """Redirected away from the second-factor form (Odoo's answer to a
        valid code); the tests confirm with uid()."""
        return self.status in REDIRECTS and location_path(self.location) not in ("/web/login/totp", "/web/login")


def location_path(location: str | None) -> str | None:
    """The path of a Location header (absolute URL or path)."""
    if not location:
        return None
    return urlsplit(location).path


def page_error(body: str) -> str:
    """The text of Odoo's red alert(s) on a login/TOTP page ('' when none)."""
    texts = (" ".join(html.unescape(_TAG.sub(" ", found)).split()) for found in _ALERT.findall(body or ""))
    return " | ".join(text for text in texts if text)


def csrf_token(page: str) -> str:
    """The value of the hidden input name="csrf_token" of an Odoo form."""
    tag = _CSRF_INPUT.search(page or "")
    value = _VALUE_ATTR.search(tag.group(0)) if tag else None
    if not value or not value.group(1):
        snippet = " ".join((page or "")[:400].split())
        raise ValueError(f"no csrf_token on the page (begins: {snippet!r})")
    return html.unescape(value.group(1))


def parse_set_cookie(line: str) -> tuple[str, str, dict[str, str]]:
    """'name=value; Attr=x; Flag' -> (name, value, {'attr': 'x', 'flag': ''})."""
    parts = [p.strip() for p in line.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for part in parts[1:]:
        if part:
            key, _, val = part.partition("=")
            attrs[key.strip().lower()] = val.strip()
    return name.strip(), value.strip().strip('"'), attrs


def cookie_flags(line: str) -> set[str]:
    """Lower-case attribute names of a Set-Cookie line: {'secure', 'httponly', 'max-age', ...}."""
    return set(parse_set_cookie(line)[2])


def _expired(attrs: dict[str, str]) -> bool:
    if "max-age" in attrs:
        try:
            return int(attrs["max-age"]) <= 0
        except ValueError:
            return False
    if attrs.get("expires"):
        try:
            return email.utils.parsedate_to_datetime(attrs["expires"]).timestamp() <= time.time()
        except (TypeError, ValueError, IndexError):
            return False
    return False


def _normalise_secret(secret_b32: str) -> bytes:
    text = re.sub(r"[\s-]", "", secret_b32).upper().rstrip("=")
    text += "=" * (-len(text) % 8)
    return base64.b32decode(text)


def hotp(key: bytes, counter: int, digits: int = TOTP_DIGITS) -> str:
    """RFC 4226 HOTP with HMAC-SHA-1, zero-padded."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(code % (10 ** digits)).zfill(digits)


def totp(secret_b32: str, for_time: float | None = None) -> str:
    """RFC 6238 TOTP (SHA-1, 30 s step, 6 digits) of a base32 secret, which
    may be lower-case, unpadded or contain spaces."""
    now = time.time() if for_time is None else for_time
    return hotp(_normalise_secret(secret_b32), int(now // TOTP_STEP))


def error_name(answer: dict) -> str | None:
    """data.name of a JSON-RPC error ('odoo.http.SessionExpiredException',
    'odoo.exceptions.AccessDenied', ...), None for a result."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if not error:
        return None
    return (error.get("data") or {}).get("name") or error.get("message") or "error"


def error_message(answer: dict) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not error:
        return ""
    return (error.get("data") or {}).get("message") or error.get("message") or ""


class _Connection(http.client.HTTPSConnection):
    """HTTPS to an address, with SNI, certificate check and Host for a name."""

    def __init__(self, address: str, port: int, server_name: str, context: ssl.SSLContext, timeout: float):
        super().__init__(server_name, port, timeout=timeout, context=context)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class OdooClient:
    """One browser: its cookies, its session. See the module docstring."""

    def __init__(self, address: str, server_name: str, ca_file: str, port: int = 443,
                 timeout: float = 60, throttle_wait: float = 90, throttle_pause: float = 2.5):
        self.address = address
        self.server_name = server_name
        self.port = port
        self.timeout = timeout
        self.throttle_wait = throttle_wait
        self.throttle_pause = throttle_pause
        self.context = ssl.create_default_context(cafile=ca_file)   # the lab CA only
        self.context.set_alpn_protocols(["http/1.1"])
        self.cookies: dict[str, str] = {}
        self.last_set_cookies: list[str] = []
        self.all_set_cookies: list[str] = []
        self.last_response: Response | None = None
        self.throttled = 0   # 429 answers seen (and retried)
        self._rpc_id = 0

    # --- HTTP ------------------------------------------------------------
    def set_cookie(self, name: str, value: str) -> None:
        self.cookies[name] = value

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """One request; a 429 (nginx throttling) is retried after a pause
        for up to throttle_wait seconds."""
        deadline = time.monotonic() + self.throttle_wait
        while True:
            resp = self._send(method, path, body, headers)
            if resp.status != 429 or time.monotonic() + self.throttle_pause > deadline:
                return resp
            self.throttled += 1
            time.sleep(self.throttle_pause)

    def _send(self, method, path, body, headers) -> Response:
        sent = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        conn = _Connection(self.address, self.port, self.server_name, self.context, self.timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            data = raw.read()
            resp = Response(raw.status, raw.msg, data.decode("utf-8", "replace"))
        finally:
            conn.close()
        self.last_set_cookies = list(resp.headers.get_all("Set-Cookie") or [])
        self.all_set_cookies.extend(self.last_set_cookies)
        for line in self.last_set_cookies:
            name, value, attrs = parse_set_cookie(line)
            if _expired(attrs) or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.last_response = resp
        return resp

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict) -> Response:
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, payload) -> Response:
        return self.request("POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def json_rpc(self, path: str, params: dict) -> dict:
        """POST a JSON-RPC 'call'; the parsed answer ({'result': ...} or
        {'error': {'code', 'message', 'data': {'name', 'message'}}}). A
        non-JSON answer (an nginx error page) becomes an error with
        data.name 'http.<status>'."""
        self._rpc_id += 1
        resp = self.post_json(path, {"jsonrpc": "2.0", "method": "call", "params": params, "id": self._rpc_id})
        try:
            answer = json.loads(resp.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = {"error": {"code": resp.status, "message": f"HTTP {resp.status}",
                                "data": {"name": f"http.{resp.status}", "message": resp.body[:500]}}}
        return answer

    def follow(self, resp: Response, limit: int = 5) -> Response:
        """GET the Location of a redirect, same server only, up to limit hops."""
        for _ in range(limit):
            if resp.status not in REDIRECTS or not resp.location:
                return resp
            parts = urlsplit(resp.location)
            if parts.netloc and parts.netloc.split(":")[0] != self.server_name:
                return resp
            resp = self.get((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        return resp

    # --- Odoo's login pages ------------------------------------------------
    @staticmethod
    def csrf_token(page: str) -> str:
        return csrf_token(page)

    def login(self, db: str, login: str, password: str, csrf: str | None = None) -> LoginResult:
        """The login form: GET /web/login for a csrf_token (skipped when one
        is given, e.g. to repeat attempts on one session), then POST it."""
        if csrf is None:
            page = self.follow(self.get("/web/login"))
            csrf = csrf_token(page.body)
        resp = self.post_form("/web/login", {
            "login": login, "password": password, "csrf_token": csrf, "db": db, "redirect": "",
        })
        return LoginResult(status=resp.status, location=resp.location,
                           mfa_required=location_path(resp.location) == "/web/login/totp",
                           body=resp.body, csrf_token=csrf)

    def submit_totp(self, code: str | int, remember: bool = False) -> TotpResult:
        """The second-factor form: GET /web/login/totp for a csrf_token, then
        POST totp_token (and remember=1 when asked). A GET that redirects
        (no pending login, or already logged in) is returned as is."""
        page = self.get("/web/login/totp")
        if page.status != 200:
            return TotpResult(page.status, page.location, page.body, list(self.last_set_cookies))
        fields = {"totp_token": str(code), "csrf_token": csrf_token(page.body), "redirect": ""}
        if remember:
            fields["remember"] = "1"
        resp = self.post_form("/web/login/totp", fields)
        return TotpResult(resp.status, resp.location, resp.body, list(self.last_set_cookies))

    def logout(self) -> Response:
        return self.get("/web/session/logout")

    # --- JSON-RPC of the web client ------------------------------------------
    def session_info(self) -> dict:
        """result of /web/session/get_session_info, or its error dict
        (SessionExpiredException when nobody is logged in on this session)."""
        answer = self.json_rpc("/web/session/get_session_info", {})
        if "result" in answer and isinstance(answer["result"], dict):
            return answer["result"]
        return answer.get("error") or answer

    def uid(self) -> int | None:
        """The logged-in user's id, None when the session has no user (an
        error such as SessionExpiredException, or uid None/False)."""
        answer = self.json_rpc("/web/session/get_session_info", {})
        result = answer.get("result")
        if not isinstance(result, dict):
            return None
        return result.get("uid") or None

    def call_kw(self, model: str, method: str, args: list, kwargs: dict | None = None) -> dict:
        """The web client's ORM call; the whole JSON answer."""
        return self.json_rpc(f"/web/dataset/call_kw/{model}/{method}", {
            "model": model, "method": method, "args": args, "kwargs": kwargs or {},
        })

    # --- second factor ------------------------------------------------------
    @staticmethod
    def totp(secret_b32: str, for_time: float | None = None) -> str:
        return totp(secret_b32, for_time)
