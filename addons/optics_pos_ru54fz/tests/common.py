"""Shared set-up of the addon's tests: two tills with tokens and a receipt builder."""

import uuid

from odoo.tests.common import TransactionCase

FN_A = "9999078900001234"
FN_B = "9999078900005678"


def receipt(fd, fn=FN_A, **overrides):
    """One receipt as a till sends it (docs/api/odoo-till-contract.md); ``overrides`` replace fields."""
    item = {
        "receipt_id": str(uuid.uuid4()),
        "fn_number": fn,
        "fd": fd,
        "fiscal_sign": 3735928559,
        "issued_at": "2026-11-23T12:00:00+03:00",
        "kind": "sale",
        "total": 940000,
        "original_receipt_id": None,
        "hlc": "001795470000000.00001",
        "document": {"type": "sale", "items": [], "payments": []},
    }
    item.update(overrides)
    return item


class TillCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Till = cls.env["pos.offline.buffer.status"]
        cls.Doc = cls.env["optics.fiscal.document"]
        cls.till = cls.Till.create(
            {"name": "Store 1, till 1", "pos_id": "store1-till1", "tz": "Asia/Yekaterinburg"}
        )
        cls.other = cls.Till.create({"name": "Store 2, till 1", "pos_id": "store2-till1"})
        cls.token = cls.till._issue_token()
        cls.other_token = cls.other._issue_token()

    def intake(self, *items, till=None):
        return self.Doc._intake(till or self.till, list(items))

    def statuses(self, results):
        return [r["status"] for r in results]
