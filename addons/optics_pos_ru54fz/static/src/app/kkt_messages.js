/** @odoo-module */
// What the cashier reads for each answer of the till: one Russian sentence per problem `code` of the
// adapter (appliance/kkt_adapter/web/errors.py PROBLEMS) and per `buffered` reason.
import { _t } from "@web/core/l10n/translation";

export function problemMessage(problem) {
  const messages = {
    invalid_receipt: _t("The till refused the receipt data: %s", problem.detail || ""),
    idempotency_conflict: _t(
      "This order was already sent to the till with other contents (another tab, or it changed after a first attempt). Open the order list: it may already be paid.",
    ),
    original_not_found: _t(
      "The sale being refunded was not printed on this till: refund it on the till that sold it.",
    ),
    original_not_refundable: _t("This receipt cannot be refunded: %s", problem.detail || ""),
    original_not_delivered: _t(
      "The sale has not reached the tax service (OFD) and Odoo yet: try the refund again in a few minutes.",
    ),
    refund_exceeds_original: _t("The refund exceeds what is left of the sale: %s", problem.detail || ""),
    prepayment_exceeds_advance: _t(
      "The prepayment offset exceeds the advance this till took for the job: %s. Check the job in Odoo.",
      problem.detail || "",
    ),
    kkt_rejected: _t(
      "The KKT refused this receipt: %s. Nothing was printed; check the order.",
      problem.detail || "",
    ),
    buffer_full: _t(
      "The till's offline buffer is full: sales are blocked until receipts are delivered. Call support.",
    ),
    shutting_down: _t("The till is shutting down: sell after it restarts."),
    storage_full: _t("The till's disk is full: the receipt was not accepted. Call support."),
    shift_already_open: _t("The shift is already open."),
    shift_not_open: _t("No shift is open on the KKT."),
    kkt_refused: _t("The KKT refused: %s", problem.detail || ""),
    kkt_timeout: _t("The KKT did not answer. Try again."),
    kkt_unavailable: _t("The KKT is not available (unplugged, off or busy). Check it and try again."),
    insufficient_cash: _t("Not enough cash in the drawer for this payout."),
    cors_origin_denied: _t("The till does not accept requests from this Odoo address. Call support."),
  };
  return (
    messages[problem.code] ||
    _t("The till answered with an error (%s): %s", problem.code, problem.detail || "")
  );
}

export function unreachableMessage() {
  return _t(
    "The till's KKT adapter does not answer. The order is not paid yet: check the till and press Validate again (the receipt will not print twice).",
  );
}

export function bufferedMessage(reason) {
  const why = {
    kkt_unreachable: _t("the KKT does not answer"),
    kkt_timeout: _t("the KKT does not answer"),
    kkt_paper_out: _t("no paper in the KKT"),
    kkt_shift_expired: _t("the shift is over 24 hours: close it with a Z report"),
    kkt_shift_closed: _t("no shift is open"),
    kkt_error: _t("a KKT error"),
    print_retry: _t("the KKT is busy"),
    storage_full: _t("the till's disk is full"),
  };
  return _t(
    "The sale is recorded; the receipt will print by itself when the KKT is back (%s).",
    why[reason?.code] || reason?.detail || _t("the KKT is not ready"),
  );
}
