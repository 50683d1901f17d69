# TEST DOUBLE — not Odoo. Marks the stand-in archive's `odoo` package (the
# role checks for odoo/__init__.py after unpacking).
