"""The job runner: Odoo's cron takes queued jobs and applies them chunk by chunk, one commit per chunk.

A chunk's products, prices, log lines and the job's progress (``next_chunk``, counts) are committed in one
transaction, so a server killed mid-file loses at most the chunk in flight — rolled back whole — and the
next cron run (the one-minute interval, or the trigger left behind) resumes at ``next_chunk``: every row
once. Odoo's cron locks its own row while it runs, so two servers never run the same job at once.
A run hands the cron back after ``RUN_BUDGET_SECONDS`` and triggers itself again, so a very long file never
hits the cron's time limit.
"""

import logging
import time

from odoo import api, fields, models

from ..engine import STATUSES
from ..services.upsert import APPLIED, Item, Upsert
from .log import insert_lines, line_values

_logger = logging.getLogger(__name__)
#: Time one cron call spends on a job before it yields (the cron's own limit is far above it).
RUN_BUDGET_SECONDS = 240


# The job's concerns live in small files of their own (job.py states, this runner, job_block.py decisions).
class ImportJobRun(models.Model):
    _inherit = "connector.import.job"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_run_jobs(self):
        deadline = time.monotonic() + RUN_BUDGET_SECONDS
        for job in self.search([("state", "in", ("queued", "running"))], order="id"):
            if not job._run(deadline):
                self.env.ref("connector_b.cron_run_import_jobs")._trigger()
                return

    def _run(self, deadline=None):
        """Apply the job from ``next_chunk``; True when it ended (done or failed), False when out of time."""
        self.ensure_one()
        if self.state == "queued":
            if not self.next_chunk:
                self.env.cr.execute("DELETE FROM connector_import_log WHERE job_id = %s", [self.id])
                self.env["connector.import.log"].invalidate_model()
                self.write({f"count_{s}": 0 for s in STATUSES} | {"count_applied": 0, "rows_done": 0})
            self.write({"state": "running", "started_at": self.started_at or fields.Datetime.now()})
            self._commit()
        began, rows_here = time.monotonic(), 0
        try:
            matcher = self._matcher()
            upsert = Upsert(self.env, self.profile_id, self.profile_id._engine_profile(), self.id)
            with self._open_run(matcher, start_chunk=self.next_chunk) as run:
                for chunk in run:
                    rows_here += self._apply_chunk(chunk, matcher, upsert)
                    elapsed = time.monotonic() - began
                    self.rows_per_second = rows_here / elapsed if elapsed > 0 else 0.0
                    self._commit()
                    if deadline is not None and time.monotonic() > deadline:
                        return False
        except Exception as err:
            self._rollback()
            _logger.exception("import %s failed at chunk %s", self.name, self.next_chunk)
            self.write(
                {"state": "failed", "error": str(err) or repr(err), "finished_at": fields.Datetime.now()}
            )
            self._commit()
            return True
        self.write({"state": "done", "progress": 100.0, "finished_at": fields.Datetime.now()})
        self._commit()
        return True

    # The runner's transaction boundaries (tests replace them: a test's cursor cannot commit).
    def _commit(self):
        # The runner's whole point: each chunk is committed with the job's progress (see the docstring).
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _rollback(self):
        self.env.cr.rollback()

    def _apply_chunk(self, chunk, matcher, upsert) -> int:
        """Apply one chunk and record it (the caller commits): products, log lines, the job's progress."""
        items = [Item(r.key, r.status, dict(r.values)) for r in chunk.rows if r.key]
        outcomes = upsert.apply(items, matcher.matches)
        lines = [
            line_values(self.id, "run", chunk.index, r, outcomes.get(r.key) if r.status in APPLIED else None)
            for r in chunk.rows
        ]
        insert_lines(self.env, lines)
        counts = dict.fromkeys(STATUSES, 0)
        applied = 0
        for line in lines:
            counts[line[7]] += 1
            applied += line[16]
        done = self.rows_done + len(chunk.rows)
        self.write(
            {
                "next_chunk": chunk.index + 1,
                "rows_done": done,
                "progress": min(100.0, 100.0 * done / self.rows_total) if self.rows_total else 0.0,
                "count_applied": self.count_applied + applied,
                **{f"count_{s}": self[f"count_{s}"] + n for s, n in counts.items()},
            }
        )
        return len(chunk.rows)
