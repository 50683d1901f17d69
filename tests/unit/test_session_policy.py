"""Unit tests for the session-limit decisions of the Odoo addon
(roles/odoo/files/addons/odoo_hipaa_session_policy/session_policy.py),
without Odoo. HIPAA §164.312(a)(2)(iii)."""

import importlib.util
import pathlib

import pytest

_PATH = (pathlib.Path(__file__).resolve().parents[2] / "roles" / "odoo" / "files" / "addons"
         / "odoo_hipaa_session_policy" / "session_policy.py")
_spec = importlib.util.spec_from_file_location("session_policy", _PATH)
policy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(policy)

T0 = 1_700_000_000.0
IDLE, ABSOLUTE = 600, 28800


def _session(uid=7, login_at=T0, active_at=T0):
    return {policy.KEY_UID: uid, policy.KEY_LOGIN_AT: login_at, policy.KEY_ACTIVE_AT: active_at}


def test_no_user_means_nothing_to_check():
    assert policy.decide({}, None, T0, IDLE, ABSOLUTE) == (policy.CONTINUE, {})


def test_fresh_activity_continues_and_is_recorded():
    verdict, updates = policy.decide(_session(), 7, T0 + 30, IDLE, ABSOLUTE)
    assert verdict == policy.CONTINUE
    assert updates == {policy.KEY_ACTIVE_AT: T0 + 30}


def test_activity_within_granularity_is_not_rewritten():
    assert policy.decide(_session(), 7, T0 + 2, IDLE, ABSOLUTE) == (policy.CONTINUE, {})


@pytest.mark.parametrize("elapsed,verdict", [
    (IDLE - 1, policy.CONTINUE),
    (IDLE, policy.EXPIRED_IDLE),
    (IDLE + 75, policy.EXPIRED_IDLE),
])
def test_idle_limit_is_inclusive(elapsed, verdict):
    assert policy.decide(_session(), 7, T0 + elapsed, IDLE, ABSOLUTE)[0] == verdict


def test_the_first_stale_request_is_refused():
    """The OCA module let the first stale request run; here the request that
    arrives after the idle limit is the one refused (no update is written)."""
    assert policy.decide(_session(), 7, T0 + IDLE + 1, IDLE, ABSOLUTE) == (policy.EXPIRED_IDLE, {})


def test_absolute_lifetime_wins_over_activity():
    state = _session(login_at=T0, active_at=T0 + ABSOLUTE - 10)
    assert policy.decide(state, 7, T0 + ABSOLUTE, IDLE, ABSOLUTE)[0] == policy.EXPIRED_ABSOLUTE


def test_a_busy_session_still_ends_at_the_absolute_lifetime():
    state = _session()
    now = T0
    while True:
        now += 300
        verdict, updates = policy.decide(state, 7, now, IDLE, ABSOLUTE)
        if verdict != policy.CONTINUE:
            break
        state.update(updates)
    assert verdict == policy.EXPIRED_ABSOLUTE
    assert now - T0 == ABSOLUTE


def test_passive_routes_are_checked_but_never_refresh_activity():
    state = _session()
    for step in range(1, 4):
        verdict, updates = policy.decide(state, 7, T0 + step * 100, IDLE, ABSOLUTE, "passive")
        assert verdict == policy.CONTINUE and updates == {}
    assert policy.decide(state, 7, T0 + IDLE, IDLE, ABSOLUTE, "passive")[0] == policy.EXPIRED_IDLE


def test_exempt_routes_are_not_checked():
    assert policy.decide(_session(), 7, T0 + 10 * ABSOLUTE, IDLE, ABSOLUTE, "exempt") == (policy.CONTINUE, {})


@pytest.mark.parametrize("state", [{}, _session(uid=8), _session(login_at=None), _session(active_at="x")])
def test_unstamped_or_other_users_session_starts_its_clock_now(state):
    verdict, updates = policy.decide(state, 7, T0 + 5000, IDLE, ABSOLUTE)
    assert verdict == policy.CONTINUE
    assert updates == policy.stamp(7, T0 + 5000)


def test_a_clock_in_the_future_does_not_extend_a_session():
    state = _session(login_at=T0 + 3600, active_at=T0 + 3600)
    assert policy.decide(state, 7, T0, IDLE, ABSOLUTE)[0] == policy.EXPIRED_ABSOLUTE


@pytest.mark.parametrize("path,kind", [
    ("/web/health", "exempt"),
    ("/web/static/src/img/logo.png", "exempt"),
    ("/web/assets/1/web.assets_web.min.js", "exempt"),
    ("/mail/static/src/sounds/x.mp3", "exempt"),
    ("/favicon.ico", "exempt"),
    ("/websocket", "passive"),
    ("/websocket/peek_notifications", "passive"),
    ("/websocket/update_bus_presence", "passive"),
    ("/calendar/notify", "passive"),
    ("/web/login", "passive"),
    ("/web/login/totp", "passive"),
    ("/web/dataset/call_kw/res.partner/web_save", "active"),
    ("/web/health/../dataset/call_kw", "active"),
    ("/web/healthcheck", "active"),
    ("/web/image/res.partner/3/avatar_128", "active"),
    ("/web/content/12", "active"),
    ("/odoo/contacts/3", "active"),
    ("/websocketx", "active"),
    ("/web/login/other", "active"),
    ("/json/2/res.partner/search_read", "active"),
    ("", "active"),
    (None, "active"),
])
def test_route_kinds(path, kind):
    assert policy.route_kind(path) == kind


@pytest.mark.parametrize("idle,absolute,expected", [
    (None, None, (600, 28800)),
    ("900", "3600", (900, 3600)),
    (" 300 ", "28800", (300, 28800)),
    ("abc", "", (600, 28800)),
    ("0", "-5", (600, 28800)),
    ("86401", str(7 * 86400 + 1), (600, 28800)),
    ("59", "59", (600, 28800)),
])
def test_limits_fall_back_to_safe_defaults(idle, absolute, expected):
    assert policy.limits(idle, absolute) == expected


def test_describe_names_the_reason():
    state = _session()
    assert policy.describe(policy.EXPIRED_IDLE, state, T0 + 700) == "idle for 700 s"
    assert policy.describe(policy.EXPIRED_ABSOLUTE, state, T0 + 30000) == "logged in 30000 s ago"


@pytest.mark.parametrize("raw, days", [(None, 0), ("", 0), ("0", 0), ("1", 1), ("30", 30), ("90", 90),
                                       ("91", 0), ("-1", 0), ("one", 0)])
def test_trusted_device_days_is_refused_unless_set_within_range(raw, days):
    assert policy.trusted_device_days(raw) == days


@pytest.mark.parametrize("value,groups", [
    (None, []), ("", []), ("base.group_user", ["base.group_user"]),
    (" lab.group_nurse , base.group_user,lab.group_nurse", ["base.group_user", "lab.group_nurse"]),
    ("group_user, base.group user, BASE.X, base.group_user;drop", []),
])
def test_single_session_groups_are_external_ids_only(value, groups):
    assert policy.single_session_groups(value) == groups


def test_a_login_ends_every_other_session_of_the_user():
    mine = "m" * 42 + "tail"
    assert policy.others_to_end(mine, ["m" * 42, "a" * 42, "a" * 42, None, "b" * 42]) == ["a" * 42, "b" * 42]
    assert policy.others_to_end(mine, []) == []


# --- archiving PHI is a soft delete (odoo_hipaa.phi_archive) -------------------

def test_phi_archive_reads_the_parameter_and_drops_what_it_cannot_use():
    value = ('{"res.partner": {"domain": "[(\'is_company\', \'=\', True)]", '
             '"archivers": ["odoo_hipaa_roles.role_privacy_officer", "not an id"]}, "bad": 3}')
    assert policy.phi_archive(value) == {"res.partner": {
        "domain": "[('is_company', '=', True)]", "archivers": ["odoo_hipaa_roles.role_privacy_officer"]}}
    assert policy.phi_archive("{not json") == {} and policy.phi_archive(None) == {} and policy.phi_archive("[1]") == {}


@pytest.mark.parametrize("fields, su, phi, archiver, verdict", [
    ({"name"}, False, True, False, "pass"),                 # no archive
    ({"active"}, True, True, False, "pass"),                # the superuser (Odoo's own sudo work)
    ({"active"}, False, False, False, "pass"),              # no PHI record changes state
    ({"active"}, False, True, False, "refuse"),             # a nurse archives a patient
    ({"active"}, False, True, True, "archiver"),            # the privacy officer archives
    ({"active", "comment"}, False, True, True, "refuse"),   # ... and may not write more with it
])
def test_only_a_deleting_role_archives_phi(fields, su, phi, archiver, verdict):
    assert policy.archive_verdict(fields, su, phi, archiver) == verdict


@pytest.mark.parametrize("method, member, refused", [
    ("password", True, True), ("passkey", True, False), ("apikey", True, False), ("password", False, False),
    (None, True, False),
])
def test_a_privileged_password_login_is_refused_when_passkeys_are_required(method, member, refused):
    assert policy.passkey_refused(method, member) is refused
