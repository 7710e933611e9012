/** @odoo-module */
// POS tours of glasses jobs through real tills (tests/test_job_tour.py starts two tills and checks their FN
// journals and Odoo's job; the screens alone prove nothing): an advance taken at till A, the pickup by the
// job label's barcode at till B with the prepayment offset, a pickup with Odoo unreachable, and the refund
// of a cancelled job's advance.
import { registry } from "@web/core/registry";
import * as ProductScreen from "@point_of_sale/../tests/tours/helpers/ProductScreenTourMethods";
import * as PaymentScreen from "@point_of_sale/../tests/tours/helpers/PaymentScreenTourMethods";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/helpers/ReceiptScreenTourMethods";
import * as TicketScreen from "@point_of_sale/../tests/tours/helpers/TicketScreenTourMethods";
import { scan_barcode } from "@point_of_sale/../tests/tours/helpers/utils";
import { kktIs, odooReachable, receiptCarriesFd } from "@optics_pos_ru54fz/../tests/tours/helpers";

const tours = registry.category("web_tour.tours");

function printed() {
  return [...ReceiptScreen.isShown(), ...receiptCarriesFd(), ...ReceiptScreen.clickNextOrder()];
}

/** Lenses ×2 (3000.00, VAT-exempt), a frame (4000.00, exempt) and a case (500.00, 22 %): 10 500.00; a
 * job with an advance of 4000.00 paid by card. */
tours.add("optics_job_advance", {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...kktIs("online"),
    ...ProductScreen.clickPartnerButton(),
    ...ProductScreen.clickCustomer("Tour Patient"),
    ...ProductScreen.addOrderline("Tour Lens", "2"),
    ...ProductScreen.addOrderline("Tour Job Frame", "1"),
    ...ProductScreen.addOrderline("Tour Job Case", "1"),
    { content: "«Glasses job»", trigger: ".optics-job-button" },
    {
      content: "the customer's prescription is offered",
      trigger: ".optics-job-rx:has(option:contains('RX/'))",
      isCheck: true,
    },
    { content: "the advance", trigger: ".optics-job-advance", run: "text 4000" },
    { content: "create the job", trigger: ".optics-job-create" },
    ...PaymentScreen.isShown(),
    ...PaymentScreen.totalIs("4,000.00"),
    ...PaymentScreen.clickPaymentMethod("Bank"),
    ...PaymentScreen.remainingIs("0.00"),
    ...PaymentScreen.clickValidate(),
    ...printed(),
  ],
});

/** The label scanned at till B: the job's lines, the advances as the offset, the balance in cash. */
function pickUp(reference) {
  return [
    ...scan_barcode(reference),
    ...PaymentScreen.isShown(),
    ...PaymentScreen.totalDueIs("10,500.00"),
    ...PaymentScreen.selectedPaymentlineHas("Prepayment offset", "4,000.00"),
    ...PaymentScreen.remainingIs("6,500.00"),
    ...PaymentScreen.clickPaymentMethod("Cash"),
    ...PaymentScreen.remainingIs("0.00"),
    ...PaymentScreen.clickValidate(),
    ...printed(),
  ];
}

/** The job to pick up: the test names it in the page's URL (`optics_job=GJ-…`). */
function jobInUrl() {
  return new URLSearchParams(window.location.search).get("optics_job");
}

tours.add("optics_job_pickup", {
  test: true,
  // The session was opened by the advance's tour: no opening popup here.
  steps: () => [...kktIs("online"), ...pickUp(jobInUrl())],
});

/** The POS started online (its data holds the store's Ready jobs); then Odoo becomes unreachable: the
 * pickup still works from that data, the till prints, and the order reaches Odoo once it is back. */
tours.add("optics_job_pickup_offline", {
  test: true,
  steps: () => [
    ...kktIs("online"),
    ...odooReachable(false),
    ...pickUp(jobInUrl()),
    ...odooReachable(true),
    {
      content: "the order sold offline goes to Odoo",
      trigger: "body",
      run: async () => {
        await window.posmodel.push_orders();
        if (window.posmodel.db.get_orders().length) {
          throw new Error("the pickup order is still waiting for Odoo");
        }
      },
    },
  ],
});

/** The job was cancelled: its advance (two lines, one per VAT code) is refunded by card from the order
 * list, as it was taken. */
tours.add("optics_job_refund_advance", {
  test: true,
  steps: () => [
    ...kktIs("online"),
    ...ProductScreen.clickRefund(),
    ...TicketScreen.selectOrder("-0001"),
    { content: "the first advance line", trigger: ".ticket-screen .orderline:eq(0)" },
    ...ProductScreen.pressNumpad("1"),
    { content: "the second advance line", trigger: ".ticket-screen .orderline:eq(1)" },
    ...ProductScreen.pressNumpad("1"),
    ...TicketScreen.confirmRefund(),
    ...ProductScreen.isShown(),
    ...ProductScreen.clickPayButton(),
    ...PaymentScreen.clickPaymentMethod("Bank"),
    ...PaymentScreen.remainingIs("0.00"),
    ...PaymentScreen.clickValidate(),
    ...ReceiptScreen.isShown(),
    { content: "a refund receipt (n=2)", trigger: ".optics-fiscal-qr[data-qr*='&n=2']", isCheck: true },
    ...ReceiptScreen.clickNextOrder(),
  ],
});
