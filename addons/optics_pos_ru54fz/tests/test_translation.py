"""The Russian translation is loaded and complete: the fleet page and its verdicts speak Russian."""

import polib  # one of Odoo's own requirements

from odoo.tests.common import TransactionCase
from odoo.tools.misc import file_path


class TestTranslation(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["optics_pos_ru54fz"], ["ru_RU"], overwrite=True)

    def test_the_fleet_page_is_russian(self):
        ru = self.env(context={"lang": "ru_RU"})
        self.assertEqual(ru.ref("optics_pos_ru54fz.action_till").name, "Офлайн-буфер")
        self.assertEqual(ru.ref("optics_pos_ru54fz.menu_till_fleet_root").name, "Кассы")
        labels = dict(ru["pos.offline.buffer.status"]._fields["health"]._description_selection(ru))
        self.assertEqual(labels["2_red"], "Критично")
        self.assertEqual(
            ru["ir.model.fields"]._get("optics.fiscal.document", "fd").field_description, "Номер ФД"
        )

    def test_every_term_of_the_module_has_a_russian_translation(self):
        po = polib.pofile(file_path("optics_pos_ru54fz/i18n/ru.po"))
        pot = polib.pofile(file_path("optics_pos_ru54fz/i18n/optics_pos_ru54fz.pot"))
        self.assertEqual({e.msgid for e in po}, {e.msgid for e in pot})
        self.assertFalse([e.msgid for e in po if not e.msgstr.strip()])

    def test_verdict_reasons_are_translated(self):
        till = self.env["pos.offline.buffer.status"].create({"name": "t", "pos_id": "tr-1"})
        till.with_context(lang="ru_RU")._record_heartbeat("001795470000000.00000", {"kkt": "paper_out"}, 0)
        self.assertIn("ККТ: paper_out", till.health_reasons)
