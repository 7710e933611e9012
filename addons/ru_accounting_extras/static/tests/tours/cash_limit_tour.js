/** @odoo-module */
// The store's cash limit in the POS closing popup (tests/test_cash_limit_tour.py): the store's cash account
// holds 800.00 posted, its limit is 1 000.00, the drawer is empty at opening and nothing is sold. Counted
// 150 → 950.00, and 200 → 1 000.00 (the limit itself): no warning; counted 300 → 1 100.00, the warning
// with the excess 100.00. The session is then closed with 300 (the test checks it, and the server's own
// warning after the close).
import { registry } from "@web/core/registry";
import * as Chrome from "@point_of_sale/../tests/tours/helpers/ChromeTourMethods";
import * as ProductScreen from "@point_of_sale/../tests/tours/helpers/ProductScreenTourMethods";

/** Count `amount` in the drawer; the popup's difference column shows it (nothing expected). */
function count(amount) {
  return [...ProductScreen.closeWithCashAmount(amount), ...ProductScreen.cashDifferenceIs(`${amount}.00`)];
}

function noWarning(amount) {
  return [
    {
      content: `counted ${amount}: no cash-limit warning`,
      trigger: ".close-pos-popup:not(:has(.ru-cash-limit-warning))",
      isCheck: true,
    },
  ];
}

registry.category("web_tour.tours").add("ru_cash_limit_closing", {
  test: true,
  steps: () =>
    [
      ProductScreen.confirmOpeningPopup(),
      Chrome.clickMenuButton(),
      ProductScreen.clickCloseButton(),
      count("150"),
      noWarning("150"),
      count("200"),
      noWarning("200"),
      count("300"),
      {
        content: "counted 300: 800.00 + 300.00 is over the limit 1,000.00 by 100.00",
        trigger:
          ".close-pos-popup .ru-cash-limit-warning[data-ru-excess='100']" +
          ":contains('Cash limit'):contains('1,000.00 exceeded by'):contains('100.00: hand the excess')",
        isCheck: true,
      },
      ProductScreen.clickCloseSession(),
      {
        content: "accept the difference (300.00 counted, nothing expected)",
        trigger: ".popup-confirm .button.confirm",
      },
      {
        content: "the session is closed: back in the web client",
        trigger: ".o_web_client",
        isCheck: true,
      },
    ].flat(),
});
