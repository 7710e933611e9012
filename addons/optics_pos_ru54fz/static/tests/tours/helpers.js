/** @odoo-module */
// Steps the optics POS tours share: the till indicator, the fiscal receipt on screen, Odoo made
// unreachable from the page (pos_fiscal_tours.js, job_tours.js).

export function receiptCarriesFd() {
  return [
    {
      content: "the receipt carries the FD",
      trigger: ".optics-fiscal .optics-fd:not(:empty)",
      isCheck: true,
    },
  ];
}

export function kktIs(level) {
  return [
    {
      content: `the till indicator says ${level}`,
      trigger: `.optics-kkt-status[data-level='${level}']`,
      isCheck: true,
    },
  ];
}

/** Odoo's RPCs fail as if the network to Odoo were down (the till, on loopback, still answers). */
export function odooReachable(reachable) {
  return [
    {
      content: reachable ? "Odoo is reachable again" : "Odoo becomes unreachable",
      trigger: "body",
      run: () => {
        if (!window.__opticsXhrPatched) {
          window.__opticsXhrPatched = true;
          const open = XMLHttpRequest.prototype.open;
          const send = XMLHttpRequest.prototype.send;
          XMLHttpRequest.prototype.open = function (method, url) {
            this.__opticsUrl = String(url);
            return open.apply(this, arguments);
          };
          XMLHttpRequest.prototype.send = function () {
            if (window.__opticsOdooDown && this.__opticsUrl.includes("/web/dataset/")) {
              setTimeout(() => this.dispatchEvent(new ProgressEvent("error")));
              return;
            }
            return send.apply(this, arguments);
          };
        }
        window.__opticsOdooDown = !reachable;
        // The bar shows the offline state; Odoo's "You're offline" popup would only interrupt the sale.
        window.posmodel.showOfflineWarning = reachable;
      },
    },
  ];
}
