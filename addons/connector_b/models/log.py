"""``connector.import.log``: one line per row of a price list — the preview, then what the run did.

Written set-based (one ``INSERT … SELECT FROM unnest`` per chunk, ``insert_lines``), read through ordinary
paginated list views. A held line carries the row's values so a manager's approval can apply it later.
"""

import json

from odoo import fields, models

from ..engine import STATUS_LABELS, STATUSES

PHASES = [("preview", "Preview"), ("run", "Run")]
DECISIONS = [("pending", "Waiting for a manager"), ("approved", "Approved"), ("refused", "Refused")]
_COLUMNS = (
    "job_id", "phase", "chunk", "row_number", "cell", "key", "name", "status", "price", "current_price",
    "change_percent", "retail_price", "reasons", "raw", "vals", "product_tmpl_id", "applied", "decision",
)  # fmt: skip
_TYPES = (
    "int", "varchar", "int", "int", "varchar", "varchar", "varchar", "varchar", "numeric", "numeric",
    "numeric", "numeric", "text", "jsonb", "jsonb", "int", "bool", "varchar",
)  # fmt: skip


class ImportLog(models.Model):
    _name = "connector.import.log"
    _description = "Supplier price import: row"
    _order = "job_id desc, row_number, id"
    _rec_name = "key"

    job_id = fields.Many2one("connector.import.job", required=True, ondelete="cascade", index=True)
    phase = fields.Selection(PHASES, required=True)
    chunk = fields.Integer()
    row_number = fields.Integer("Row", help="The file's row number as a spreadsheet shows it.")
    cell = fields.Char(help="Lens grids: the cell of the grid.")
    key = fields.Char(help="Supplier SKU or barcode, as the profile matches products.")
    name = fields.Char()
    status = fields.Selection([(s, STATUS_LABELS[s]) for s in STATUSES], required=True, index=True)
    price = fields.Float("New price", digits="Product Price")
    current_price = fields.Float("Current price", digits="Product Price")
    change_percent = fields.Float("Change, %", digits=(16, 2))
    retail_price = fields.Float("Retail price", digits="Product Price")
    reasons = fields.Text()
    raw = fields.Json("Cells as in the file")
    vals = fields.Json("Values read")
    product_tmpl_id = fields.Many2one("product.template", "Product", index="btree_not_null")
    applied = fields.Boolean(readonly=True)
    decision = fields.Selection(DECISIONS, help="Held price changes: what a manager decided.")

    def action_approve(self):
        """Apply the selected held changes (the list's action; a manager, subject to the block)."""
        for job in self.job_id:
            job.action_approve_held(self.filtered(lambda line, job=job: line.job_id == job))
        return True

    def action_refuse(self):
        """Keep today's prices for the selected held changes."""
        for job in self.job_id:
            job.action_refuse_held(self.filtered(lambda line, job=job: line.job_id == job))
        return True

    @property
    def source_row(self):  # the engine's report reads these names (report.RejectedRow)
        return self.row_number

    @property
    def source_cell(self):
        return self.cell or None


def _jsonable(value):
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def line_values(job_id, phase, chunk, row, outcome=None):
    """One ``connector.import.log`` row (a tuple in ``_COLUMNS`` order) from an engine ``ImportRow``."""
    values = {k: _jsonable(v) for k, v in row.values.items()}
    refused = outcome.refused if outcome else None
    status = "rejected" if refused else row.status
    reasons = refused if refused else row.reasons_text()
    held = status == "held"
    raw = json.dumps([_jsonable(c) for c in row.raw], ensure_ascii=False)
    return (
        job_id, phase, chunk, row.source_row, row.source_cell, row.key, values.get("name"), status,
        values.get("price"), row.current_price, row.change_percent, values.get("retail_price"),
        reasons or None, raw, json.dumps(values, ensure_ascii=False),
        outcome.template_id if outcome and not refused else None,
        bool(phase == "run" and outcome and outcome.template_id and not refused and not held),
        "pending" if held and phase == "run" else None,
    )  # fmt: skip


# Column names and types are this module's constants; every value is a parameter.
_INSERT = (  # noqa: S608
    "INSERT INTO connector_import_log ({columns}, create_uid, create_date, write_uid, write_date) "
    "SELECT {aliases}, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC' "
    "FROM unnest({arrays}) AS t({aliases})"
).format(
    columns=", ".join(_COLUMNS),
    aliases=", ".join(f"c{i}" for i in range(len(_COLUMNS))),
    arrays=", ".join(f"%s::{t}[]" for t in _TYPES),
)


def insert_lines(env, lines) -> None:
    """Insert log rows in one statement (``lines``: tuples from ``line_values``)."""
    if not lines:
        return
    columns = [list(c) for c in zip(*lines, strict=True)]
    env.cr.execute(_INSERT, [env.uid, env.uid, *columns])
