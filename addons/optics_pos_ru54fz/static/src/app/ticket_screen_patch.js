/** @odoo-module */
// Refunds name the sale's till receipt (`original_receipt_id`): the order list remembers it on every line
// chosen for a refund (the sale's `fiscal_receipt_id`, loaded with the order from Odoo or kept locally).
import { patch } from "@web/core/utils/patch";
import { TicketScreen } from "@point_of_sale/app/screens/ticket_screen/ticket_screen";

patch(TicketScreen.prototype, {
  _getToRefundDetail(orderline) {
    const detail = super._getToRefundDetail(...arguments);
    const order = orderline.order;
    detail.orderline.opticsReceiptId = order.fiscal_receipt_id || order.optics_fiscal?.receipt_id || null;
    return detail;
  },
});
