# What the cash forms print of the company: its OKPO code and the names of its head and chief accountant;
# and the company's own numbering of cash orders (a copy per company of the templates of
# data/cash_order_sequence.xml).
from odoo import _, fields, models

#: Order type → the template sequence (data/cash_order_sequence.xml) a company's own sequence copies.
SEQUENCE_TEMPLATES = {
    "in": "ru_accounting_extras.sequence_cash_order_in",
    "out": "ru_accounting_extras.sequence_cash_order_out",
}


class ResCompany(models.Model):
    _inherit = "res.company"

    ru_okpo = fields.Char(
        "OKPO",
        size=10,
        help="The organisation's code in the All-Russian classifier of enterprises (ОКПО), printed on the "
        "cash forms KO-1, KO-2 and KO-4.",
    )
    ru_director_name = fields.Char(
        "Head of the organisation",
        help="Full name signed as «Руководитель организации» on outgoing cash orders (KO-2).",
    )
    ru_director_title = fields.Char(
        "Head's position",
        help="Position printed before the head's name on outgoing cash orders, e.g. General director.",
    )
    ru_chief_accountant_name = fields.Char(
        "Chief accountant",
        help="Full name signed as «Главный бухгалтер» on cash orders (KO-1, KO-2) and, unless the store has "
        "its own accountant, as the accountant who checks the cash book (KO-4).",
    )

    def _ru_cash_order_sequence(self, order_type):
        """The company's own sequence of cash orders of ``order_type`` ('in' / 'out'), created from its
        template at the first call: numbers start at 1 each calendar year (a date range per year), no gaps."""
        self.ensure_one()
        template = self.env.ref(SEQUENCE_TEMPLATES[order_type])
        Sequence = self.env["ir.sequence"].sudo()
        sequence = Sequence.search(
            [("code", "=", template.code), ("company_id", "=", self.id)], order="id", limit=1
        )
        if not sequence:
            sequence = Sequence.create(
                {
                    "name": _("%(sequence)s (%(company)s)", sequence=template.name, company=self.name),
                    "code": template.code,
                    "company_id": self.id,
                    "implementation": template.implementation,
                    "use_date_range": template.use_date_range,
                    "prefix": template.prefix,
                    "suffix": template.suffix,
                    "padding": template.padding,
                }
            )
        return sequence
