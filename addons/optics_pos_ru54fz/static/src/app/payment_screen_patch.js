/** @odoo-module */
// Fiscalization at payment validation: before Odoo finalizes the order, the till's KKT signs the receipt
// (or journals it durably: `buffered`). The order is finalized only then; any other answer leaves it open
// with the cashier told why, and a retry sends the same Idempotency-Key (the order's access_token), so the
// adapter never prints it twice. Odoo's validateOrder already runs under an async lock (no double click).
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { uuidv4 } from "@point_of_sale/utils";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";
import { ErrorPopup } from "@point_of_sale/app/errors/popups/error_popup";
import { buildReceipt, FiscalDataError } from "@optics_pos_ru54fz/app/fiscal_receipt";
import { kktClient, KktUnreachableError } from "@optics_pos_ru54fz/app/kkt_client";
import { bufferedMessage, problemMessage, unreachableMessage } from "@optics_pos_ru54fz/app/kkt_messages";

patch(PaymentScreen.prototype, {
  async _finalizeValidation() {
    if (this.pos.config.optics_fiscal && !this.currentOrder.optics_fiscal) {
      if (!(await this.opticsFiscalize(this.currentOrder))) {
        return;
      }
    }
    return super._finalizeValidation(...arguments);
  },

  /** Send the order to the till; true when it is printed or durably journaled (`buffered`). */
  async opticsFiscalize(order) {
    let receipt;
    try {
      receipt = buildReceipt(this.pos, order);
    } catch (error) {
      if (error instanceof FiscalDataError) {
        await this.popup.add(ErrorPopup, { title: _t("The receipt cannot be printed"), body: error.message });
        return false;
      }
      throw error;
    }
    let answer;
    this.env.services.ui.block();
    try {
      answer = await kktClient(this.pos).postReceipt(receipt, order.access_token);
    } catch (error) {
      if (!(error instanceof KktUnreachableError)) {
        throw error;
      }
      answer = null;
    } finally {
      this.env.services.ui.unblock();
    }
    if (!answer) {
      await this.popup.add(ErrorPopup, { title: _t("The till does not answer"), body: unreachableMessage() });
      return false;
    }
    if (!answer.ok) {
      if (answer.problem.code === "kkt_rejected") {
        // Final under this key and nothing was fiscalized: the corrected order goes under a new key.
        order.access_token = uuidv4();
        this.pos.db.save_unpaid_order(order);
      }
      await this.popup.add(ErrorPopup, {
        title: _t("The receipt is not printed"),
        body: problemMessage(answer.problem),
      });
      return false;
    }
    order.optics_fiscal = { ...answer.data, kind: receipt.type };
    order.optics_buyer_contact = receipt.buyer_contact;
    this.pos.db.save_unpaid_order(order);
    if (answer.data.status === "buffered") {
      this.notification.add(bufferedMessage(answer.data.reason), 6000);
    }
    return true;
  },
});
