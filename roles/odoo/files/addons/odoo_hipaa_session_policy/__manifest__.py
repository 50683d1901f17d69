# Copyright: onprem.odoo_hipaa contributors
# License: GPL-3.0-or-later (see https://www.gnu.org/licenses/gpl-3.0.txt)
# One manifest for Odoo 17.0, 18.0 and 19.0: Odoo prefixes the series to a
# three-part version itself (17.0.1.0.0, 18.0.1.0.0, 19.0.1.0.0).
{
    "name": "HIPAA session limits (onprem.odoo_hipaa)",
    "summary": "Idle timeout and absolute session lifetime, enforced before a request runs as the user",
    "description": """
HIPAA §164.312(a)(2)(iii) automatic logoff, enforced server-side on every
request before it executes as the session's user. Settings (seconds) in
ir.config_parameter: odoo_hipaa.session_idle_timeout (default 600) and
odoo_hipaa.session_absolute_lifetime (default 28800).
§164.312(d): Odoo's "remember this device" (td_id) is refused unless
odoo_hipaa.mfa_trusted_device_days allows it, and then bounded to that many days. Deployed by the
onprem.odoo_hipaa.odoo Ansible role; also loaded as a server-wide module.
""",
    "version": "1.0.0",
    "category": "Hidden/Tools",
    "author": "onprem.odoo_hipaa contributors",
    "license": "GPL-3 or any later version",
    "depends": ["base", "web", "bus", "auth_totp"],
    "data": [],
    "installable": True,
    "application": False,
}
