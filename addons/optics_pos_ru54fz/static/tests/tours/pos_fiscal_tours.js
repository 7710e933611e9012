/** @odoo-module */
// POS tours of fiscalization through the till (tests/test_pos_fiscal.py starts the emulator and the adapter
// and checks the FN journal; the screens alone prove nothing).
import { registry } from "@web/core/registry";
import * as ProductScreen from "@point_of_sale/../tests/tours/helpers/ProductScreenTourMethods";
import * as PaymentScreen from "@point_of_sale/../tests/tours/helpers/PaymentScreenTourMethods";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/helpers/ReceiptScreenTourMethods";
import * as Chrome from "@point_of_sale/../tests/tours/helpers/ChromeTourMethods";
import * as TicketScreen from "@point_of_sale/../tests/tours/helpers/TicketScreenTourMethods";
import { kktIs, odooReachable, receiptCarriesFd } from "@optics_pos_ru54fz/../tests/tours/helpers";

const tours = registry.category("web_tour.tours");

/** Frame ×1 (85.00, VAT-exempt) and case ×2 (4.50, 22 %): 94.00, paid 50 by card and 44 in cash. */
function ringUpSplitSale() {
  return [
    ...ProductScreen.addOrderline("Tour Frame", "1"),
    ...ProductScreen.addOrderline("Tour Case", "2"),
    ...ProductScreen.clickPayButton(),
    ...PaymentScreen.clickPaymentMethod("Bank"),
    ...PaymentScreen.pressNumpad("5 0"),
    ...PaymentScreen.selectedPaymentlineHas("Bank", "50.00"),
    ...PaymentScreen.clickPaymentMethod("Cash"),
    ...PaymentScreen.remainingIs("0.00"),
  ];
}

tours.add("optics_pos_fiscal_sale", {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...kktIs("online"),
    ...ringUpSplitSale(),
    ...PaymentScreen.clickValidate(),
    ...ReceiptScreen.isShown(),
    ...receiptCarriesFd(),
    { content: "and the FNS check QR", trigger: ".optics-fiscal-qr[data-qr*='&n=1']", isCheck: true },
    ...ReceiptScreen.clickNextOrder(),
  ],
});

tours.add("optics_pos_fiscal_buffered", {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...ringUpSplitSale(),
    ...PaymentScreen.clickValidate(),
    ...ReceiptScreen.isShown(),
    {
      content: "the receipt says it prints when the KKT is back",
      trigger: ".optics-fiscal .optics-fiscal-buffered",
      isCheck: true,
    },
    ...ReceiptScreen.clickNextOrder(),
  ],
});

tours.add("optics_pos_fiscal_unreachable", {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...ringUpSplitSale(),
    ...PaymentScreen.clickValidate(),
    {
      content: "the till does not answer: the order is not paid",
      trigger: ".popup-error .modal-title:contains('The till does not answer')",
      isCheck: true,
    },
    { content: "close the error", trigger: ".popup-error .button.cancel" },
    ...PaymentScreen.isShown(),
    ...kktIs("online"),
    ...PaymentScreen.clickValidate(),
    ...ReceiptScreen.isShown(),
    { content: "printed after the retry", trigger: ".optics-fiscal .optics-fd:not(:empty)", isCheck: true },
    ...ReceiptScreen.clickNextOrder(),
  ],
});

tours.add("optics_pos_fiscal_buffer_full", {
  test: true,
  steps: () => [
    ...ringUpSplitSale(),
    ...PaymentScreen.clickValidate(),
    {
      content: "the buffer is full: sales are blocked",
      trigger: ".popup-error:contains('offline buffer is full')",
      isCheck: true,
    },
    { content: "close the error", trigger: ".popup-error .button.cancel" },
    ...kktIs("offline"),
    ...PaymentScreen.isShown(),
  ],
});

function openShiftPopup() {
  return [
    ...Chrome.clickMenuButton(),
    { content: "open «KKT shift»", trigger: ".optics-shift-button" },
    { content: "the shift popup", trigger: ".optics-shift-popup", isCheck: true },
  ];
}

tours.add("optics_pos_fiscal_shift_offline", {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...kktIs("online"),
    ...odooReachable(false),
    ...openShiftPopup(),
    { content: "X report", trigger: ".optics-shift-x" },
    {
      content: "X printed",
      trigger: ".optics-shift-result.alert-success:contains('X report')",
      isCheck: true,
    },
    { content: "Z report", trigger: ".optics-shift-z" },
    {
      content: "the shift is closed; Odoo gets the report later",
      trigger: ".optics-shift-result.alert-success:contains('Odoo is unreachable')",
      isCheck: true,
    },
    {
      content: "one Z report waits for Odoo",
      trigger: ".optics-shift-pending[data-count='1']",
      isCheck: true,
    },
    { content: "close the popup", trigger: ".optics-shift-popup .cancel" },
    ...odooReachable(true),
    ...openShiftPopup(),
    { content: "the Z report reached Odoo", trigger: ".optics-shift-pending[data-count='0']", isCheck: true },
    { content: "close the popup", trigger: ".optics-shift-popup .cancel" },
  ],
});

tours.add("optics_pos_fiscal_refund", {
  test: true,
  steps: () => [
    ...ProductScreen.clickRefund(),
    ...TicketScreen.selectOrder("-0001"),
    ...ProductScreen.pressNumpad("1"),
    ...TicketScreen.toRefundTextContains("To Refund: 1.00"),
    ...TicketScreen.confirmRefund(),
    ...ProductScreen.isShown(),
    ...ProductScreen.clickPayButton(),
    ...PaymentScreen.clickPaymentMethod("Cash"),
    ...PaymentScreen.clickValidate(),
    ...ReceiptScreen.isShown(),
    { content: "a refund receipt (n=2)", trigger: ".optics-fiscal-qr[data-qr*='&n=2']", isCheck: true },
    ...ReceiptScreen.clickNextOrder(),
  ],
});

tours.add("optics_pos_fiscal_correction", {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...Chrome.clickMenuButton(),
    { content: "open «Correction receipt»", trigger: ".optics-correction-button" },
    { content: "what was sold", trigger: ".optics-correction-name", run: "text Tour lens" },
    { content: "amount", trigger: ".optics-correction-amount", run: "text 32.00" },
    { content: "print", trigger: ".optics-correction-send" },
    {
      content: "the correction receipt is printed",
      trigger: ".optics-correction-result.alert-success:contains('FD')",
      isCheck: true,
    },
    { content: "close", trigger: ".optics-correction-popup .cancel" },
  ],
});

tours.add("optics_pos_fiscal_cash", {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...Chrome.clickMenuButton(),
    { content: "open Cash In/Out", trigger: "li.navbar-button:contains('Cash In/Out')" },
    { content: "cash in", trigger: ".cash-move-popup .input-type:contains('Cash In')" },
    { content: "amount", trigger: ".cash-move-popup input", run: "text 500" },
    { content: "confirm", trigger: ".cash-move-popup .button.confirm" },
    { content: "done", trigger: "body:not(:has(.cash-move-popup))", isCheck: true },
    ...Chrome.clickMenuButton(),
    { content: "open Cash In/Out", trigger: "li.navbar-button:contains('Cash In/Out')" },
    { content: "cash out", trigger: ".cash-move-popup .input-type:contains('Cash Out')" },
    { content: "amount", trigger: ".cash-move-popup input", run: "text 120" },
    { content: "confirm", trigger: ".cash-move-popup .button.confirm" },
    { content: "done", trigger: "body:not(:has(.cash-move-popup))", isCheck: true },
  ],
});

/*
 * Two tabs, one order (tests/test_pos_fiscal.py test_9). The first tab runs `optics_pos_fiscal_two_tabs`;
 * the test opens a second page of the same browser (same cookies, same localStorage) over the DevTools
 * protocol and runs `optics_pos_fiscal_other_tab` there. Tabs and test talk through <body> attributes:
 * `data-optics-tab` (where the tab is), `data-optics-order` (the key, access_token, of its order) and
 * `data-optics-go` (set by the test).
 */

/** Tell the test where this tab is, with the key of the order on its screen. */
function tellTest(state) {
  return [
    {
      content: `tell the test: ${state}`,
      trigger: "body",
      run: () => {
        document.body.dataset.opticsOrder = window.posmodel.get_order().access_token;
        document.body.dataset.opticsTab = state;
      },
    },
  ];
}

function waitForTest(go) {
  return [
    {
      content: `wait for the test: ${go}`,
      trigger: `body[data-optics-go='${go}']`,
      isCheck: true,
      timeout: 60000,
    },
  ];
}

/** Note when this tab's receipt requests to the till start and end: the test compares the two tabs. */
function recordTillRequests() {
  if (window.__opticsTill) {
    return;
  }
  window.__opticsTill = [];
  const fetch = window.fetch;
  window.fetch = function (url) {
    if (!String(url).endsWith("/v1/kkt/receipt")) {
      return fetch.apply(this, arguments);
    }
    const call = { start: Date.now(), end: null, status: null };
    window.__opticsTill.push(call);
    return fetch.apply(this, arguments).then(
      (response) => {
        Object.assign(call, { end: Date.now(), status: response.status });
        return response;
      },
      (error) => {
        Object.assign(call, { end: Date.now(), status: String(error) });
        throw error;
      },
    );
  };
}

/**
 * Odoo 17 sends the older POS tab back to the backend when a newer one loads (PosStore.closeOtherTabs, a
 * "close_tabs" message through localStorage → closePos), except when that tab cannot push its unsynced
 * orders (Odoo unreachable): it then stays, and both tabs sell from the same unpaid orders. This tab plays
 * that one: its closePos does nothing (a storage listener cannot stop Odoo's, registered first on window).
 */
function keepThisTabOpen() {
  window.posmodel.closePos = async () => {};
}

/**
 * A page that loads resumes every tour it finds in localStorage (web_tour's tourState), and the tabs share
 * it: this tour's state goes before the other tab loads (the tour runs on from memory here).
 */
function forgetTourState(tourName) {
  for (const key of Object.keys(window.localStorage)) {
    if (key.startsWith(`tour__${tourName}__`)) {
      window.localStorage.removeItem(key);
    }
  }
}

const FIRST_TAB_TOUR = "optics_pos_fiscal_two_tabs";

/** Ring up a sale, let the other tab open it, validate on the test's go, wait until the other tab is done. */
function sellInTwoTabs(phase) {
  return [
    ...ringUpSplitSale(),
    {
      content: "the other tab may open this order",
      trigger: "body",
      run: () => {
        keepThisTabOpen();
        recordTillRequests();
        forgetTourState(FIRST_TAB_TOUR);
      },
    },
    ...tellTest(`${phase}:ready`),
    ...waitForTest(phase),
    ...PaymentScreen.clickValidate(),
    ...ReceiptScreen.isShown(),
    ...receiptCarriesFd(),
    ...tellTest(`${phase}:done`),
    ...waitForTest(`${phase}:over`),
  ];
}

tours.add(FIRST_TAB_TOUR, {
  test: true,
  steps: () => [
    ...ProductScreen.confirmOpeningPopup(),
    ...kktIs("online"),
    ...sellInTwoTabs("at_once"),
    ...ReceiptScreen.clickNextOrder(),
    ...sellInTwoTabs("in_turn"),
  ],
});

tours.add("optics_pos_fiscal_other_tab", {
  test: true,
  steps: () => [
    ...ProductScreen.clickPayButton(),
    ...PaymentScreen.remainingIs("0.00"),
    { content: "record the till requests", trigger: "body", run: recordTillRequests },
    ...tellTest("ready"),
    ...waitForTest("now"),
    ...PaymentScreen.clickValidate(),
    ...ReceiptScreen.isShown(),
    ...receiptCarriesFd(),
  ],
});
