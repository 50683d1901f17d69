"""Odoo's own safeguards, proven from outside: each test is a client on the
controller that talks to the real Odoo 18.0 of each host through nginx over
TLS (verified against the lab CA), as a browser and the web client's JSON-RPC
do (odoo_client.py). The host itself is only read (psql, the journal) or
used to create the test users (Odoo's shell).

What it proves, on every host of the group odoo:

- §164.312(d) MFA: the password alone gives no session, for a user with an
  authenticator (TOTP) and for one without (auth_totp.policy all_required
  sends them to the e-mailed code); a wrong code gives nothing; a valid code
  logs in. "Remember this device" is refused: no td_id cookie is set, and
  neither a forged td_id nor a genuine device key (one stock Odoo accepts)
  skips the second factor.
- §164.312(e)(1): every cookie reaches the browser Secure, session_id also
  HttpOnly.
- §164.312(a)(2)(iii) automatic logoff (odoo_hipaa_session_policy): an idle
  session is ended before a write on it runs (the write is not saved); an
  active session is ended at its absolute lifetime; both are logged with the
  login and the client address. The client keeps its cookies whatever their
  Max-Age, as a replaying attacker would: the limit is the server's.
- §164.308(a)(5)(ii)(C): after base.login_cooldown_after failed logins from
  an address, even the right password is refused for the cooldown.
- §164.308(a)(5)(ii)(D): a password change to a weak password is refused
  (length: auth_password_policy; classes: password_security), hash unchanged.
- §164.312(b): a read of a patient record by the web client is in auditlog.
- §164.312(a)(1): the built-in admin cannot log in, the named administrator
  is active in Settings; the database manager is refused at nginx; Odoo
  reaches PostgreSQL over the unix socket only.

Lab settings this relies on (scenario inventory): idle 90 s, absolute 150 s,
auth_totp.policy all_required, cooldown 5 failures / 600 s, password policy
12 characters with lower/upper/digit/special, auditlog read rules on
res.partner, administrator hipaa-admin, odoo_mfa_trusted_device_days 0.
The cooldown test runs last: Odoo counts failures per client address, in
each worker process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from dataclasses import dataclass

import pytest
from odoo_client import OdooClient, cookie_flags, error_message, error_name, parse_set_cookie, totp
from odoo_shell import odoo_shell

testinfra_hosts = ["odoo"]

DB = "odoo"
# Test secrets (lab only). The password satisfies the lab's policy.
PASSWORD = "Lab-Only-Passw0rd!x"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"   # base32, 160 bits, as Odoo stores it
TOTP_STEP = 30
USERS = {
    # login: (name, groups, TOTP enabled)
    "nurse-totp": ("Nurse With Authenticator (lab)", ["base.group_user", "base.group_partner_manager"], True),
    "nurse-nototp": ("Nurse Without Authenticator (lab)", ["base.group_user"], False),
    "cooldown-user": ("Cooldown Test User (lab)", ["base.group_user"], False),
    "pw-user": ("Password Change Test User (lab)", ["base.group_user"], True),
    # In the group the scenario names in odoo_session_single_groups (made below).
    "clinician-totp": ("Clinician With Authenticator (lab)", ["base.group_user", "odoo_hipaa_lab.group_single_session"], True),
}
PARTNER_REF = "odoo-hipaa-test-patient"
PARTNER_NAME = "Test Patient (odoo_hipaa lab)"

IDLE = 90                # odoo_hipaa.session_idle_timeout (molecule.yml)
ABSOLUTE = 150           # odoo_hipaa.session_absolute_lifetime (molecule.yml)
# The margin a request is given to reach Odoo before a limit it must beat: on
# a loaded CI machine a request can take many seconds to be answered.
MARGIN = 20
COOLDOWN_AFTER = 5       # base.login_cooldown_after
COOLDOWN_SECONDS = 600   # base.login_cooldown_duration (molecule.yml)
KEEPALIVE = 20           # seconds between the active session's requests
EXPIRED = "odoo.http.SessionExpiredException"


# Run inside Odoo (odoo shell, stdin) as the fixture: the test users, a
# patient record, a genuine trusted-device key; idempotent.
SETUP_SCRIPT = r'''
import datetime
import binascii
import json
import os

from odoo.addons.base.models import res_users as base_res_users

spec = json.loads(__SPEC__)
Users = env["res.users"].sudo().with_context(active_test=False, no_reset_password=True)
groups_field = "group_ids" if "group_ids" in Users._fields else "groups_id"
crypt = Users._crypt_context()
notes = []


def stored(column, uid):
    env.cr.execute("SELECT %s FROM res_users WHERE id = %%s" % column, [uid])
    return env.cr.fetchone()[0] or None


def password_is(uid, password):
    current = stored("password", uid)
    try:
        return bool(current) and crypt.verify(password, current)
    except ValueError:
        return False


# The lab's single-session group (molecule.yml names it in
# odoo_session_single_groups; the role's policy step noted it missing).
if not env.ref("odoo_hipaa_lab.group_single_session", raise_if_not_found=False):
    group = env["res.groups"].sudo().create({"name": "Single session (odoo_hipaa lab)"})
    env["ir.model.data"].sudo().create({"module": "odoo_hipaa_lab", "name": "group_single_session",
                                        "model": "res.groups", "res_id": group.id, "noupdate": True})

ids = {}
for login, (name, groups, with_totp) in spec["users"].items():
    group_ids = [env.ref(xmlid).id for xmlid in groups]
    user = Users.search([("login", "=", login)], limit=1)
    if not user:
        user = Users.create({
            "login": login, "name": name, "email": login + "@lab.invalid",
            "password": spec["password"], groups_field: [(6, 0, group_ids)],
        })
    else:
        vals = {}
        if not user.active:
            vals["active"] = True
        missing = [g for g in group_ids if g not in user[groups_field].ids]
        if missing:
            vals[groups_field] = [(4, g) for g in missing]
        if vals:
            user.write(vals)
        if not password_is(user.id, spec["password"]):
            # Back to the known password; password_security would refuse a
            # recent one, so the test user's history goes first.
            if "res.users.pass.history" in env:
                env["res.users.pass.history"].sudo().search([("user_id", "=", user.id)]).unlink()
            user.write({"password": spec["password"]})
    wanted = spec["totp_secret"] if with_totp else None
    if stored("totp_secret", user.id) != wanted:
        try:
            with env.cr.savepoint():
                user.sudo().write({"totp_secret": wanted or False})
        except Exception as exc:
            notes.append("totp_secret through the ORM: %r" % (exc,))
        if stored("totp_secret", user.id) != wanted:
            env.cr.execute("UPDATE res_users SET totp_secret = %s WHERE id = %s", [wanted, user.id])
            notes.append("totp_secret set by SQL for " + login)
    ids[login] = user.id

# Counters of earlier runs: TOTP code checks / e-mails per user and address.
if "auth.totp.rate.limit.log" in env:
    env["auth.totp.rate.limit.log"].sudo().search([("user_id", "in", list(ids.values()))]).unlink()

# A genuine "remembered browser" key of nurse-totp, stored the way
# auth_totp.device._generate stores one (the role's addon refuses to issue
# new ones while trusted devices are off, so it is written here directly).
Device = env["auth_totp.device"].sudo()
env.cr.execute("DELETE FROM %s WHERE user_id = ANY(%%s) AND scope = 'browser'" % Device._table,
               [list(ids.values())])
key = binascii.hexlify(os.urandom(base_res_users.API_KEY_SIZE)).decode()
expires = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(days=30)
env.cr.execute(
    "INSERT INTO %s (name, user_id, scope, expiration_date, key, index)"
    " VALUES (%%s, %%s, 'browser', %%s, %%s, %%s)" % Device._table,
    ["odoo_hipaa test: remembered browser", ids["nurse-totp"], expires,
     base_res_users.KEY_CRYPT_CONTEXT.hash(key), key[:base_res_users.INDEX_SIZE]])
# Stock Odoo's lookup (res.users.apikeys._check_credentials) accepts it.
genuine = Device._check_credentials(scope="browser", key=key) == ids["nurse-totp"]

Partner = env["res.partner"].sudo().with_context(active_test=False)
partner = Partner.search([("ref", "=", spec["partner_ref"])], limit=1)
if not partner:
    partner = Partner.create({"name": spec["partner_name"], "ref": spec["partner_ref"]})
partner.write({"active": True, "comment": False})

env.cr.commit()
env.registry.clear_cache()
env.registry.signal_changes()
print("ODOO_HIPAA_TEST " + json.dumps({
    "users": ids, "partner_id": partner.id, "device_key": key, "device_genuine": genuine, "notes": notes,
}))
'''


# --- the lab, seen from the controller ---------------------------------------

@dataclass
class Lab:
    host: object
    address: str
    server_name: str
    ca_file: str
    users: dict
    partner_id: int
    device_key: str
    device_genuine: bool

    def client(self) -> OdooClient:
        return OdooClient(self.address, self.server_name, self.ca_file)

    def psql(self, sql: str) -> str:
        return self.host.check_output("runuser -u postgres -- psql -XAtd odoo -c " + shlex.quote(sql))

    def reset_totp_rate_limit(self, login: str) -> None:
        # auth_totp_mail_enforce allows 10 code checks per user and address
        # an hour (counted for app codes too): start every login afresh.
        self.host.run("runuser -u postgres -- psql -XAtd odoo -c "
                      + shlex.quote(f"DELETE FROM auth_totp_rate_limit_log WHERE user_id = {int(self.users[login])}"))

    def journal(self, since: float) -> str:
        return self.host.check_output(f"journalctl -t odoo --since @{int(since) - 2} --no-pager -o cat")


def container_address(host) -> str:
    found = host.run("hostname -I")
    if found.rc == 0 and found.stdout.split():
        return found.stdout.split()[0]
    line = host.check_output("ip -o -4 addr show scope global").splitlines()[0]
    return line.split()[3].split("/")[0]


def wait_until_served(client: OdooClient, tries: int = 45) -> None:
    """Odoo answers through nginx (a test before may have restarted it)."""
    status = None
    for _ in range(tries):
        try:
            status = client.get("/web/health").status
        except OSError as exc:
            status = repr(exc)
        if status == 200:
            return
        time.sleep(2)
    pytest.fail(f"https://{client.server_name}/web/health never answered 200 (last: {status})")


@pytest.fixture(scope="module")
def lab(host):
    """Per host: the test users (known passwords; nurse-totp and pw-user with
    an authenticator secret), a patient record, a genuine trusted-device key."""
    spec = {"users": USERS, "password": PASSWORD, "totp_secret": TOTP_SECRET,
            "partner_ref": PARTNER_REF, "partner_name": PARTNER_NAME}
    made = odoo_shell(host, SETUP_SCRIPT.replace("__SPEC__", repr(json.dumps(spec))))
    for note in made["notes"]:
        print(f"{host.backend.get_hostname()}: {note}")
    found = Lab(
        host=host,
        address=container_address(host),
        server_name=host.backend.get_hostname(),
        ca_file=os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", "ca.crt"),
        users=made["users"],
        partner_id=made["partner_id"],
        device_key=made["device_key"],
        device_genuine=made["device_genuine"],
    )
    wait_until_served(found.client())
    return found


# --- logging in ---------------------------------------------------------------

def password_step(client: OdooClient, login: str, password: str = PASSWORD):
    result = client.login(DB, login, password)
    if "Too many login failures" in result.body:
        # This address is still on cooldown (test_login_cooldown of an
        # earlier run): wait it out once.
        time.sleep(COOLDOWN_SECONDS + 2)
        result = client.login(DB, login, password)
    return result


def second_factor(client: OdooClient, remember: bool = False):
    """Submit the current code; (answer, time just before the answer's
    request): Odoo stamps the login time while answering a valid code."""
    sent = time.time()
    result = client.submit_totp(totp(TOTP_SECRET), remember=remember)
    if not result.logged_in:
        # Refused at a 30-s boundary: once more, with the next window's code.
        time.sleep(TOTP_STEP - time.time() % TOTP_STEP + 1)
        sent = time.time()
        result = client.submit_totp(totp(TOTP_SECRET), remember=remember)
    return result, sent


@dataclass
class Session:
    """A logged-in client; Odoo's login time stamp lies in [code_sent, ready]."""

    client: OdooClient
    result: object
    code_sent: float
    ready: float


def login_with_totp(lab: Lab, login: str = "nurse-totp", remember: bool = False) -> Session:
    """A full login: the password, then the authenticator code."""
    lab.reset_totp_rate_limit(login)
    client = lab.client()
    first = password_step(client, login)
    assert first.mfa_required, (
        f"{login}: the password should lead to /web/login/totp; got {first.status} {first.location} {first.error!r}")
    result, sent = second_factor(client, remember)
    assert result.logged_in, f"{login}: a valid code was refused: {result.status} {result.location} {result.error!r}"
    assert client.uid() == lab.users[login], f"{login}: no session after a valid code"
    return Session(client, result, sent, time.time())


def wrong_code() -> str:
    """Six digits that are no valid code anywhere near now."""
    now = time.time()
    valid = {totp(TOTP_SECRET, now + shift) for shift in (-90, -60, -30, 0, 30, 60, 90)}
    code = (int(totp(TOTP_SECRET, now)) + 500000) % 1000000
    while f"{code:06d}" in valid:
        code = (code + 111111) % 1000000
    return f"{code:06d}"


def partner_comment(lab: Lab) -> str:
    return lab.psql(f"SELECT coalesce(comment::text, '') FROM res_partner WHERE id = {int(lab.partner_id)}")


SEARCH_ONE = ("res.partner", "search_read", [[]], {"fields": ["name"], "limit": 1})


# --- §164.312(d) MFA ----------------------------------------------------------

def password_only(lab: Lab, login: str) -> OdooClient:
    """The right password alone: sent to /web/login/totp, no session, the ORM
    refuses the call. Returns the client, halfway through the login."""
    lab.reset_totp_rate_limit(login)
    client = lab.client()
    first = password_step(client, login)
    assert first.redirected and first.mfa_required, (
        f"{login}: the right password should lead to /web/login/totp: {first.status} {first.location} {first.error!r}")
    assert client.uid() is None, f"{login}: the password alone gave a session"
    answer = client.call_kw(*SEARCH_ONE)
    assert error_name(answer) == EXPIRED, f"{login}: ORM call after the password alone: {answer}"
    return client


def test_totp_user_needs_the_second_factor(lab):
    uid = lab.users["nurse-totp"]
    client = password_only(lab, "nurse-totp")

    bad = client.submit_totp(wrong_code())
    assert not bad.logged_in, f"a wrong code was accepted: {bad.status} {bad.location}"
    assert "Verification failed" in bad.error, f"no refusal on the form: {bad.error!r}"
    assert client.uid() is None, "a wrong code gave a session"

    good, _ = second_factor(client)
    assert good.logged_in, f"a valid code was refused: {good.status} {good.location} {good.error!r}"
    assert client.uid() == uid, "no session for nurse-totp after a valid code"
    rows = client.call_kw(*SEARCH_ONE)
    assert isinstance(rows.get("result"), list) and rows["result"], f"ORM call refused after MFA: {rows}"


def test_password_alone_is_no_session_without_an_authenticator(lab):
    """all_required: a user without an authenticator app is sent to the
    e-mailed code; the password (form or JSON login) gives no session."""
    client = password_only(lab, "nurse-nototp")
    form = client.get("/web/login/totp")
    assert form.status == 200 and 'name="totp_token"' in form.body, (form.status, form.location)
    assert client.uid() is None, "visiting the code form gave a session"

    other = lab.client()
    json_login = other.json_rpc("/web/session/authenticate", {"db": DB, "login": "nurse-nototp", "password": PASSWORD})
    assert not (json_login.get("result") or {}).get("uid"), f"JSON login gave a uid: {json_login}"
    assert other.uid() is None, "the JSON login route gave a session"


@pytest.mark.parametrize("login", ["nurse-nototp", "nurse-totp"])
def test_external_rpc_takes_no_password_alone(lab, login):
    """/jsonrpc (and /xmlrpc) with the password alone: no uid, no data, for
    users with an authenticator and for those with the e-mailed code (the
    role's addon: API keys only under an MFA policy; stock Odoo 18 asks for
    a key only from users with an authenticator app)."""
    client = lab.client()
    auth = client.json_rpc("/jsonrpc", {"service": "common", "method": "authenticate",
                                         "args": [DB, login, PASSWORD, {}]})
    assert not auth.get("result"), f"{login}: /jsonrpc authenticate with the password alone gave {auth}"
    data = client.json_rpc("/jsonrpc", {"service": "object", "method": "execute_kw",
                                         "args": [DB, lab.users[login], PASSWORD, "res.partner", "search_read",
                                                  [[]], {"fields": ["name"], "limit": 1}]})
    assert "error" in data and "result" not in data, f"{login}: execute_kw with the password alone gave {data}"
    assert "AccessDenied" in json.dumps(data["error"]), data["error"]


def test_remember_this_device_is_refused(lab):
    session = login_with_totp(lab, remember=True)
    client = session.client
    set_here = [c for c in session.result.set_cookies if parse_set_cookie(c)[0] == "td_id"]
    assert not set_here, f"'remember this device' set a td_id cookie: {set_here}"
    assert "td_id" not in client.cookies, client.all_set_cookies

    assert lab.device_genuine, "the fixture's device key is not one stock Odoo would accept"
    forged = "0123456789abcdef" * 2 + "01234567"
    for label, key in (("a genuine remembered-browser key", lab.device_key), ("a forged td_id", forged)):
        lab.reset_totp_rate_limit("nurse-totp")
        browser = lab.client()
        browser.set_cookie("td_id", key)
        first = password_step(browser, "nurse-totp")
        assert first.mfa_required, f"with {label}: the password step skipped MFA: {first.status} {first.location}"
        form = browser.get("/web/login/totp")
        assert form.status == 200 and 'name="totp_token"' in form.body, (
            f"with {label}: GET /web/login/totp did not ask for the code: {form.status} {form.location}")
        assert browser.uid() is None, f"{label} skipped the second factor"


def test_every_cookie_is_secure_and_the_session_cookie_httponly(lab):
    client = login_with_totp(lab).client
    client.get("/odoo")
    client.logout()
    seen = client.all_set_cookies
    assert any(parse_set_cookie(c)[0] == "session_id" for c in seen), seen
    for line in seen:
        flags = cookie_flags(line)
        assert "secure" in flags, f"a cookie without Secure reached the client over HTTPS: {line}"
        if parse_set_cookie(line)[0] == "session_id":
            assert "httponly" in flags, f"session_id without HttpOnly: {line}"


# --- §164.312(a)(2)(iii) automatic logoff ----------------------------------------

def test_idle_timeout_and_absolute_lifetime(lab):
    """Sessions A and B of nurse-totp. A does nothing: after the idle limit
    its write is refused and not saved. B works every KEEPALIVE s: it
    outlives the idle limit, and is ended at the absolute lifetime anyway."""
    uid, pid = lab.users["nurse-totp"], lab.partner_id
    started = time.time()

    session_a = login_with_totp(lab)
    a, a_last_active = session_a.client, session_a.ready     # A's last activity is before a_last_active
    session_b = login_with_totp(lab)
    b = session_b.client                                      # B's login stamp: in [code_sent, ready]

    control = f"control-{int(time.time())}"
    saved = b.call_kw("res.partner", "write", [[pid], {"comment": control}])
    assert saved.get("result") is True, f"an active session could not write (control): {saved}"
    assert control in partner_comment(lab), "the control write is not in the database"

    def keep_b_active_until(moment: float, what: str) -> None:
        while time.time() + KEEPALIVE < moment:
            time.sleep(KEEPALIVE)
            assert b.uid() == uid, (
                f"B ended while active, {time.time() - session_b.code_sent:.0f} s after login ({what})")
        time.sleep(max(0.0, moment - time.time()))

    # A: idle past the limit, then a write that must not be saved.
    keep_b_active_until(a_last_active + IDLE + 10, "before A's idle limit")
    marker = f"idle-write-{int(time.time())}"
    answer = a.call_kw("res.partner", "write", [[pid], {"comment": marker}])
    idle_for = time.time() - a_last_active
    assert error_name(answer) == EXPIRED, f"A, idle {idle_for:.0f} s (limit {IDLE}), could still write: {answer}"
    assert marker not in partner_comment(lab), "the idle session's write was saved"
    assert a.uid() is None, "A still has a user after its idle expiry"

    # B: active all along, alive past the idle limit and up to the absolute one.
    assert b.uid() == uid, f"B ended {time.time() - session_b.code_sent:.0f} s after login although active"
    keep_b_active_until(session_b.code_sent + ABSOLUTE - MARGIN, "before the absolute lifetime")
    alive_at = time.time()
    assert b.uid() == uid, f"B ended {alive_at - session_b.code_sent:.0f} s after login (limit {ABSOLUTE} s)"
    time.sleep(max(0.0, session_b.ready + ABSOLUTE + 5 - time.time()))
    assert time.time() - alive_at < IDLE - MARGIN, (
        "the check of the absolute lifetime came too late to tell it from idle"
        f" (B's login took {session_b.ready - session_b.code_sent:.0f} s)")
    late = b.call_kw(*SEARCH_ONE)
    assert error_name(late) == EXPIRED, (
        f"B, active but {time.time() - session_b.code_sent:.0f} s after login (limit {ABSOLUTE}), still works: {late}")
    assert b.uid() is None, "B still has a user after its absolute lifetime"

    # Both forced logoffs are logged: login and client address.
    lines = [line for line in lab.journal(started).splitlines()
             if "HIPAA session limit" in line and "nurse-totp" in line]
    address = re.compile(r"\bfrom (\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+)\b")
    idle_lines = [line for line in lines if "idle for" in line]
    absolute_lines = [line for line in lines if "logged in" in line]
    assert idle_lines, f"no 'HIPAA session limit ... idle for' line for nurse-totp: {lines}"
    assert absolute_lines, f"no 'HIPAA session limit ... logged in ... ago' line for nurse-totp: {lines}"
    for line in idle_lines[-1:] + absolute_lines[-1:]:
        assert address.search(line), f"no client address in: {line}"


# --- §164.312(a)(1) one session per user -------------------------------------------

def test_a_second_login_ends_a_single_session_users_first(lab):
    """clinician-totp (in odoo_session_single_groups) logs in on client A, then
    on client B: A's next write is refused before it runs and not saved, B
    works, and the journal names the login and B's address. nurse-totp (not
    in the group) keeps both of its sessions."""
    started = time.time()
    pid = lab.partner_id
    session_a = login_with_totp(lab, "clinician-totp")
    a = session_a.client
    assert a.call_kw(*SEARCH_ONE).get("result") is not None, "A cannot work before B logs in (control)"
    session_b = login_with_totp(lab, "clinician-totp")
    b = session_b.client
    marker = f"superseded-write-{int(time.time())}"
    answer = a.call_kw("res.partner", "write", [[pid], {"comment": marker}])
    assert error_name(answer) == EXPIRED, f"A could still write after the same user's second login: {answer}"
    assert marker not in partner_comment(lab), "the superseded session's write was saved"
    assert a.uid() is None
    assert b.uid() == lab.users["clinician-totp"] and b.call_kw(*SEARCH_ONE).get("result") is not None
    lines = [line for line in lab.journal(started).splitlines()
             if "HIPAA single session" in line and "clinician-totp" in line]
    assert any("logged in; 1 earlier session(s) of this login ended" in line
               and re.search(r"\bfrom \d{1,3}(\.\d{1,3}){3}\b", line) for line in lines), lines

    # A user outside the group keeps two sessions.
    first, second = login_with_totp(lab, "nurse-totp").client, login_with_totp(lab, "nurse-totp").client
    assert first.uid() == second.uid() == lab.users["nurse-totp"]
    assert first.call_kw(*SEARCH_ONE).get("result") is not None


# --- §164.308(a)(5)(ii)(D) password management ------------------------------------

def test_weak_passwords_are_refused_on_change(lab):
    """pw-user (authenticator enabled) changes their own password through
    the web client's RPC: res.users.change_password(old, new)."""
    client = login_with_totp(lab, "pw-user").client
    hash_sql = f"SELECT password FROM res_users WHERE id = {int(lab.users['pw-user'])}"
    before = lab.psql(hash_sql)
    for weak, expected, text in (
        ("Sh0rt!pw", "odoo.exceptions.UserError", "at least 12 characters"),   # auth_password_policy
        ("lowercaseonlyletters", "odoo.exceptions.ValidationError", "Must contain the following"),  # password_security
    ):
        answer = client.call_kw("res.users", "change_password", [PASSWORD, weak])
        assert error_name(answer) == expected and text in error_message(answer), (
            f"change to {weak!r}: expected {expected} mentioning {text!r}, got {answer}")
    assert lab.psql(hash_sql) == before, "the stored password hash changed"
    assert client.uid() == lab.users["pw-user"], "the refused change ended the session"


# --- §164.312(b) audit of reads --------------------------------------------------------

def test_reads_of_a_patient_record_are_audited(lab):
    client = login_with_totp(lab).client
    uid, pid = lab.users["nurse-totp"], lab.partner_id
    since = lab.psql("SELECT (now() AT TIME ZONE 'utc') - interval '2 seconds'")
    answer = client.call_kw("res.partner", "web_read", [[pid]],
                            {"specification": {"display_name": {}, "comment": {}}})
    assert answer.get("result") and answer["result"][0]["id"] == pid, f"the form view's read failed: {answer}"
    count = lab.psql(
        "SELECT count(*) FROM auditlog_log l JOIN ir_model m ON m.id = l.model_id"
        f" WHERE m.model = 'res.partner' AND l.method = 'read' AND l.res_id = {int(pid)}"
        f" AND l.user_id = {int(uid)} AND l.create_date >= '{since}'"
        " AND l.create_date >= (now() AT TIME ZONE 'utc') - interval '5 minutes'")
    assert int(count) >= 1, f"no auditlog 'read' row for res.partner {pid} by uid {uid} since {since}"


# --- §164.312(a)(1) access control -----------------------------------------------------

def test_builtin_admin_cannot_log_in_and_the_named_administrator_is_active(lab):
    client = lab.client()
    result = password_step(client, "admin", "admin")
    assert not result.redirected and not result.mfa_required, f"admin got past the password: {result.location}"
    assert "Wrong login/password" in result.error, f"unexpected answer for admin: {result.error!r}"
    assert client.uid() is None
    assert lab.psql("SELECT login || '=' || active FROM res_users WHERE login IN ('admin', 'hipaa-admin')"
                    " ORDER BY login").split() == ["admin=false", "hipaa-admin=true"]
    in_settings = lab.psql(
        "SELECT count(*) FROM res_groups_users_rel r JOIN res_users u ON u.id = r.uid"
        " JOIN ir_model_data d ON d.model = 'res.groups' AND d.res_id = r.gid"
        " WHERE u.login = 'hipaa-admin' AND d.module = 'base' AND d.name = 'group_system'")
    assert int(in_settings) == 1, "hipaa-admin is not in base.group_system"


@pytest.mark.parametrize("method,path", [
    ("GET", "/web/database/manager"),
    ("GET", "/web/database/selector"),
    ("POST", "/web/database/list"),
])
def test_database_manager_is_refused(lab, method, path):
    client = lab.client()
    if method == "POST":
        resp = client.post_json(path, {"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1})
    else:
        resp = client.get(path)
    assert resp.status in (403, 404), f"{method} {path}: {resp.status} {resp.body[:200]!r}"


def test_odoo_reaches_postgresql_over_the_unix_socket_only(lab):
    assert lab.client().get("/web/login").status == 200   # Odoo holds its connections
    tcp = lab.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'odoo' AND client_addr IS NOT NULL")
    unix = lab.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'odoo' AND client_addr IS NULL")
    assert int(tcp) == 0, f"{tcp} connection(s) of odoo over TCP"
    assert int(unix) > 0, "no connection of odoo over the unix socket"
    assert lab.psql("SHOW listen_addresses") == "", "PostgreSQL listens on TCP"


# --- §164.308(a)(5)(ii)(C) login cooldown (last: it puts this address on cooldown) ----

def test_login_cooldown_refuses_even_the_right_password(lab):
    """Odoo counts failures per client address in each worker process: keep
    failing until every worker that answers refuses without checking, then
    the right password is refused too."""
    conf = lab.host.file("/etc/odoo/odoo.conf").content_string
    configured = re.search(r"^workers\s*=\s*(\d+)", conf, re.M)
    workers = max(1, int(configured.group(1)) if configured else 1)   # 0: one threaded process
    streak_wanted = 2 * workers + 2   # consecutive refusals: no worker left that still counts

    warmup = password_step(lab.client(), "nurse-nototp")   # a success resets this worker's count
    assert warmup.mfa_required, f"warm-up login failed: {warmup.status} {warmup.error!r}"

    client = lab.client()
    csrf = None
    answers: list[str] = []
    streak = 0
    started = time.time()
    for attempt in range(COOLDOWN_AFTER * workers * 2 + streak_wanted + 10):
        result = client.login(DB, "cooldown-user", f"wrong-password-{attempt}", csrf=csrf)
        csrf = result.csrf_token
        assert not result.mfa_required, "a wrong password got to the second factor"
        if "Too many login failures" in result.error:
            answers.append("cooldown")
            streak += 1
            if streak >= streak_wanted:
                break
        else:
            assert "Wrong login/password" in result.error, f"unexpected answer: {result.error!r}"
            answers.append("wrong")
            streak = 0
        time.sleep(0.3)
    assert streak >= streak_wanted, f"no lasting cooldown after {len(answers)} failures: {answers}"
    first_cooldown = answers.index("cooldown")   # wrong passwords answered normally before it
    if workers == 1:
        assert first_cooldown == COOLDOWN_AFTER, f"cooldown after {first_cooldown} failures: {answers}"
    else:   # each worker counts its own share of the failures
        assert 1 <= first_cooldown <= COOLDOWN_AFTER * workers, answers

    right = client.login(DB, "cooldown-user", PASSWORD, csrf=csrf)
    assert not right.redirected and not right.mfa_required, (
        f"the right password was accepted during the cooldown: {right.status} {right.location}")
    assert "Too many login failures" in right.error, f"unexpected answer: {right.error!r}"
    assert client.uid() is None
    ignored = [line for line in lab.journal(started).splitlines()
               if "Login attempt ignored" in line and "cooldown-user" in line]
    assert ignored, "Odoo logged no ignored login attempt for cooldown-user"
