# Copyright: onprem.odoo_hipaa contributors
# License: GPL-3.0-or-later (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HIPAA session limits. The decisions live in session_policy.py (no Odoo
import, unit-tested); this package is the thin Odoo glue:

- models.py: checked in ir.http._authenticate (and _serve_fallback),
  which Odoo calls before the route runs as the user, and on each
  websocket message (never counted as activity);
- below: login time stamped when Odoo finalises a login (after MFA), and
  for a single-session user, the user's earlier sessions ended.
"""

import logging
import time

from odoo import http

from . import controllers, models, session_policy  # noqa: F401

_original_finalize = getattr(http.Session, "finalize", None)


_logger = logging.getLogger("odoo.addons.odoo_hipaa_session_policy")


def _finalize_and_stamp(self, *args, **kwargs):
    result = _original_finalize(self, *args, **kwargs)
    if self.uid is not None:
        self.update(session_policy.stamp(self.uid, time.time()))
        env = args[0] if args else kwargs.get("env")
        if env is not None:
            try:
                try:
                    ip = models._client_ip(http.request)
                except RuntimeError:   # no request bound (a login outside HTTP)
                    ip = "unknown"
                models.end_other_sessions(env, self, ip)
            except Exception:  # the login stands; the next requests check the device log again
                _logger.exception("HIPAA single session: could not end the earlier sessions of uid %s", self.uid)
    return result


# Imported once per process (server-wide module); never wrap twice.
if _original_finalize is not None and not getattr(_original_finalize, "_odoo_hipaa", False):
    _finalize_and_stamp._odoo_hipaa = True
    http.Session.finalize = _finalize_and_stamp
