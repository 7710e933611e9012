"""The offline-tills block and the manager's decisions: held price changes, the block's override.

A price change must not reach a store while one of its tills is lost or holds receipts undelivered for
longer than ``connector_b.block_undelivered_minutes`` (15 by default): its offline sales would be judged
against prices it never had. The stores a job touches are those whose points of sale use the profile's
pricelist — or every point of sale of the company when retail prices go to the products' sales price. A
manager may override the block for one job, with a reason kept in the chatter.
"""

from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from ..engine import CHANGED_DOWN, CHANGED_UP
from ..services.upsert import Item, Upsert

#: When the parameter is missing or not a number (the issue's default).
DEFAULT_BLOCK_MINUTES = 15
MANAGER_GROUP = "connector_b.group_import_manager"


class ImportJobBlock(models.Model):
    _inherit = "connector.import.job"  # pylint: disable=consider-merging-classes-inherited

    def _affected_configs(self):
        configs = self.env["pos.config"].sudo().search([("company_id", "=", self.company_id.id)])
        pricelist = self.profile_id.pricelist_id
        if pricelist:
            configs = configs.filtered(
                lambda c: c.pricelist_id == pricelist or pricelist in c.available_pricelist_ids
            )
        return configs

    def _blocking_tills(self):
        """The tills of the affected stores that block a price change now, with why (Russian)."""
        configs = self._affected_configs()
        if not configs:
            return []
        stores = configs.mapped("picking_type_id.warehouse_id")
        tills = (
            self.env["pos.offline.buffer.status"]
            .sudo()
            .search(["|", ("pos_config_id", "in", configs.ids), ("store_id", "in", stores.ids)])
        )
        try:
            minutes = int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("connector_b.block_undelivered_minutes", DEFAULT_BLOCK_MINUTES)
            )
        except ValueError:
            minutes = DEFAULT_BLOCK_MINUTES
        now = fields.Datetime.now()
        limit = now - timedelta(minutes=minutes)
        found = []
        for till in tills:
            where = till.store_id.name or till.pos_config_id.name or "—"
            if till.connection_state == "lost":
                since = till.last_heartbeat_at or till.lost_since
                found.append(
                    _(
                        "%(till)s (%(store)s): no connection since %(since)s",
                        till=till.name,
                        store=where,
                        since=since,
                    )
                )
            elif till.undelivered_since and till.undelivered_since <= limit:
                held = int((now - till.undelivered_since).total_seconds() // 60)
                found.append(
                    _(
                        "%(till)s (%(store)s): %(count)s receipts undelivered for %(minutes)s min",
                        till=till.name,
                        store=where,
                        count=till.buffer_queued,
                        minutes=held,
                    )
                )
        return found

    def _check_block(self, changes_prices):
        """``UserError`` naming the tills when a price change must wait (unless a manager overrode it)."""
        if not changes_prices or self.block_override:
            return
        tills = self._blocking_tills()
        if tills:
            raise UserError(
                _(
                    "Prices cannot change now: tills of the stores this list affects are offline or have not "
                    "delivered their receipts:\n%(tills)s\nWait until they deliver, or ask a price-import "
                    "manager to override the block for import %(job)s.",
                    tills="\n".join(tills),
                    job=self.name,
                )
            )

    def action_override_block(self):
        """A manager lets this job change prices although tills are offline; the reason is required."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only a price-import manager can override the offline-tills block."))
        for job in self:
            if not (job.block_override_reason or "").strip():
                raise UserError(_("Give the reason for overriding the block of import %s.", job.name))
            tills = job._blocking_tills()
            job.write({"block_override": True, "block_override_uid": self.env.uid,
                       "block_override_at": fields.Datetime.now()})  # fmt: skip
            job.message_post(
                body=_(
                    "Offline-tills block overridden by %(user)s: %(reason)s. Tills at that moment: %(tills)s",
                    user=self.env.user.name,
                    reason=job.block_override_reason,
                    tills="; ".join(tills) or "—",
                )
            )
        return True

    # --- held price changes ----------------------------------------------------------------------------

    def _held_lines(self, lines=None):
        domain = [("job_id", "in", self.ids), ("decision", "=", "pending")]
        if lines is not None:
            domain.append(("id", "in", lines.ids))
        return self.env["connector.import.log"].search(domain)

    def action_approve_held(self, lines=None):
        """Apply the held changes (all, or ``lines``) now — a manager's decision, subject to the block."""
        self._require_manager()
        for job in self:
            held = job._held_lines(lines)
            if not held:
                continue
            if job.state != "done":
                raise UserError(
                    _("Import %s is still running: approve its held prices when it is done.", job.name)
                )
            job._check_block(True)
            matcher = job._matcher()
            upsert = Upsert(self.env, job.profile_id, job.profile_id._engine_profile(), job.id)
            items = [Item(line.key, CHANGED_UP if line.price >= line.current_price else CHANGED_DOWN,
                          _decimals(line.vals)) for line in held]  # fmt: skip
            for start in range(0, len(items), 1000):
                page = items[start : start + 1000]
                matcher.find_into([i.key for i in page])
                outcomes = upsert.apply(page, matcher.matches)
                for line in held[start : start + 1000]:
                    outcome = outcomes.get(line.key)
                    line.write({"decision": "approved", "applied": bool(outcome and outcome.template_id),
                                "product_tmpl_id": outcome.template_id if outcome else False})  # fmt: skip
            job.count_applied += len(held)
            job.message_post(body=_("%(count)s held price changes approved by %(user)s.",
                                    count=len(held), user=self.env.user.name))  # fmt: skip
        return True

    def action_refuse_held(self, lines=None):
        """Keep today's prices for the held rows (all, or ``lines``)."""
        self._require_manager()
        for job in self:
            held = job._held_lines(lines)
            held.write({"decision": "refused"})
            if held:
                job.message_post(body=_("%(count)s held price changes refused by %(user)s.",
                                        count=len(held), user=self.env.user.name))  # fmt: skip
        return True

    def _require_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only a price-import manager can decide on held price changes."))


def _decimals(values):
    from decimal import Decimal

    money = ("price", "retail_price", "sph", "cyl", "axis", "add", "bc", "dia")
    return {k: (Decimal(v) if k in money and v is not None else v) for k, v in (values or {}).items()}
