"""The Russian translation is loaded and complete."""

import polib  # one of Odoo's own requirements

from odoo.tests.common import TransactionCase
from odoo.tools.misc import file_path


class TestTranslation(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["optics_core"], ["ru_RU"], overwrite=True)

    def test_the_optics_app_is_russian(self):
        ru = self.env(context={"lang": "ru_RU"})
        self.assertEqual(ru.ref("optics_core.action_prescription").name, "Рецепты")
        self.assertEqual(ru.ref("optics_core.menu_optics_root").name, "Оптика")
        self.assertEqual(
            ru["ir.model.fields"]._get("optics.prescription", "partner_id").field_description, "Пациент"
        )

    def test_every_term_of_the_module_has_a_russian_translation(self):
        po = polib.pofile(file_path("optics_core/i18n/ru.po"))
        pot = polib.pofile(file_path("optics_core/i18n/optics_core.pot"))
        self.assertEqual({e.msgid for e in po}, {e.msgid for e in pot})
        self.assertFalse([e.msgid for e in po if not e.msgstr.strip()])
