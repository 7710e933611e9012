/** @odoo-module */
// The FFD 1.2 receipt of a POS order as the till's adapter takes it (docs/api/openapi.yaml ReceiptRequest):
// lines with VAT (1199) from the taxes' codes, payment subject/method (1212/1214) from the product (a glasses
// job's advance: its own), split payments with the prepayment offset (1215) of a job's pickup, the cashier (1021/1203) and the buyer's contact (1008). Built from the order alone, so the
// same order always gives the same body: a retry after a reload is recognised by the adapter as the same
// receipt under the same Idempotency-Key (the order's access_token).
import { _t } from "@web/core/l10n/translation";

/** The order cannot be fiscalized as it is; `message` tells the cashier what to fix. */
export class FiscalDataError extends Error {
  constructor(message) {
    super(message);
    this.name = "FiscalDataError";
  }
}

/** Tag 1054 of the FNS QR: 1 sale, 2 sale return. */
const SETTLEMENT = { sale: 1, refund: 2 };
/** Names the KKT prints hold at most 128 characters (FF46). */
const NAME_LENGTH = 128;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function kopecks(amount) {
  return Math.round(Math.abs(amount) * 100);
}

export function roubles(kop) {
  return `${Math.floor(kop / 100)}.${String(kop % 100).padStart(2, "0")}`;
}

function vatCode(line) {
  const taxes = line._getProductTaxesAfterFiscalPosition();
  const codes = new Set(taxes.map((tax) => tax.optics_ffd_vat_code).filter(Boolean));
  if (taxes.length === 0 || codes.size !== 1 || taxes.some((tax) => !tax.optics_ffd_vat_code)) {
    throw new FiscalDataError(
      _t(
        "“%s” cannot be sold: its tax has no FFD VAT code (1199). A manager sets it on the tax (Accounting → Taxes).",
        line.get_full_product_name(),
      ),
    );
  }
  return Number([...codes][0]);
}

function item(line) {
  const product = line.get_product();
  // A glasses job's advance: its own VAT (the calculated rate) and 1214 = 1 or 2 (glasses_job.js).
  const advance = line.optics_advance;
  const quantity = Math.abs(line.get_quantity());
  const prices = line.get_all_prices(1);
  const amount = kopecks(line.get_price_with_tax());
  const price = kopecks(prices.priceWithTaxBeforeDiscount);
  const body = {
    name: line.get_full_product_name().trim().slice(0, NAME_LENGTH),
    price: roubles(price),
    quantity: Number(quantity.toFixed(3)),
    vat: advance ? advance.vat : vatCode(line),
    payment_subject: Number(product.optics_ffd_payment_subject || 1),
    payment_method: advance ? advance.method : Number(product.optics_ffd_payment_method || 4),
  };
  if (amount !== Math.round(price * quantity)) {
    body.amount = roubles(amount);
  }
  return { body, amount };
}

function payments(order, total) {
  let electronic = 0;
  let cash = 0;
  let offset = 0;
  for (const line of order.get_paymentlines()) {
    if (line.is_change) {
      continue;
    }
    if (line.payment_method.optics_prepayment_offset) {
      offset += kopecks(line.get_amount());
    } else if (line.payment_method.is_cash_count) {
      cash += kopecks(line.get_amount());
    } else {
      electronic += kopecks(line.get_amount());
    }
  }
  if (offset && !order.optics_job_ref) {
    throw new FiscalDataError(
      _t("The prepayment offset pays a glasses job's pickup only: scan the job's label to pick it up."),
    );
  }
  if (offset > total) {
    throw new FiscalDataError(
      _t("The prepayment offset (%s) exceeds the receipt total (%s).", roubles(offset), roubles(total)),
    );
  }
  total -= offset;
  if (electronic > total || (!cash && electronic !== total)) {
    throw new FiscalDataError(
      _t("Card payments (%s) do not match the receipt total (%s).", roubles(electronic), roubles(total)),
    );
  }
  // Cash takes the rest: the change handed back is not part of the receipt.
  const result = [];
  if (offset) {
    result.push({ method: "prepayment", amount: roubles(offset) });
  }
  if (electronic) {
    result.push({ method: "card", amount: roubles(electronic) });
  }
  if (total - electronic > 0) {
    result.push({ method: "cash", amount: roubles(total - electronic) });
  }
  return result;
}

export function buyerContact(order) {
  const partner = order.get_partner();
  if (!partner) {
    return null;
  }
  if (partner.email && EMAIL.test(partner.email.trim())) {
    return partner.email.trim().slice(0, 64);
  }
  const digits = (partner.mobile || partner.phone || "").replace(/[^\d+]/g, "");
  return /^\+?\d{10,15}$/.test(digits) ? digits : null;
}

/** Tags 1021/1203 of every KKT document the cashier makes; null when the user has no name to print. */
export function cashierTags(pos) {
  const user = pos.get_cashier() || pos.user;
  const name = (user.name || "").trim().slice(0, 64);
  const inn = user.id === pos.user.id ? pos.user.optics_inn : user.optics_inn;
  return name ? { name, inn: inn || null } : null;
}

/** The receipt request of `order`; `originalReceiptId` for a refund (the sale's till receipt id). */
export function buildReceipt(pos, order) {
  const lines = order.get_orderlines().filter((line) => line.get_quantity() !== 0);
  if (!lines.length) {
    throw new FiscalDataError(_t("The order has no lines to print."));
  }
  const refund = lines.every((line) => line.get_quantity() < 0);
  if (!refund && lines.some((line) => line.get_quantity() < 0)) {
    throw new FiscalDataError(
      _t("A receipt is either a sale or a refund: ring the returned goods up as a separate order."),
    );
  }
  const items = lines.map(item);
  const total = items.reduce((sum, line) => sum + line.amount, 0);
  const receipt = {
    pos_id: pos.config.optics_pos_id,
    type: refund ? "refund" : "sale",
    items: items.map((line) => line.body),
    payments: payments(order, total),
    cashier: cashierTags(pos),
    buyer_contact: buyerContact(order),
  };
  if (order.optics_job_ref) {
    receipt.job_ref = order.optics_job_ref;
  }
  if (refund) {
    const originals = new Set(
      lines.map((line) => pos.toRefundLines[line.refunded_orderline_id]?.orderline.opticsReceiptId),
    );
    const [original] = originals;
    if (originals.size !== 1 || !original) {
      throw new FiscalDataError(
        _t(
          "A refund names one fiscalized sale: refund it from the order list (Orders → Refund), one sale at a time.",
        ),
      );
    }
    receipt.original_receipt_id = original;
  }
  return receipt;
}

/** The FNS check QR (`t=…&s=…&fn=…&i=…&fp=…&n=…`; tools/fiscal_qr.py builds the same on the server). */
export function checkQr(fiscalDoc, kind) {
  const t = fiscalDoc.issued_at.slice(0, 16).replace(/[-:]/g, "");
  return `t=${t}&s=${fiscalDoc.total}&fn=${fiscalDoc.fn_number}&i=${fiscalDoc.fd_number}&fp=${fiscalDoc.fiscal_sign}&n=${SETTLEMENT[kind] || 1}`;
}
