"""The Odoo glue of the session-limit addon (models.py, __init__.py) wired to
a minimal stand-in of the few Odoo names it uses (TEST DOUBLE, not Odoo): the
hooks call the decisions, end the session, drop the user and log before the
parent's _authenticate runs. The real wiring is accepted on a real Odoo 18."""

import importlib.util
import logging
import pathlib
import sys
import time
import types

import pytest

ADDON = (pathlib.Path(__file__).resolve().parents[2] / "roles" / "odoo" / "files" / "addons"
         / "odoo_hipaa_session_policy")


class FakeSession(dict):
    """Odoo's Session is a mapping with attribute access and logout()."""

    def __getattr__(self, name):
        return self.get(name)

    def finalize(self, env):
        self.update(uid=self.pop("pre_uid"), login=self.pop("pre_login"))

    def logout(self, keep_db=False):
        db = self.get("db") if keep_db else None
        self.clear()
        self.update(db=db, uid=None, login=None, context={"lang": "en_US"})


class SessionExpiredException(Exception):
    pass


class Env:
    def __init__(self, cr, uid, context):
        self.cr, self.uid, self.context = cr, uid, context
        self.params = {}

    def __getitem__(self, model):
        assert model == "ir.config_parameter"
        params = self.params
        return types.SimpleNamespace(sudo=lambda: types.SimpleNamespace(get_param=params.get))


class Parent:
    calls = []

    @classmethod
    def _authenticate(cls, *args):
        Parent.calls.append(("authenticate", args))

    @classmethod
    def _serve_fallback(cls):
        Parent.calls.append(("fallback", ()))


@pytest.fixture(scope="module")
def glue():
    saved = {k: v for k, v in sys.modules.items() if k == "odoo" or k.startswith("odoo.")}
    odoo = types.ModuleType("odoo")
    odoo.__path__ = []
    http = types.ModuleType("odoo.http")
    http.Session, http.SessionExpiredException = FakeSession, SessionExpiredException
    http.request = types.SimpleNamespace()
    api = types.ModuleType("odoo.api")
    api.Environment = Env
    api.model_create_multi = lambda method: method
    models = types.ModuleType("odoo.models")
    models.AbstractModel = Parent
    addons = types.ModuleType("odoo.addons")
    addons.__path__ = [str(ADDON.parent)]
    bus_models_ws = types.ModuleType("odoo.addons.bus.models.ir_websocket")
    bus_models_ws.IrWebsocket = type("IrWebsocket", (), {"_name": "ir.websocket",
                                                         "_authenticate": classmethod(lambda cls: None)})
    bus_ws = types.ModuleType("odoo.addons.bus.websocket")
    bus_ws.wsrequest = types.SimpleNamespace()
    http.route = lambda *a, **k: (lambda f: f)
    models.Model = Parent
    exceptions = types.ModuleType("odoo.exceptions")
    exceptions.AccessDenied = type("AccessDenied", (Exception,), {})
    exceptions.AccessError = type("AccessError", (Exception,), {})
    tools = types.ModuleType("odoo.tools")
    tools.__path__ = []
    safe_eval_mod = types.ModuleType("odoo.tools.safe_eval")
    safe_eval_mod.safe_eval = eval
    totp_home = types.ModuleType("odoo.addons.auth_totp.controllers.home")
    totp_home.TRUSTED_DEVICE_COOKIE = "td_id"
    totp_home.Home = type("Home", (), {})
    odoo.http, odoo.api, odoo.models, odoo.addons, odoo.exceptions = http, api, models, addons, exceptions
    sys.modules.update({
        "odoo": odoo, "odoo.http": http, "odoo.api": api, "odoo.models": models, "odoo.addons": addons,
        "odoo.exceptions": exceptions, "odoo.tools": tools, "odoo.tools.safe_eval": safe_eval_mod,
        "odoo.addons.auth_totp": types.ModuleType("odoo.addons.auth_totp"),
        "odoo.addons.auth_totp.controllers": types.ModuleType("odoo.addons.auth_totp.controllers"),
        "odoo.addons.auth_totp.controllers.home": totp_home,
        "odoo.addons.bus": types.ModuleType("odoo.addons.bus"),
        "odoo.addons.bus.models": types.ModuleType("odoo.addons.bus.models"),
        "odoo.addons.bus.models.ir_websocket": bus_models_ws, "odoo.addons.bus.websocket": bus_ws,
    })
    spec = importlib.util.spec_from_file_location(
        "odoo.addons.odoo_hipaa_session_policy", ADDON / "__init__.py", submodule_search_locations=[str(ADDON)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    yield types.SimpleNamespace(package=package, http=http, ws=bus_ws.wsrequest)
    for name in [k for k in sys.modules if k == "odoo" or k.startswith("odoo.")]:
        del sys.modules[name]
    sys.modules.update(saved)


def _request(glue, path, session):
    req = glue.http.request
    req.session = session
    req.env = Env("cr", session.get("uid"), {})
    req.httprequest = types.SimpleNamespace(path=path, remote_addr="10.1.2.3")
    Parent.calls.clear()
    return req


def test_login_is_stamped_when_odoo_finalises_it(glue):
    session = FakeSession(pre_uid=7, pre_login="jdoe", db="odoo")
    session.finalize(None)
    assert session["odoo_hipaa_uid"] == 7
    assert abs(session["odoo_hipaa_login_at"] - time.time()) < 5
    assert session["odoo_hipaa_active_at"] == session["odoo_hipaa_login_at"]


def test_an_active_session_runs_and_its_activity_is_recorded(glue):
    now = time.time()
    session = FakeSession(uid=7, login="jdoe", db="odoo", odoo_hipaa_uid=7,
                          odoo_hipaa_login_at=now - 100, odoo_hipaa_active_at=now - 60)
    req = _request(glue, "/web/dataset/call_kw/res.partner/web_save", session)
    glue.package.models.IrHttp._authenticate("endpoint")
    assert req.env.uid == 7 and session.uid == 7
    assert session["odoo_hipaa_active_at"] >= now
    assert Parent.calls == [("authenticate", ("endpoint",))]


def test_a_stale_session_is_ended_before_the_parent_authenticates(glue, caplog):
    now = time.time()
    session = FakeSession(uid=7, login="jdoe", db="odoo", odoo_hipaa_uid=7,
                          odoo_hipaa_login_at=now - 1000, odoo_hipaa_active_at=now - 700)
    req = _request(glue, "/web/dataset/call_kw/res.partner/web_save", session)
    with caplog.at_level(logging.WARNING):
        glue.package.models.IrHttp._authenticate("endpoint")
    assert session.uid is None and session["db"] == "odoo"
    assert req.env.uid is None          # the route cannot run as the user
    assert Parent.calls == [("authenticate", ("endpoint",))]
    assert "jdoe" in caplog.text and "10.1.2.3" in caplog.text and "idle for 7" in caplog.text


def test_fallback_paths_are_checked_too(glue):
    now = time.time()
    session = FakeSession(uid=7, login="jdoe", db="odoo", odoo_hipaa_uid=7,
                          odoo_hipaa_login_at=now - 30000, odoo_hipaa_active_at=now)
    req = _request(glue, "/web/content/12", session)
    glue.package.models.IrHttp._serve_fallback()
    assert session.uid is None and req.env.uid is None and Parent.calls == [("fallback", ())]


def test_health_checks_do_not_touch_the_session(glue):
    now = time.time()
    state = dict(uid=7, login="jdoe", db="odoo", odoo_hipaa_uid=7,
                 odoo_hipaa_login_at=now - 30000, odoo_hipaa_active_at=now - 5000)
    session = FakeSession(state)
    _request(glue, "/web/health", session)
    glue.package.models.IrHttp._authenticate("endpoint")
    assert dict(session) == state


def test_websocket_messages_never_refresh_and_end_a_stale_session(glue):
    now = time.time()
    session = FakeSession(uid=7, login="jdoe", db="odoo", odoo_hipaa_uid=7,
                          odoo_hipaa_login_at=now - 100, odoo_hipaa_active_at=now - 100)
    glue.ws.session, glue.ws.env = session, Env("cr", 7, {})
    glue.package.models.IrWebsocket._authenticate()
    assert session["odoo_hipaa_active_at"] == now - 100      # not activity
    session["odoo_hipaa_active_at"] = now - 601
    with pytest.raises(SessionExpiredException):
        glue.package.models.IrWebsocket._authenticate()
    assert session.uid is None


def test_a_trusted_device_cookie_is_bounded_and_secure(glue):
    bounded = glue.package.controllers._bounded(
        "td_id=abc; Expires=Wed, 01 Mar 2027 00:00:00 GMT; Max-Age=7776000; HttpOnly; Path=/; SameSite=Lax", 1)
    attrs = [a.strip() for a in bounded.split(";")]
    assert attrs[0] == "td_id=abc"
    assert "Max-Age=86400" in attrs and "Secure" in attrs and "HttpOnly" in attrs
    assert not any(a.startswith("Expires") or a == "Max-Age=7776000" for a in attrs)


# --- one session per user (odoo_hipaa.single_session_groups) -------------------

class FakeCursor:
    """Answers the two statements the glue runs on res_device_log."""

    def __init__(self, rows):
        self.rows, self.statements, self._result = rows, [], []

    def execute(self, sql, params):
        self.statements.append((" ".join(sql.split()), params))
        if sql.startswith("SELECT DISTINCT"):
            self._result = [(r["sid"],) for r in self.rows if r["uid"] == params[0] and not r["revoked"]]
        elif sql.startswith("SELECT bool_or"):
            flags = [r["revoked"] for r in self.rows if r["sid"] == params[0]]
            self._result = [(any(flags) if flags else None,)]
        elif sql.startswith("UPDATE"):
            for r in self.rows:
                if r["sid"] in params[0]:
                    r["revoked"] = True

    def fetchall(self):
        return self._result

    def fetchone(self):
        return self._result[0] if self._result else None


class SingleSessionEnv:
    """An env whose user 7 is in lab.group_clinical; 8 is not."""

    def __init__(self, rows, groups="lab.group_clinical"):
        self.cr, self.uid, self.context = FakeCursor(rows), 7, {}
        self.params = {"odoo_hipaa.single_session_groups": groups}

    def __getitem__(self, model):
        params = self.params
        if model == "ir.config_parameter":
            return types.SimpleNamespace(sudo=lambda: types.SimpleNamespace(get_param=params.get))
        assert model == "res.users"

        def browse(uid):
            return types.SimpleNamespace(has_group=lambda g: uid == 7 and g == "lab.group_clinical")
        return types.SimpleNamespace(sudo=lambda: types.SimpleNamespace(browse=browse))


SID_A, SID_B = "a" * 42 + "rest-of-a", "b" * 42 + "rest-of-b"


@pytest.fixture()
def store(glue):
    deleted = []
    glue.http.root = types.SimpleNamespace(session_store=types.SimpleNamespace(delete_from_identifiers=deleted.extend))
    return deleted


def test_a_login_ends_the_users_earlier_sessions(glue, store, caplog):
    rows = [{"sid": SID_A[:42], "uid": 7, "revoked": False}, {"sid": "c" * 42, "uid": 8, "revoked": False}]
    env = SingleSessionEnv(rows)
    session = FakeSession(pre_uid=7, pre_login="clinician", db="odoo", sid=SID_B)
    glue.http.request.httprequest = types.SimpleNamespace(remote_addr="10.9.8.7")
    with caplog.at_level(logging.WARNING):
        session.finalize(env)
    assert store == [SID_A[:42]] and rows[0]["revoked"] and not rows[1]["revoked"]
    assert "HIPAA single session: login clinician (uid 7) from 10.9.8.7 logged in; 1 earlier session(s)" in caplog.text


def test_a_user_outside_the_groups_keeps_every_session(glue, store):
    rows = [{"sid": SID_A[:42], "uid": 8, "revoked": False}]
    session = FakeSession(pre_uid=8, pre_login="billing", db="odoo", sid=SID_B)
    session.finalize(SingleSessionEnv(rows))
    assert store == [] and not rows[0]["revoked"]
    session = FakeSession(pre_uid=7, pre_login="clinician", db="odoo", sid=SID_B)
    session.finalize(SingleSessionEnv([{"sid": SID_A[:42], "uid": 7, "revoked": False}], groups=""))
    assert store == []


def test_a_revoked_session_is_ended_before_the_parent_authenticates(glue, caplog):
    now = time.time()
    session = FakeSession(uid=7, login="clinician", db="odoo", sid=SID_A, odoo_hipaa_uid=7,
                          odoo_hipaa_login_at=now - 10, odoo_hipaa_active_at=now - 5)
    req = _request(glue, "/web/dataset/call_kw/res.partner/web_save", session)
    req.env = SingleSessionEnv([{"sid": SID_A[:42], "uid": 7, "revoked": True}])
    with caplog.at_level(logging.WARNING):
        glue.package.models.IrHttp._authenticate("endpoint")
    assert session.uid is None and req.env.uid is None
    assert Parent.calls == [("authenticate", ("endpoint",))]
    assert "a later login of the same user ended it" in caplog.text
    # The newer session of the same user runs.
    session = FakeSession(uid=7, login="clinician", db="odoo", sid=SID_B, odoo_hipaa_uid=7,
                          odoo_hipaa_login_at=now - 10, odoo_hipaa_active_at=now - 5)
    req = _request(glue, "/web/dataset/call_kw/res.partner/web_save", session)
    req.env = SingleSessionEnv([{"sid": SID_A[:42], "uid": 7, "revoked": True}, {"sid": SID_B[:42], "uid": 7, "revoked": False}])
    glue.package.models.IrHttp._authenticate("endpoint")
    assert session.uid == 7
