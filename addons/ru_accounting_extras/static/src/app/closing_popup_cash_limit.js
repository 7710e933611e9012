/** @odoo-module */
// The store's cash limit in the POS closing popup: as the cashier types the counted cash, a warning line
// says by how much the close will leave the store's cash account over its limit (the excess goes to the
// bank). Closing stays allowed. The figures come from pos.session.get_closing_control_data.
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { parseFloat } from "@web/views/fields/parsers";
import { ClosePosPopup } from "@point_of_sale/app/navbar/closing_popup/closing_popup";

// ru_cash_limit: the store's limit (0: nothing to check); ru_cash_other: the store's cash other than this
// drawer's (the cash account's posted balance less the part of this drawer already posted).
patch(ClosePosPopup, {
  props: [...ClosePosPopup.props, "ru_cash_limit?", "ru_cash_other?"],
});

patch(ClosePosPopup.prototype, {
  /** The cash left over the limit once the counted cash is booked: a positive amount, or 0 when within
   * the limit, without a limit, or while the counted cash is not a number. */
  ruCashLimitExcess() {
    const limit = this.props.ru_cash_limit || 0;
    const cashId = this.props.default_cash_details?.id;
    const counted = cashId && this.state.payments[cashId]?.counted;
    if (!this.pos.config.cash_control || limit <= 0 || !this.env.utils.isValidFloat(counted)) {
      return 0;
    }
    const excess = this.env.utils.roundCurrency(
      (this.props.ru_cash_other || 0) + parseFloat(counted) - limit,
    );
    return excess > 0 ? excess : 0;
  },
  /** The warning line shown under the payment methods, or "" when the limit is kept. */
  get ruCashLimitWarning() {
    const excess = this.ruCashLimitExcess();
    if (!excess) {
      return "";
    }
    return _t("Cash limit %(limit)s exceeded by %(excess)s: hand the excess over to the bank", {
      limit: this.env.utils.formatCurrency(this.props.ru_cash_limit),
      excess: this.env.utils.formatCurrency(excess),
    });
  },
});
