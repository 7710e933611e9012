# The till API (docs/api/odoo-till-contract.md) and the POS service worker's script.
from . import pos_offline, till_api
