/** @odoo-module */
// Closing the Odoo session offers the Z report on the till first (54-FZ: a shift lasts at most 24 h).
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { ClosePosPopup } from "@point_of_sale/app/navbar/closing_popup/closing_popup";
import { ConfirmPopup } from "@point_of_sale/app/utils/confirm_popup/confirm_popup";
import { ErrorPopup } from "@point_of_sale/app/errors/popups/error_popup";
import { shiftAction } from "@optics_pos_ru54fz/app/shift";

patch(ClosePosPopup.prototype, {
  async closeSession() {
    if (this.pos.config.optics_fiscal) {
      const { confirmed } = await this.popup.add(ConfirmPopup, {
        title: _t("Close the KKT shift?"),
        body: _t("Print the Z report on the till before closing the session."),
        confirmText: _t("Print Z report"),
        cancelText: _t("Not now"),
      });
      if (confirmed) {
        const result = await shiftAction(this.pos, this.orm, "close");
        if (!result.ok) {
          await this.popup.add(ErrorPopup, { title: _t("Z report"), body: result.message });
          return;
        }
      }
    }
    return super.closeSession(...arguments);
  },
});
