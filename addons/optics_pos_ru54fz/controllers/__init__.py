# The till API (docs/api/odoo-till-contract.md).
from . import till_api
