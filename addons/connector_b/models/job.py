"""``connector.import.job``: one price list through its profile — draft → previewed → queued → running →
done / failed (or cancelled).

The preview reads the whole file at once (so a wrong file fails in the wizard, before any job runs) and
stores every row with its verdict and the price diff; confirming queues the job for Odoo's cron
(``job_run.py``), after the offline-tills block (``job_block.py``). The file is kept as an attachment and
never changes after the preview.
"""

import base64
import io
import os

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import (
    STATUSES,
    ImportFileError,
    ImportRun,
    grid_checker,
    write_rejected_csv,
    write_rejected_xlsx,
)
from ..services.matching import Matcher
from .log import insert_lines, line_values

STATES = [
    ("draft", "Draft"),
    ("previewed", "Previewed"),
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
#: The rejected rows report's formats (``_rejected_report``) and their content types.
REPORT_MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


class ImportJob(models.Model):
    _name = "connector.import.job"
    _description = "Supplier price import"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(
        "Reference", required=True, readonly=True, copy=False,
        default=lambda self: self.env["ir.sequence"].next_by_code("connector.import.job") or "/",
    )  # fmt: skip
    profile_id = fields.Many2one(
        "connector.import.profile", required=True, tracking=True, ondelete="restrict"
    )
    supplier_id = fields.Many2one(related="profile_id.supplier_id")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    file = fields.Binary("Price list", attachment=True, required=True)
    file_name = fields.Char()
    currency_rate = fields.Float(
        "Rate to RUB", digits=(12, 6), help="For a list in another currency; empty: the profile's rate."
    )
    state = fields.Selection(STATES, default="draft", required=True, readonly=True, tracking=True, index=True)
    error = fields.Text(readonly=True)

    rows_total = fields.Integer("Rows in the file", readonly=True)
    rows_done = fields.Integer("Rows processed", readonly=True)
    progress = fields.Float("Progress, %", readonly=True, digits=(5, 1))
    rows_per_second = fields.Float("Rows/s", readonly=True, digits=(10, 0))
    next_chunk = fields.Integer(
        "Next chunk", readonly=True, help="Chunks committed so far: a run that died resumes from here."
    )
    report_columns = fields.Json(readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    count_new = fields.Integer("New", readonly=True)
    count_changed_up = fields.Integer("Price up", readonly=True)
    count_changed_down = fields.Integer("Price down", readonly=True)
    count_unchanged = fields.Integer("Unchanged", readonly=True)
    count_held = fields.Integer("Held", readonly=True)
    count_rejected = fields.Integer("Rejected", readonly=True)
    count_applied = fields.Integer("Applied", readonly=True)
    held_pending = fields.Integer("Held, waiting", compute="_compute_held_pending")

    log_ids = fields.One2many("connector.import.log", "job_id", "Rows")

    block_override = fields.Boolean("Block overridden", readonly=True, tracking=True)
    block_override_reason = fields.Char("Override reason", tracking=True)
    block_override_uid = fields.Many2one("res.users", "Overridden by", readonly=True)
    block_override_at = fields.Datetime("Overridden at", readonly=True)

    @api.depends("log_ids.decision")
    def _compute_held_pending(self):
        counts = dict(
            self.env["connector.import.log"]._read_group(
                [("job_id", "in", self.ids), ("decision", "=", "pending")], ["job_id"], ["__count"]
            )
        )
        for job in self:
            job.held_pending = counts.get(job, 0)

    def write(self, vals):
        if {"file", "profile_id", "currency_rate"} & set(vals) and any(
            j.state not in ("draft", "previewed") for j in self
        ):
            raise UserError(_("The file and the profile of an import cannot change once it is queued."))
        return super().write(vals)

    # --- the engine ------------------------------------------------------------------------------------

    def _file_source(self):
        """A path to the stored file (streamed, never loaded whole) or, for a database store, its bytes."""
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_id", "=", self.id), ("res_field", "=", "file")],
                limit=1,
            )
        )
        if not attachment:
            raise UserError(_("The import %s has no file.", self.name))
        if attachment.store_fname:
            path = attachment._full_path(attachment.store_fname)
            if os.path.isfile(path):
                return path
        return attachment.raw

    def _grid_check(self):
        from odoo.addons.optics_core.tools import rx  # the optics grids live with the prescriptions

        return grid_checker(
            {"sph": rx.SPH, "cyl": rx.CYL, "axis": rx.AXIS, "add": rx.ADD, "bc": rx.CL_BASE_CURVE,
             "dia": rx.CL_DIAMETER}
        )  # fmt: skip

    def _open_run(self, matcher, start_chunk=0):
        """The engine's run over this job's file (``UserError`` with the engine's Russian message)."""
        profile = self.profile_id._engine_profile()
        if profile.kind == "lens_grid" and not self.profile_id.lens_template_id:
            raise UserError(
                _(
                    "Profile «%s» reads a lens stock grid: set the lens whose variants it updates.",
                    self.profile_id.name,
                )
            )
        try:
            return ImportRun(
                self._file_source(),
                profile,
                prices=matcher.prices,
                grid_check=self._grid_check(),
                currency_rate=self.currency_rate or None,
                start_chunk=start_chunk,
            )
        except ImportFileError as err:
            raise UserError(str(err)) from err

    def _matcher(self):
        return Matcher(self.env, self.profile_id.supplier_id.id, self.profile_id.upsert_key)

    # --- preview ---------------------------------------------------------------------------------------

    def action_preview(self):
        """Read the whole file: every row's verdict and price diff stored, the counts on the job."""
        for job in self:
            if job.state not in ("draft", "previewed", "failed"):
                raise UserError(_("Import %s is already queued or done.", job.name))
            job._preview()
        return True

    def _preview(self):
        self.env.cr.execute("DELETE FROM connector_import_log WHERE job_id = %s", [self.id])
        self.env["connector.import.log"].invalidate_model()
        matcher = self._matcher()
        with self._open_run(matcher) as run:
            try:
                for chunk in run:
                    insert_lines(
                        self.env, [line_values(self.id, "preview", chunk.index, r) for r in chunk.rows]
                    )
            except ImportFileError as err:
                raise UserError(str(err)) from err
            counters = run.counters
            columns = list(run.report_columns)
        self.write(
            {
                "state": "previewed",
                "error": False,
                "rows_total": counters.rows,
                "rows_done": 0,
                "progress": 0.0,
                "next_chunk": 0,
                "report_columns": columns,
                **{f"count_{s}": counters.statuses[s] for s in STATUSES},
                "count_applied": 0,
            }
        )

    # --- states ----------------------------------------------------------------------------------------

    def action_confirm(self):
        """Queue the job for the cron runner (after the offline-tills block); it starts at once."""
        for job in self:
            if job.state != "previewed":
                raise UserError(_("Preview import %s before running it.", job.name))
            job._check_block(job._changes_prices())
            job.write({"state": "queued", "error": False})
        self.env.ref("connector_b.cron_run_import_jobs")._trigger()
        return True

    def action_cancel(self):
        for job in self:
            if job.state in ("running", "done"):
                raise UserError(_("Import %s has already run: it cannot be cancelled.", job.name))
            job.state = "cancelled"
        return True

    def action_retry(self):
        """A failed job goes back to the queue from the chunk it reached (nothing done is redone)."""
        for job in self:
            if job.state != "failed":
                raise UserError(_("Only a failed import can be retried."))
            job.write({"state": "queued", "error": False})
        self.env.ref("connector_b.cron_run_import_jobs")._trigger()
        return True

    def _changes_prices(self):
        return bool(self.count_changed_up or self.count_changed_down)

    # --- rejected rows ---------------------------------------------------------------------------------

    def _rejected_report(self, fmt="xlsx"):
        """The rejected rows with their reasons as a file (xlsx or CSV): ``(bytes, mimetype, file name)``."""
        self.ensure_one()
        if fmt not in REPORT_MIMETYPES:
            raise UserError(_("The report is xlsx or CSV, not %s.", fmt))
        rows = self.env["connector.import.log"].search(
            [("job_id", "=", self.id), ("status", "=", "rejected")]
        )
        buffer = io.BytesIO()
        writer = write_rejected_xlsx if fmt == "xlsx" else write_rejected_csv
        writer(
            buffer,
            (_ReportRow(r) for r in rows),
            self.report_columns or [],
            with_cell=self.profile_id.kind == "lens_grid",
        )
        return buffer.getvalue(), REPORT_MIMETYPES[fmt], f"{self.name.replace('/', '-')}-rejected.{fmt}"

    def action_rejected_report(self, fmt="xlsx"):
        """Download the rejected rows with their reasons (xlsx or CSV) as an attachment."""
        content, mimetype, file_name = self._rejected_report(fmt)
        attachment = self.env["ir.attachment"].create(
            {
                "name": file_name,
                "datas": base64.b64encode(content),
                "mimetype": mimetype,
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_rejected_report_csv(self):
        return self.action_rejected_report("csv")

    def action_view_rows(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("connector_b.action_import_log")
        action["domain"] = [("job_id", "=", self.id)]
        status = self.env.context.get("rows_status")
        action["context"] = {"search_default_status_" + status: 1} if status else {}
        return action


class _ReportRow:
    """A stored log line as the engine's report reads a row."""

    __slots__ = ("raw", "reasons", "source_cell", "source_row")

    def __init__(self, line):
        self.source_row = line.row_number
        self.source_cell = line.cell or None
        self.raw = tuple(line.raw or ())
        self.reasons = [_Reason(text) for text in (line.reasons or "").split("; ") if text]


class _Reason:
    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message
