/** @odoo-module */
// «Correction receipt» (managers): a settlement that was not fiscalized at the time of payment is fixed
// with a correction receipt (54-FZ; FFD tags 1173, 1174 with 1178/1179). One Idempotency-Key per popup.
import { _t } from "@web/core/l10n/translation";
import { useState } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/store/pos_hook";
import { uuidv4 } from "@point_of_sale/utils";
import { AbstractAwaitablePopup } from "@point_of_sale/app/popup/abstract_awaitable_popup";
import { useAsyncLockedMethod } from "@point_of_sale/app/utils/hooks";
import { kktClient, KktUnreachableError } from "@optics_pos_ru54fz/app/kkt_client";
import { problemMessage, unreachableMessage } from "@optics_pos_ru54fz/app/kkt_messages";
import { cashierTags, kopecks, roubles } from "@optics_pos_ru54fz/app/fiscal_receipt";

/** VAT codes (1199) a manager may pick; the common optics ones first. */
export const VAT_CHOICES = [6, 11, 12, 5, 1, 2, 7, 8];

export class CorrectionPopup extends AbstractAwaitablePopup {
  static template = "optics_pos_ru54fz.CorrectionPopup";
  static defaultProps = { cancelKey: "Escape" };

  setup() {
    super.setup();
    this.pos = usePos();
    this.key = uuidv4();
    this.vatChoices = VAT_CHOICES;
    this.state = useState({
      name: "",
      amount: "",
      vat: 6,
      method: "cash",
      settlement: "sale",
      basisDate: new Date().toISOString().slice(0, 10),
      basisNumber: "",
      byOrder: false,
      message: "",
      ok: false,
    });
    this.send = useAsyncLockedMethod(this.send);
  }

  receipt() {
    const amount = roubles(kopecks(Number(String(this.state.amount).replace(",", "."))));
    const correction = {
      type: this.state.byOrder ? 1 : 0,
      basis_date: this.state.basisDate,
      settlement: this.state.settlement,
    };
    if (this.state.basisNumber.trim()) {
      correction.basis_number = this.state.basisNumber.trim();
    }
    return {
      pos_id: this.pos.config.optics_pos_id,
      type: "correction",
      correction,
      items: [{ name: this.state.name.trim(), price: amount, quantity: 1, vat: Number(this.state.vat) }],
      payments: [{ method: this.state.method, amount }],
      cashier: cashierTags(this.pos),
    };
  }

  async send() {
    let answer = null;
    try {
      answer = await kktClient(this.pos).postReceipt(this.receipt(), this.key);
    } catch (error) {
      if (!(error instanceof KktUnreachableError)) {
        throw error;
      }
    }
    this.state.ok = Boolean(answer && answer.ok);
    if (!answer) {
      this.state.message = unreachableMessage();
    } else if (!answer.ok) {
      this.state.message = problemMessage(answer.problem);
    } else if (answer.data.status === "printed") {
      const doc = answer.data.fiscal_doc;
      this.state.message = _t("Correction receipt printed: FD %s, FP %s.", doc.fd_number, doc.fiscal_sign);
    } else {
      this.state.message = _t("Correction receipt recorded: it will print when the KKT is back.");
    }
  }
}
