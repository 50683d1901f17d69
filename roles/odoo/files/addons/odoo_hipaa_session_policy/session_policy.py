# Copyright: onprem.odoo_hipaa contributors
# License: GPL-3.0-or-later (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Session-limit decisions, kept free of any Odoo import so that unit tests
cover them without Odoo (tests/unit/test_session_policy.py).

HIPAA §164.312(a)(2)(iii) automatic logoff: a session idle longer than the
idle timeout, or older than the absolute lifetime, is ended before the request
that arrives on it runs as the user.

§164.312(a)(1) access control, one session per user: a member of the groups
named in odoo_hipaa.single_session_groups holds one session at a time; a
completed login ends the user's earlier sessions.

§164.312(d): members of the groups named in odoo_hipaa.passkey_required_groups
(the privileged roles, when the site requires it) log in with a passkey only:
a password login is refused, logged.

§164.312(a)(1), §164.514(d): archiving a record of a PHI model is a soft
delete: only the roles that may delete its records archive (or restore) them;
odoo_hipaa.phi_archive names them per model with the domain of its records
that hold no PHI (archiving those stays with whoever may write them).

The Odoo glue (models.py, __init__.py) only
reads the session, calls decide() and acts on the answer.
"""

import json
import re

# Keys this module stores in the Odoo session (a JSON-serialisable dict).
KEY_UID = "odoo_hipaa_uid"
KEY_LOGIN_AT = "odoo_hipaa_login_at"
KEY_ACTIVE_AT = "odoo_hipaa_active_at"

# ir.config_parameter names and the defaults used when a parameter is missing
# or unreadable (the safe values of the role's defaults).
PARAM_TRUSTED_DAYS = "odoo_hipaa.mfa_trusted_device_days"
PARAM_IDLE = "odoo_hipaa.session_idle_timeout"
PARAM_ABSOLUTE = "odoo_hipaa.session_absolute_lifetime"
PARAM_SINGLE_SESSION = "odoo_hipaa.single_session_groups"
PARAM_PHI_ARCHIVE = "odoo_hipaa.phi_archive"
PARAM_PASSKEY_GROUPS = "odoo_hipaa.passkey_required_groups"
DEFAULT_IDLE = 600
DEFAULT_ABSOLUTE = 28800
# A value outside these bounds is a mistake (or tampering): use the default.
MIN_SECONDS = 60
MAX_IDLE = 86400
MAX_ABSOLUTE = 7 * 86400

# The last-activity time is written to the session only when it moved by at
# least this much, so that a burst of RPC calls does not rewrite the session
# file each time. It can only shorten the idle window, never lengthen it.
TOUCH_GRANULARITY = 5

# Routes that neither are checked nor count as activity: they never run as the
# user and must answer without a session (load balancer probe, static files).
_EXEMPT = re.compile(
    r"^/(?:web/health$"
    r"|web/static/"
    r"|web/assets/"
    r"|[A-Za-z0-9_]+/static/"
    r"|favicon\.ico$)"
)
# Routes that are checked (an expired session is ended there too) but do not
# count as user activity: the bus/websocket traffic a browser tab sends on its
# own, and the login page itself (a visit to it is not work done in a session).
_PASSIVE = re.compile(
    r"^/(?:websocket(?:/|$)"
    r"|longpolling/"
    r"|bus/"
    r"|calendar/notify$"
    r"|web/login$"
    r"|web/login/totp$)"
)

# A group's external id (module.name), as Odoo's has_group takes it.
_XMLID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
# Odoo's res.device.log keeps the first 42 characters of a session id.
SESSION_IDENTIFIER_LENGTH = 42

CONTINUE = "continue"
EXPIRED_IDLE = "idle"
EXPIRED_ABSOLUTE = "absolute"


def route_kind(path):
    """'exempt', 'passive' or 'active' for a request path."""
    path = path or "/"
    if _EXEMPT.match(path):
        return "exempt"
    if _PASSIVE.match(path):
        return "passive"
    return "active"


def _as_seconds(value, default, upper):
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    if seconds < MIN_SECONDS or seconds > upper:
        return default
    return seconds


def limits(idle_value, absolute_value):
    """(idle, absolute) in seconds from raw ir.config_parameter values
    (strings or None); a missing or out-of-range value gives the default."""
    return (
        _as_seconds(idle_value, DEFAULT_IDLE, MAX_IDLE),
        _as_seconds(absolute_value, DEFAULT_ABSOLUTE, MAX_ABSOLUTE),
    )


def trusted_device_days(value):
    """Days a "remember this device" (td_id) login may skip the second factor:
    0 (refused) when the parameter is missing, unreadable or out of 0..90."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return days if 0 <= days <= 90 else 0


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def decide(state, uid, now, idle, absolute, kind="active"):
    """Decide what to do with a request on a session.

    state: the session's dict (or any mapping) holding the keys above.
    uid: the session's user id (None when nobody is logged in).
    now: current time (seconds since the epoch).
    Returns (verdict, updates): verdict is CONTINUE, EXPIRED_IDLE or
    EXPIRED_ABSOLUTE; updates is a dict of keys to write into the session
    (empty when nothing needs writing).
    """
    if uid is None or kind == "exempt":
        return CONTINUE, {}
    login_at = _number(state.get(KEY_LOGIN_AT))
    active_at = _number(state.get(KEY_ACTIVE_AT))
    if state.get(KEY_UID) != uid or login_at is None or active_at is None:
        # A session we have not stamped (the login happened through a path
        # that did not stamp it, the addon was just installed, or another user
        # logged in on this session): its clock starts now.
        return CONTINUE, stamp(uid, now)
    # A clock in the future (time went backwards, a tampered store) is not
    # trusted to extend a session: treat it as stale.
    if login_at > now + 60 or active_at > now + 60:
        return EXPIRED_ABSOLUTE, {}
    if now - login_at >= absolute:
        return EXPIRED_ABSOLUTE, {}
    if now - active_at >= idle:
        return EXPIRED_IDLE, {}
    if kind == "active" and now - active_at >= TOUCH_GRANULARITY:
        return CONTINUE, {KEY_ACTIVE_AT: now}
    return CONTINUE, {}


def stamp(uid, now):
    """The keys written when a user logs in."""
    return {KEY_UID: uid, KEY_LOGIN_AT: now, KEY_ACTIVE_AT: now}


def describe(verdict, state, now):
    """A short human-readable reason for the log line."""
    if verdict == EXPIRED_IDLE:
        active_at = _number(state.get(KEY_ACTIVE_AT)) or now
        return "idle for %d s" % int(now - active_at)
    if verdict == EXPIRED_ABSOLUTE:
        login_at = _number(state.get(KEY_LOGIN_AT)) or now
        return "logged in %d s ago" % int(now - login_at)
    return "active"


def single_session_groups(value):
    """The group external ids of odoo_hipaa.single_session_groups (comma
    separated); anything that is not module.name is ignored."""
    if not value:
        return []
    names = (part.strip() for part in str(value).split(","))
    return sorted({name for name in names if _XMLID.match(name)})


def session_identifier(sid):
    """The prefix of a session id that Odoo's device log stores."""
    return (sid or "")[:SESSION_IDENTIFIER_LENGTH]


def others_to_end(current_sid, identifiers):
    """The device log's session identifiers of the user to end at a login:
    every one but the session that is logging in (de-duplicated, sorted)."""
    mine = session_identifier(current_sid)
    return sorted({i for i in identifiers if i and i != mine})


def phi_archive(value):
    """{model: {"domain": text, "archivers": [xml ids]}} from odoo_hipaa.phi_archive
    (JSON). Unreadable or missing: {} (the guard then guards nothing, as before
    the role set it; the evidence matrix still shows the roles)."""
    try:
        data = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    out = {}
    for model, spec in data.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("domain"), str):
            continue
        archivers = spec.get("archivers") if isinstance(spec.get("archivers"), list) else []
        out[model] = {"domain": spec["domain"], "archivers": sorted({g for g in archivers if _XMLID.match(str(g))})}
    return out


# archive_verdict's answers
PASS = "pass"            # not an archive of PHI: the write goes on as Odoo decides
ARCHIVER = "archiver"    # a deleting role archives or restores: allowed, for `active` alone
REFUSE = "refuse"


def archive_verdict(fields, superuser, phi_records_change, is_archiver):
    """What the write guard does with a write of `fields` (the keys written).
    phi_records_change: some record's `active` really changes and it holds
    PHI (it is outside the model's no-PHI domain)."""
    if superuser or "active" not in fields or not phi_records_change:
        return PASS
    if is_archiver and set(fields) == {"active"}:
        return ARCHIVER
    return REFUSE


def passkey_refused(auth_method, is_member):
    """A login is refused when its user must use a passkey and it used the
    password (Odoo 18: auth_info auth_method 'password'; a passkey login is
    'passkey', an API key 'apikey', which stay as they are)."""
    return bool(is_member) and auth_method == "password"
