# The POS session's closing entry for glasses-job advances (see advances.py): each order's advance (Ct 62.02)
# and prepayment offset (Dt 62.02) on its own line with the customer and the job number instead of Odoo's
# one line per account, the advance's VAT accrued (Dt 76.AB Ct 68.02) and restored at the pickup
# (Dt 68.02 Ct 76.AB), and every job's open 62.02 and 76.AB items reconciled once the entry is posted.
from collections import defaultdict

from odoo import _, models

from .advances import ADVANCE_VAT, ADVANCES, CALCULATED_VAT_RATES
from .chart_template import VAT_PAYABLE


def _amounts():
    return {"amount": 0.0, "amount_converted": 0.0}


class PosSession(models.Model):
    _inherit = "pos.session"

    def _ru_advance_accounts(self):
        """62.02, 68.02 and 76.AB of the session's company; None off the Russian chart. Without 68.02 or
        76.AB (deleted) the advances still go per job on 62.02, their VAT is not booked."""
        chart = self.env["account.chart.template"].with_company(self.company_id)
        advances = chart.ref(ADVANCES, raise_if_not_found=False)
        if not advances:
            return None
        payable = chart.ref(VAT_PAYABLE, raise_if_not_found=False)
        vat = chart.ref(ADVANCE_VAT, raise_if_not_found=False)
        return {"advances": advances, "payable": payable, "vat": vat, "book_vat": bool(payable and vat)}

    def _ru_is_offset(self, method, accounts):
        """A prepayment offset method booked on 62.02 (pos.payment.method._ru_default_accounts)."""
        return method.optics_prepayment_offset and method.receivable_account_id == accounts["advances"]

    def _ru_is_advance(self, order_line, accounts):
        """A line whose income account is 62.02: the advance product's lines."""
        return self._prepare_line(order_line)["income_account_id"] == accounts["advances"].id

    def _ru_advance_line_vat(self, order_line):
        """The VAT in an advance line at the calculated rate its receipt carried: A x r / (100 + r)."""
        rate = CALCULATED_VAT_RATES.get(order_line.optics_advance_vat)
        if not rate:
            return 0.0
        return self.currency_id.round(order_line.price_subtotal_incl * rate / (100 + rate))

    def _ru_restored_vat(self, order, offset, accounts):
        """The advance VAT a pickup's offset restores: the job's advance VAT in the share the offset takes
        of the job's advances (all of it when the offset takes them all), over every order of the job."""
        if not order.optics_job_ref:
            return 0.0
        lines = (
            self.env["pos.order.line"]
            .sudo()
            .search(
                [
                    ("order_id.optics_job_ref", "=", order.optics_job_ref),
                    ("order_id.company_id", "=", self.company_id.id),
                    ("order_id.state", "in", ("paid", "done", "invoiced")),
                ]
            )
            .filtered(lambda line: self._ru_is_advance(line, accounts))
        )
        advanced = sum(lines.mapped("price_subtotal_incl"))
        vat = sum(self._ru_advance_line_vat(line) for line in lines)
        if self.currency_id.compare_amounts(advanced, 0) <= 0 or self.currency_id.is_zero(vat):
            return 0.0
        if self.currency_id.compare_amounts(offset, advanced) >= 0:
            return vat
        return self.currency_id.round(vat * offset / advanced)

    def _accumulate_amounts(self, data):
        """Take the 62.02 advances and offsets out of Odoo's per-account sums and keep them per order, with
        the advances' VAT to accrue and the offsets' VAT to restore."""
        data = super()._accumulate_amounts(data)
        accounts = self._ru_advance_accounts()
        if not accounts:
            return data
        sales = data["sales"]
        for key in [key for key in sales if key[0] == accounts["advances"].id]:
            del sales[key]
        combine, split = data["combine_receivables_pay_later"], data["split_receivables_pay_later"]
        for method in [method for method in combine if self._ru_is_offset(method, accounts)]:
            del combine[method]
        for payment in [
            payment for payment in split if self._ru_is_offset(payment.payment_method_id, accounts)
        ]:
            del split[payment]

        advance_sales = defaultdict(_amounts)  # (order, Odoo's sale key) -> the order's advance
        advance_vat = defaultdict(_amounts)  # order -> the VAT in its advance
        offsets = defaultdict(_amounts)  # order -> its prepayment offset
        restored_vat = defaultdict(_amounts)  # order -> the advance VAT its offset restores
        for order in self._get_closed_orders().filtered(lambda o: not o.is_invoiced):
            for order_line in order.lines:
                line = self._prepare_line(order_line)
                if line["income_account_id"] != accounts["advances"].id:
                    continue
                # The key of Odoo's sales sums (_accumulate_amounts), so _get_sale_vals builds the line.
                key = (
                    line["income_account_id"],
                    -1 if line["amount"] < 0 else 1,
                    tuple(
                        (tax["id"], tax["account_id"], tax["tax_repartition_line_id"])
                        for tax in line["taxes"]
                    ),
                    line["base_tags"],
                )
                advance_sales[order, key] = self._update_amounts(
                    advance_sales[order, key], {"amount": line["amount"]}, line["date_order"], round=False
                )
                vat = accounts["book_vat"] and self._ru_advance_line_vat(order_line)
                if vat:
                    advance_vat[order] = self._update_amounts(
                        advance_vat[order], {"amount": vat}, order.date_order
                    )
            payments = order.payment_ids.filtered(lambda p: self._ru_is_offset(p.payment_method_id, accounts))
            for payment in payments:
                offsets[order] = self._update_amounts(
                    offsets[order], {"amount": payment.amount}, payment.payment_date
                )
            if payments and accounts["book_vat"]:
                restored = self._ru_restored_vat(order, sum(payments.mapped("amount")), accounts)
            else:
                restored = 0.0
            if restored:
                restored_vat[order] = self._update_amounts(
                    restored_vat[order], {"amount": restored}, order.date_order
                )
        data.update(
            ru_advance_accounts=accounts,
            ru_advance_sales=advance_sales,
            ru_advance_vat=advance_vat,
            ru_advance_offsets=offsets,
            ru_restored_vat=restored_vat,
        )
        return data

    def _ru_job_vals(self, order, name):
        partner = self.env["res.partner"]._find_accounting_partner(order.partner_id)
        return {
            "move_id": self.move_id.id,
            "partner_id": partner.id,
            "name": name,
            "ru_job_ref": order.optics_job_ref,
        }

    def _ru_vat_pair(self, order, amounts, debit_account, credit_account, name):
        """Dt ``debit_account`` Ct ``credit_account`` of ``amounts`` (a negative amount swaps the sides)."""
        vals = self._ru_job_vals(order, name)
        return [
            self._debit_amounts(
                {**vals, "account_id": debit_account.id}, amounts["amount"], amounts["amount_converted"]
            ),
            self._credit_amounts(
                {**vals, "account_id": credit_account.id}, amounts["amount"], amounts["amount_converted"]
            ),
        ]

    def _create_non_reconciliable_move_lines(self, data):
        data = super()._create_non_reconciliable_move_lines(data)
        accounts = data.get("ru_advance_accounts")
        if not accounts:
            return data
        vals = []
        for (order, key), amounts in data["ru_advance_sales"].items():
            ref = order.optics_job_ref or order.name
            sale = self._get_sale_vals(key, amounts["amount"], amounts["amount_converted"])
            vals.append({**sale, **self._ru_job_vals(order, _("Advance %s", ref))})
        for order, amounts in data["ru_advance_offsets"].items():
            ref = order.optics_job_ref or order.name
            offset = {
                **self._ru_job_vals(order, _("Advance offset %s", ref)),
                "account_id": accounts["advances"].id,
            }
            vals.append(self._debit_amounts(offset, amounts["amount"], amounts["amount_converted"]))
        for order, amounts in data["ru_advance_vat"].items():
            ref = order.optics_job_ref or order.name
            vals += self._ru_vat_pair(
                order, amounts, accounts["vat"], accounts["payable"], _("VAT on advance %s", ref)
            )
        for order, amounts in data["ru_restored_vat"].items():
            ref = order.optics_job_ref or order.name
            vals += self._ru_vat_pair(
                order, amounts, accounts["payable"], accounts["vat"], _("VAT on advance %s restored", ref)
            )
        data["ru_advance_lines"] = data["MoveLine"].create(vals)
        return data

    def _reconcile_account_move_lines(self, data):
        data = super()._reconcile_account_move_lines(data)
        lines = data.get("ru_advance_lines")
        if lines:
            self._ru_reconcile_jobs(lines)
        return data

    def _ru_reconcile_jobs(self, lines):
        """Reconcile the open 62.02 and 76.AB items of the jobs ``lines`` touch, per job and account (a
        partial reconciliation while the job's advances and offsets differ)."""
        refs = {ref for ref in lines.mapped("ru_job_ref") if ref}
        accounts = lines.account_id.filtered("reconcile")
        if not refs or not accounts:
            return
        open_lines = self.env["account.move.line"].search(
            [
                ("ru_job_ref", "in", list(refs)),
                ("account_id", "in", accounts.ids),
                ("company_id", "=", self.company_id.id),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
            ]
        )
        groups = defaultdict(lambda: self.env["account.move.line"])
        for line in open_lines:
            groups[line.ru_job_ref, line.account_id] |= line
        for group in groups.values():
            if any(line.balance > 0 for line in group) and any(line.balance < 0 for line in group):
                group.reconcile()
