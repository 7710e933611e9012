# The Russian translation is complete and loaded: menus, the cash-order types and the workbook speak Russian.
import polib  # one of Odoo's own requirements

from odoo.tests import tagged
from odoo.tests.common import TransactionCase
from odoo.tools.misc import file_path


@tagged("post_install", "-at_install")
class TestTranslation(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["ru_accounting_extras"], ["ru_RU"], overwrite=True)

    def test_every_term_of_the_module_has_a_russian_translation(self):
        po = polib.pofile(file_path("ru_accounting_extras/i18n/ru.po"))
        pot = polib.pofile(file_path("ru_accounting_extras/i18n/ru_accounting_extras.pot"))
        self.assertEqual({e.msgid for e in po}, {e.msgid for e in pot})
        self.assertFalse([e.msgid for e in po if not e.msgstr.strip()])

    def test_menus_and_labels_are_russian(self):
        ru = self.env(context={"lang": "ru_RU"})
        self.assertEqual(ru.ref("ru_accounting_extras.menu_ru_cash_root").name, "Кассы магазинов")
        self.assertEqual(ru.ref("ru_accounting_extras.menu_ru_cash_order").name, "Кассовые ордера")
        types = dict(ru["ru.cash.order"]._fields["order_type"]._description_selection(ru))
        self.assertEqual(types["in"], "Приходный (КО-1)")
        self.assertEqual(
            ru["ir.model.fields"]._get("account.cash.transfer", "destination_type").field_description, "Куда"
        )
