"""``BigInteger``: an Integer field on a PostgreSQL ``int8`` column.

FFD numbers overflow ``int4``: an FD goes to 2^32-1 (tag 1040), a fiscal sign to 2^48-1 (tag 1077) and a
total to 10^13 kopecks. Odoo keeps registering ``fields.Integer`` for the ``integer`` type (its registry
takes the first class of a type), so this subclass changes nothing else.
"""

from odoo import fields


class BigInteger(fields.Integer):
    column_type = ("int8", "int8")
