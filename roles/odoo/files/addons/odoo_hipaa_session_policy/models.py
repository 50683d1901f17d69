# Copyright: onprem.odoo_hipaa contributors
# License: GPL-3.0-or-later (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Odoo glue: where the session-limit decisions (session_policy.py) are
applied. Every hook runs before the request executes as the session's user.

- ir.http._authenticate(endpoint): Odoo 17/18/19 call it for every routed
  request after the session is loaded and before _pre_dispatch and the route;
- ir.http._serve_fallback(): paths no route matches (attachments by URL,
  website pages) are served without _authenticate, so they are checked too;
- ir.websocket._authenticate(): each websocket message; never activity.
"""

import datetime
import inspect
import logging
import time

from odoo import api, http, models
from odoo.exceptions import AccessDenied, AccessError
from odoo.tools.safe_eval import safe_eval
from odoo.addons.bus.models import ir_websocket as bus_ir_websocket
from odoo.addons.bus.websocket import wsrequest
from odoo.http import SessionExpiredException, request

from . import session_policy as policy

_logger = logging.getLogger("odoo.addons.odoo_hipaa_session_policy")


def _limits(env):
    params = env["ir.config_parameter"].sudo()
    return policy.limits(params.get_param(policy.PARAM_IDLE), params.get_param(policy.PARAM_ABSOLUTE))


def _client_ip(req):
    httprequest = getattr(req, "httprequest", None)
    return getattr(httprequest, "remote_addr", None) or "unknown (websocket)"


def _single_session(env, uid):
    """Whether uid may hold one session only (a member of a group named in
    odoo_hipaa.single_session_groups)."""
    groups = policy.single_session_groups(
        env["ir.config_parameter"].sudo().get_param(policy.PARAM_SINGLE_SESSION))
    if not groups or uid is None:
        return False
    user = env["res.users"].sudo().browse(uid)
    for group in groups:
        try:
            if user.has_group(group):
                return True
        except ValueError:   # a group that does not exist (yet): nobody is in it
            continue
    return False


def end_other_sessions(env, session, ip):
    """§164.312(a)(1): at a completed login of a single-session user, end the
    user's other sessions (their files are deleted, their device log rows
    marked revoked, as Odoo's own "log out of this device" does). Returns
    how many were ended."""
    uid = session.uid
    if not _single_session(env, uid):
        return 0
    env.cr.execute("SELECT DISTINCT session_identifier FROM res_device_log WHERE user_id = %s AND NOT revoked",
                   [uid])
    others = policy.others_to_end(session.sid, [row[0] for row in env.cr.fetchall()])
    if not others:
        return 0
    http.root.session_store.delete_from_identifiers(others)
    env.cr.execute("UPDATE res_device_log SET revoked = true WHERE session_identifier IN %s", [tuple(others)])
    _logger.warning(
        "HIPAA single session: login %s (uid %s) from %s logged in; %d earlier session(s) of this login ended",
        session.login, uid, ip, len(others))
    return len(others)


def _superseded(env, session):
    """A single-session user's session that a later login revoked (its file
    may have been written back by a request still running at that moment)."""
    if not _single_session(env, session.uid):
        return False
    env.cr.execute("SELECT bool_or(revoked) FROM res_device_log WHERE session_identifier = %s",
                   [policy.session_identifier(session.sid)])
    row = env.cr.fetchone()
    return bool(row and row[0])


def expire_if_needed(req, path, passive=False):
    """End req.session when it is idle or too old; record activity otherwise.

    Returns True when the session was ended (the caller then makes sure the
    request does not run as the user). Runs before the route executes.
    """
    session = req.session
    uid = session.uid
    if uid is None:
        return False
    kind = policy.route_kind(path)
    if passive and kind == "active":
        kind = "passive"
    if kind != "exempt" and _superseded(req.env, session):
        _logger.warning(
            "HIPAA single session: session of login %s (uid %s) from %s ended before %s ran: "
            "a later login of the same user ended it", session.get("login"), uid, _client_ip(req), path)
        session.logout(keep_db=True)
        return True
    now = time.time()
    idle, absolute = _limits(req.env)
    verdict, updates = policy.decide(session, uid, now, idle, absolute, kind)
    if verdict == policy.CONTINUE:
        if updates:
            session.update(updates)
        return False
    # §164.312(a)(2)(iii), §164.312(b): every forced logoff is logged.
    _logger.warning(
        "HIPAA session limit: session of login %s (uid %s) from %s ended before %s ran: %s "
        "(idle limit %d s, absolute limit %d s)",
        session.get("login"), uid, _client_ip(req), path,
        policy.describe(verdict, session, now), idle, absolute,
    )
    session.logout(keep_db=True)
    return True


def drop_user(req):
    """After a forced logout: the rest of the request runs as nobody, as in
    Odoo's own ir.http._authenticate after a failed session check."""
    req.env = api.Environment(req.env.cr, None, req.session.context)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    # Odoo 17/18/19 call ir.http._authenticate(endpoint) for every routed
    # request after the session is loaded and before _pre_dispatch and the
    # route itself; the session is checked first, so a stale session never
    # reaches _auth_method_user as a user (auth="user" routes then raise
    # SessionExpiredException: login page or a session-expired RPC error).
    @classmethod
    def _authenticate(cls, endpoint):
        if expire_if_needed(request, request.httprequest.path):
            drop_user(request)
        return super()._authenticate(endpoint)

    # Paths no route matches (attachments by URL, website pages) are served
    # by _serve_fallback without _authenticate: check them here too.
    @classmethod
    def _serve_fallback(cls, *args, **kwargs):
        if expire_if_needed(request, request.httprequest.path):
            drop_user(request)
        return super()._serve_fallback(*args, **kwargs)


def _parent_is_classmethod():
    # ir.websocket._authenticate is a classmethod in 17.0/18.0 and may be an
    # instance method in later series; follow whichever the bus module has.
    for value in vars(bus_ir_websocket).values():
        if inspect.isclass(value) and getattr(value, "_name", None) == "ir.websocket":
            return isinstance(inspect.getattr_static(value, "_authenticate", None), classmethod)
    return True


def _check():
    if expire_if_needed(wsrequest, "/websocket", passive=True):
        raise SessionExpiredException("Session expired (HIPAA session limit)")


if _parent_is_classmethod():

    class IrWebsocket(models.AbstractModel):
        _inherit = "ir.websocket"

        @classmethod
        def _authenticate(cls):
            _check()
            return super()._authenticate()

else:

    class IrWebsocket(models.AbstractModel):  # noqa: F811 (one of the two is defined)
        _inherit = "ir.websocket"

        def _authenticate(self):
            _check()
            return super()._authenticate()


class AuthTotpDevice(models.Model):
    """§164.312(d): a trusted browser (td_id) skips the second factor only
    while odoo_hipaa.mfa_trusted_device_days allows it: never when 0 (the
    default), and for a device key no older than that many days otherwise."""

    _inherit = "auth_totp.device"

    def _trusted_days(self):
        return policy.trusted_device_days(
            self.env["ir.config_parameter"].sudo().get_param(policy.PARAM_TRUSTED_DAYS))

    def _check_credentials_for_uid(self, *, scope, key, uid):
        if scope != "browser":
            return super()._check_credentials_for_uid(scope=scope, key=key, uid=uid)
        days = self._trusted_days()
        if days <= 0:
            return False
        if not super()._check_credentials_for_uid(scope=scope, key=key, uid=uid):
            return False
        # The matching key (same index as Odoo's own lookup) must be recent.
        self.env.cr.execute(
            "SELECT 1 FROM auth_totp_device WHERE user_id = %s AND scope = 'browser' AND index = %s"
            " AND create_date >= (now() at time zone 'utc') - make_interval(days => %s)",
            [uid, key[:8], days])
        return bool(self.env.cr.fetchone())

    # Odoo 17.0 calls _generate(scope, name); 18.0 and 19.0 add expiration_date.
    def _generate(self, scope, name, *args, **kwargs):
        if scope == "browser":
            days = self._trusted_days()
            if days <= 0:
                raise AccessDenied("Trusted devices are off (odoo_hipaa.mfa_trusted_device_days = 0)")
            bound = datetime.datetime.now() + datetime.timedelta(days=days)
            if args:
                args = (min(args[0], bound) if args[0] else bound,) + tuple(args[1:])
            elif "expiration_date" in kwargs:
                kwargs["expiration_date"] = min(kwargs["expiration_date"], bound) if kwargs["expiration_date"] else bound
        return super()._generate(scope, name, *args, **kwargs)


class ResUsers(models.Model):
    """§164.312(d): under an MFA policy, external RPC (/xmlrpc, /jsonrpc)
    takes an API key, never the password alone. Odoo itself asks for a key
    only from users with an authenticator app; a user whose second factor is
    the e-mailed code (auth_totp_mail_enforce) could otherwise call RPC with
    the password alone."""

    _inherit = "res.users"

    def _rpc_api_keys_only(self):
        return bool(self._mfa_type()) or super()._rpc_api_keys_only()

    def _check_credentials(self, *args, **kwargs):
        """§164.312(d): under odoo_hipaa.passkey_required_groups, a privileged
        user's password login is refused (Odoo then logs the failed login and
        counts it for the cooldown). Odoo 17 returns no auth_info: unchanged."""
        auth_info = super()._check_credentials(*args, **kwargs)
        if isinstance(auth_info, dict) and auth_info.get("auth_method") == "password":
            groups = policy.single_session_groups(
                self.env["ir.config_parameter"].sudo().get_param(policy.PARAM_PASSKEY_GROUPS))
            user = self.env.user.sudo()
            member = any(user.has_group(g) for g in groups if self.env.ref(g, raise_if_not_found=False))
            if policy.passkey_refused(auth_info["auth_method"], member):
                _logger.warning("HIPAA passkey required: login of %s (uid %s) refused (method password)",
                                user.login, user.id)
                raise AccessDenied()
        return auth_info

    @api.model_create_multi
    def create(self, vals_list):
        """§164.312(a)(1): the named administrators (IT Admin, who reads no
        ePHI) create users. Odoo makes a new user's contact first and checks
        it before the user exists, when IT Admin's no-PHI rule cannot tell it
        from a patient's. For a user-administrator, that contact is made here
        as superuser from the user's own fields. Linking a user to an existing
        contact still needs the right to read it, so no patient's contact
        becomes readable by being made a user."""
        if self.env.su or not self.env.user.has_group("base.group_erp_manager"):
            return super().create(vals_list)
        _check_access(self, "create")
        partners = self.env["res.partner"]
        prepared = []
        for vals in vals_list:
            vals = dict(vals)
            if vals.get("partner_id"):
                _check_access(partners.browse(vals["partner_id"]), "read")
            else:
                inherited = {k: vals.pop(k) for k in list(vals) if k in self._fields and self._fields[k].inherited}
                vals["partner_id"] = partners.sudo().create(inherited).id
                _logger.info("HIPAA user contact: %s (partner %s) made for a new user by uid %s",
                             inherited.get("name"), vals["partner_id"], self.env.uid)
            prepared.append(vals)
        return super().create(prepared)


def _check_access(records, operation):
    """The ACL and record rules for operation, as the current user (Odoo 18
    merged the two checks into check_access)."""
    if hasattr(type(records), "check_access"):
        records.check_access(operation)
    else:
        records.check_access_rights(operation)
        records.check_access_rule(operation)


class Base(models.AbstractModel):
    """§164.312(a)(1), §164.514(d): archiving (or restoring) a record of a PHI
    model that holds PHI is a soft delete, the deleting roles' alone
    (odoo_hipaa.phi_archive: the roles with d on the model). A deleting role
    may archive even without the right to write the record, and then writes
    nothing but `active`. Each archive, and each refusal, is logged."""

    _inherit = "base"

    def write(self, vals):
        if "active" not in vals or not self or self.env.su:
            return super().write(vals)
        spec = policy.phi_archive(
            self.env["ir.config_parameter"].sudo().get_param(policy.PARAM_PHI_ARCHIVE)).get(self._name)
        if not spec:
            return super().write(vals)
        changing = self.sudo().filtered(lambda record: bool(record.active) != bool(vals["active"]))
        phi = changing - changing.filtered_domain(safe_eval(spec["domain"], {"user": self.env.user}))
        user = self.env.user
        is_archiver = any(user.has_group(group) for group in spec["archivers"]
                          if self.env.ref(group, raise_if_not_found=False))
        verdict = policy.archive_verdict(set(vals), False, bool(phi), is_archiver)
        what = "%s %s of %s" % ("archive" if not vals["active"] else "restore", self._name, sorted(phi.ids)[:20])
        if verdict == policy.REFUSE:
            _logger.warning("HIPAA archive refused: %s by %s (uid %s)", what, user.login, user.id)
            raise AccessError("Only the roles that may delete %s records archive or restore them (HIPAA minimum "
                              "necessary)%s." % (self._description, "; write `active` alone" if is_archiver else ""))
        if verdict == policy.ARCHIVER:
            _logger.info("HIPAA archive: %s by %s (uid %s)", what, user.login, user.id)
            return super(Base, self.sudo()).write(vals)
        return super().write(vals)
