# Copyright: onprem.odoo_hipaa contributors
# License: GPL-3.0-or-later (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HIPAA session limits. The decisions live in session_policy.py (no Odoo
import, unit-tested); this package is the thin Odoo glue:

- models.py: checked in ir.http._authenticate (and _serve_fallback),
  which Odoo calls before the route runs as the user, and on each
  websocket message (never counted as activity);
- below: login time stamped when Odoo finalises a login (after MFA).
"""

import time

from odoo import http

from . import controllers, models, session_policy  # noqa: F401

_original_finalize = getattr(http.Session, "finalize", None)


def _finalize_and_stamp(self, *args, **kwargs):
    result = _original_finalize(self, *args, **kwargs)
    if self.uid is not None:
        self.update(session_policy.stamp(self.uid, time.time()))
    return result


# Imported once per process (server-wide module); never wrap twice.
if _original_finalize is not None and not getattr(_original_finalize, "_odoo_hipaa", False):
    _finalize_and_stamp._odoo_hipaa = True
    http.Session.finalize = _finalize_and_stamp
