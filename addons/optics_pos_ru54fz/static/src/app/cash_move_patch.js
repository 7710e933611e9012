/** @odoo-module */
// Cash in / cash out (внесение / выплата) goes to the KKT first; Odoo records the amount on the session
// (Odoo's own try_cash_in_out) only once the KKT did it, with the KKT's document number in the reason.
// One Idempotency-Key per popup: a retry after an error never moves the cash twice on the KKT.
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { parseFloat } from "@web/views/fields/parsers";
import { uuidv4 } from "@point_of_sale/utils";
import { CashMovePopup } from "@point_of_sale/app/navbar/cash_move_popup/cash_move_popup";
import { ErrorPopup } from "@point_of_sale/app/errors/popups/error_popup";
import { kktClient, KktUnreachableError } from "@optics_pos_ru54fz/app/kkt_client";
import { problemMessage, unreachableMessage } from "@optics_pos_ru54fz/app/kkt_messages";
import { cashierTags, kopecks, roubles } from "@optics_pos_ru54fz/app/fiscal_receipt";

patch(CashMovePopup.prototype, {
  setup() {
    super.setup(...arguments);
    this.opticsKeys = {};
  },
  async confirm() {
    const amount = parseFloat(this.state.amount || "0");
    if (!this.pos.config.optics_fiscal || !amount || amount < 0) {
      return super.confirm(...arguments);
    }
    const kind = this.state.type;
    const signature = `${kind}:${kopecks(amount)}`;
    this.opticsKeys[signature] = this.opticsKeys[signature] || uuidv4();
    let answer = null;
    try {
      answer = await kktClient(this.pos).cash(
        kind,
        roubles(kopecks(amount)),
        cashierTags(this.pos),
        this.opticsKeys[signature],
      );
    } catch (error) {
      if (!(error instanceof KktUnreachableError)) {
        throw error;
      }
    }
    if (!answer || !answer.ok) {
      await this.popup.add(ErrorPopup, {
        title: _t("Cash in / out is not done"),
        body: answer ? problemMessage(answer.problem) : unreachableMessage(),
      });
      return;
    }
    const note = _t("KKT document %s", answer.data.document_number ?? "—");
    this.state.reason = [this.state.reason.trim(), note].filter(Boolean).join(" — ");
    return super.confirm(...arguments);
  },
});
