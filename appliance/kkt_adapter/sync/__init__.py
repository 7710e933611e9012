"""Phase 2 of fiscalization: deliver every FN document to the OFD and every receipt to Odoo."""
