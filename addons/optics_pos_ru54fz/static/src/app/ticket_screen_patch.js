/** @odoo-module */
// Refunds name the sale's till receipt (`original_receipt_id`): the order list remembers it on every line
// chosen for a refund (the sale's `fiscal_receipt_id`, loaded with the order from Odoo or kept locally),
// and, for a glasses job's advance, the job and the advance's VAT and 1214.
import { patch } from "@web/core/utils/patch";
import { TicketScreen } from "@point_of_sale/app/screens/ticket_screen/ticket_screen";

patch(TicketScreen.prototype, {
  _getToRefundDetail(orderline) {
    const detail = super._getToRefundDetail(...arguments);
    const order = orderline.order;
    detail.orderline.opticsReceiptId = order.fiscal_receipt_id || order.optics_fiscal?.receipt_id || null;
    detail.orderline.opticsAdvance = orderline.optics_advance || null;
    detail.orderline.opticsJobRef = order.optics_job_ref || null;
    return detail;
  },
  /** A glasses job's advance is refunded as it was taken: same VAT and 1214, naming the job (1192). */
  _prepareRefundOrderlineOptions(toRefundDetail) {
    const options = super._prepareRefundOrderlineOptions(...arguments);
    const { opticsAdvance } = toRefundDetail.orderline;
    if (opticsAdvance) {
      options.extras = { ...options.extras, optics_advance: opticsAdvance };
    }
    return options;
  },
  async onDoRefund() {
    await super.onDoRefund(...arguments);
    const order = this.pos.get_order();
    const refunded = order
      ?.get_orderlines()
      .map((line) => this.pos.toRefundLines[line.refunded_orderline_id]?.orderline.opticsJobRef)
      .filter(Boolean);
    if (refunded?.length && !order.optics_job_ref) {
      order.optics_job_ref = refunded[0];
      order.optics_job_role = "refund";
    }
  },
});
