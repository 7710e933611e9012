/** @odoo-module */
// The POS bar: the till and offline-copy indicators, «KKT shift» and (managers) «Correction receipt» in the menu; pending Z
// reports go to Odoo whenever the bar is built (the POS starting, or coming back online).
import { patch } from "@web/core/utils/patch";
import { Navbar } from "@point_of_sale/app/navbar/navbar";
import { KktStatus } from "@optics_pos_ru54fz/app/kkt_status";
import { OfflineStatus } from "@optics_pos_ru54fz/app/offline_status";
import { ShiftPopup } from "@optics_pos_ru54fz/app/shift_popup";
import { CorrectionPopup } from "@optics_pos_ru54fz/app/correction_popup";
import { flushShiftReports } from "@optics_pos_ru54fz/app/shift";

patch(Navbar, { components: { ...Navbar.components, KktStatus, OfflineStatus } });

patch(Navbar.prototype, {
  setup() {
    super.setup(...arguments);
    if (this.pos.config.optics_fiscal) {
      flushShiftReports(this.pos, this.env.services.orm);
    }
  },
  onOpticsShiftClick() {
    this.closeMenu?.();
    this.popup.add(ShiftPopup, {});
  },
  onOpticsCorrectionClick() {
    this.closeMenu?.();
    this.popup.add(CorrectionPopup, {});
  },
});
