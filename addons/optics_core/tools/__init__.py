# Plain-Python helpers of optics_core (no Odoo imports): prescription rules.
