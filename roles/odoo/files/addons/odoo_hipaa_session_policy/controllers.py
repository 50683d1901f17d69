# Copyright: onprem.odoo_hipaa contributors
# License: GPL-3.0-or-later (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""§164.312(d): Odoo's "remember this device" on the second-factor form.

auth_totp sets a trusted-device cookie (td_id, 90 days, no Secure) that skips
the second factor on that browser. On shared clinical workstations that is a
single-factor login for three months, so the option is refused unless
odoo_hipaa.mfa_trusted_device_days allows it (then the cookie and the device
key last at most that many days; models.py refuses older devices).
"""

import logging

from odoo import http
from odoo.addons.auth_totp.controllers import home as totp_home
from odoo.http import request

from . import session_policy as policy

_logger = logging.getLogger("odoo.addons.odoo_hipaa_session_policy")


def trusted_days(env):
    return policy.trusted_device_days(env["ir.config_parameter"].sudo().get_param(policy.PARAM_TRUSTED_DAYS))


class Home(totp_home.Home):
    @http.route()
    def web_totp(self, redirect=None, **kwargs):
        days = trusted_days(request.env)
        if days <= 0 and kwargs.pop("remember", None):
            _logger.info("HIPAA MFA: 'remember this device' refused for uid %s from %s (trusted devices are off)",
                         request.session.pre_uid, request.httprequest.remote_addr)
        response = super().web_totp(redirect=redirect, **kwargs)
        if days > 0:
            # Bound the cookie like the device key (models.py): days, not 90.
            cookies = response.headers.getlist("Set-Cookie")
            response.headers.setlist("Set-Cookie", [
                _bounded(c, days) if c.split("=", 1)[0] == totp_home.TRUSTED_DEVICE_COOKIE else c
                for c in cookies])
        return response


def _bounded(cookie, days):
    """The td_id Set-Cookie line with Max-Age/Expires of at most `days`, Secure."""
    parts = [p.strip() for p in cookie.split(";")]
    kept = [p for p in parts if p.split("=", 1)[0].lower() not in ("max-age", "expires", "secure")]
    return "; ".join(kept + ["Max-Age=%d" % (days * 86400), "Secure"])
