/** @odoo-module */
// The product screen's part of glasses jobs: the «Glasses job» and «Job pickup» buttons, and a scanned
// job label (GJ-26-00042) opens the pickup instead of looking for a product with that barcode.
import { _t } from "@web/core/l10n/translation";
import { Component } from "@odoo/owl";
import { patch } from "@web/core/utils/patch";
import { useService } from "@web/core/utils/hooks";
import { usePos } from "@point_of_sale/app/store/pos_hook";
import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";
import { ErrorPopup } from "@point_of_sale/app/errors/popups/error_popup";
import { TextInputPopup } from "@point_of_sale/app/utils/input_popups/text_input_popup";
import { GlassesJobPopup } from "@optics_pos_ru54fz/app/glasses_job_popup";
import { JOB_REF, pickUp } from "@optics_pos_ru54fz/app/glasses_job";

export class GlassesJobButton extends Component {
  static template = "optics_pos_ru54fz.GlassesJobButton";

  setup() {
    this.pos = usePos();
    this.popup = useService("popup");
  }

  async onClick() {
    const order = this.pos.get_order();
    const lines = order.get_orderlines();
    let problem = null;
    if (!order.get_partner()) {
      problem = _t("Choose the customer first: the job and its prescription are theirs.");
    } else if (!lines.length || lines.some((line) => line.get_quantity() <= 0)) {
      problem = _t("Ring up what the customer orders (lenses, frame, work) first.");
    } else if (order.optics_job_ref || order.get_paymentlines().length) {
      problem = _t("This order is already a job's advance or pickup, or has payments: start a new order.");
    }
    if (problem) {
      await this.popup.add(ErrorPopup, { title: _t("Glasses job"), body: problem });
      return;
    }
    const { confirmed } = await this.popup.add(GlassesJobPopup, {});
    if (confirmed) {
      this.pos.showScreen("PaymentScreen");
    }
  }
}

export class JobPickupButton extends Component {
  static template = "optics_pos_ru54fz.JobPickupButton";

  setup() {
    this.pos = usePos();
    this.popup = useService("popup");
  }

  async onClick() {
    const { confirmed, payload } = await this.popup.add(TextInputPopup, {
      title: _t("Job pickup"),
      placeholder: "GJ-26-00042",
    });
    if (confirmed && payload.trim()) {
      await pickUp(this.env, this.pos, payload.trim().toUpperCase());
    }
  }
}

ProductScreen.addControlButton({ component: GlassesJobButton });
ProductScreen.addControlButton({ component: JobPickupButton });

patch(ProductScreen.prototype, {
  async _barcodeProductAction(code) {
    if (JOB_REF.test(code.base_code)) {
      return pickUp(this.env, this.pos, code.base_code);
    }
    return super._barcodeProductAction(...arguments);
  },
});
