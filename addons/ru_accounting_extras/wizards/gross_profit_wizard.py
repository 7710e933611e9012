# The gross-profit export wizard: a period (days in the user's time zone), stores and companies → the xlsx
# (report/gross_profit_xlsx.py) or the analysis screens filtered the same way.
from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

#: The xlsx report action (report/gross_profit_reports.xml).
XLSX_REPORT = "ru_accounting_extras.action_report_gross_profit_xlsx"


class RuGrossProfitWizard(models.TransientModel):
    _name = "ru.gross.profit.wizard"
    _description = "Gross profit export"

    # Default period: the current month up to today (the user's local date).
    date_from = fields.Date(
        "From", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date("To", required=True, default=fields.Date.context_today)
    store_ids = fields.Many2many(
        "stock.warehouse",
        string="Stores",
        domain="[('company_id', 'in', company_ids)]",
        help="Leave empty for every store you may see.",
    )
    # Default: the companies selected in the user's company switcher.
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.companies,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
    )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    _(
                        "The period starts (%(start)s) after it ends (%(end)s).",
                        start=wizard.date_from,
                        end=wizard.date_to,
                    )
                )

    def _report_domain(self):
        """The report rows of the wizard's period (whole days in the user's time zone), stores and
        companies. Record rules apply on top: a store accountant gets their stores' rows only."""
        self.ensure_one()
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")

        def utc(day):
            return tz.localize(datetime.combine(day, time.min)).astimezone(pytz.UTC).replace(tzinfo=None)

        domain = [
            ("date", ">=", utc(self.date_from)),
            ("date", "<", utc(self.date_to + timedelta(days=1))),
            ("company_id", "in", self.company_ids.ids),
        ]
        if self.store_ids:
            domain.append(("store_id", "in", self.store_ids.ids))
        return domain

    def _report_groups(self, groupby):
        """Sums of the period's rows grouped by ``groupby`` (report field names): a list of dicts with the
        groupby records and quantity, revenue, cost, gross_profit, margin_percent; sorted by names."""
        self.ensure_one()
        aggregates = ["quantity:sum", "revenue:sum", "cost:sum", "gross_profit:sum"]
        rows = self.env["ru.gross.profit.report"]._read_group(self._report_domain(), groupby, aggregates)
        groups = []
        for row in rows:
            names = [*groupby, "quantity", "revenue", "cost", "gross_profit"]
            group = dict(zip(names, row, strict=True))
            revenue = group["revenue"]
            group["margin_percent"] = group["gross_profit"] / revenue * 100 if revenue else 0.0
            groups.append(group)
        return sorted(groups, key=lambda g: [g[name].display_name or "" for name in groupby])

    def action_export_xlsx(self):
        # config=False: no document-layout set-up step (it is for PDF letterheads) before a workbook.
        return self.env.ref(XLSX_REPORT).report_action(self, config=False)

    def action_open_analysis(self):
        """The pivot of the same rows (stores in rows, categories in columns)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ru_accounting_extras.action_ru_gross_profit_report"
        )
        action["domain"] = self._report_domain()
        action["context"] = {}
        return action
