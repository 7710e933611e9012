/** @odoo-module */
// Glasses jobs at the POS. «Glasses job» turns the cart into a job in Odoo (Odoo must answer) and leaves
// the advance to pay: one line per VAT code of the advance (1214 = 2, or 1 when paid in full). At pickup
// the job's label is scanned (or its reference typed): the order gets the job's lines (1214 = 4) and the
// prepayment offset (1215) as a payment of the advances; the cashier takes the balance. The store's Ready
// jobs come with the POS data, so a pickup works with Odoo unreachable.
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/store/pos_store";
import { ErrorPopup } from "@point_of_sale/app/errors/popups/error_popup";
import { kopecks } from "@optics_pos_ru54fz/app/fiscal_receipt";

/** Job references: GJ-26-00042 (optics_core's sequence), also the label's Code128 barcode. */
export const JOB_REF = /^GJ-\d{2}-\d{5,}$/;
/** FFD 1214: 1 prepayment 100 %, 2 partial prepayment. */
const FULL_PREPAYMENT = 1;
const PARTIAL_PREPAYMENT = 2;

/** The job cannot be created or picked up as asked; `message` tells the cashier why. */
export class JobError extends Error {
  constructor(message) {
    super(message);
    this.name = "JobError";
  }
}

/** An RPC failed because Odoo did not answer (not because it refused). */
export function isConnectionError(error) {
  return error?.name === "ConnectionLostError" || error?.constructor?.name === "ConnectionLostError";
}

/**
 * The advance split per VAT code in proportion to the job's total at each code (kopecks, exact: the
 * last share takes the rounding). `shares`: {code: amount in roubles}; returns [{vat, amount}] in kopecks.
 */
export function splitAdvance(advanceKop, shares) {
  const entries = Object.entries(shares).filter(([, amount]) => amount > 0);
  const total = entries.reduce((sum, [, amount]) => sum + kopecks(amount), 0);
  let left = advanceKop;
  return entries.map(([code, amount], index) => {
    const part = index === entries.length - 1 ? left : Math.round((advanceKop * kopecks(amount)) / total);
    left -= part;
    return { vat: Number(code), amount: part };
  });
}

/** The product the advance lines use (a service without taxes: the till prints the advance's own VAT). */
function advanceProduct(pos) {
  const product = pos.db.get_product_by_id(pos.optics_advance_product_id);
  if (!product) {
    throw new JobError(
      _t(
        "The advance product is not available in this POS: a manager makes «Glasses job advance» available in the POS.",
      ),
    );
  }
  return product;
}

/** The cart becomes the advance of `job` (its POS data), `advanceKop` kopecks. */
export async function takeAdvance(pos, order, job, advanceKop) {
  const method = advanceKop >= kopecks(job.amount_balance) ? FULL_PREPAYMENT : PARTIAL_PREPAYMENT;
  const product = advanceProduct(pos);
  for (const line of [...order.get_orderlines()]) {
    order.removeOrderline(line);
  }
  for (const share of splitAdvance(advanceKop, job.advance_vat_shares)) {
    const line = await order.add_product(product, { price: share.amount / 100, merge: false });
    line.price_type = "manual";
    line.optics_advance = { vat: share.vat, method };
    line.set_full_product_name(_t("Advance for glasses job %s", job.name));
  }
  order.optics_job_ref = job.name;
  order.optics_job_role = "advance";
}

/** The job's customer and products when this POS has not loaded them (a job that became Ready after the
 * POS started; offline, the POS data already holds those of the store's Ready jobs). */
async function loadMissing(pos, job) {
  try {
    if (!pos.db.get_partner_by_id(job.partner_id)) {
      await pos._loadPartners([job.partner_id]);
    }
    const products = job.lines.map((line) => line.product_id).filter((id) => !pos.db.get_product_by_id(id));
    if (products.length) {
      await pos._addProducts(products, false);
    }
  } catch (error) {
    if (!isConnectionError(error)) {
      throw error;
    }
  }
}

/** The job's pickup: its lines at their prices, the customer, the advances as the 1215 offset payment. */
export async function ringUpPickup(pos, order, job) {
  const offset = pos.payment_methods.find(
    (method) => method.optics_prepayment_offset && pos.config.payment_method_ids.includes(method.id),
  );
  if (!offset && job.amount_advance > 0) {
    throw new JobError(
      _t("This POS has no «prepayment offset» payment method: a manager adds it to the POS settings."),
    );
  }
  await loadMissing(pos, job);
  const partner = pos.db.get_partner_by_id(job.partner_id);
  if (partner) {
    order.set_partner(partner);
  }
  for (const jobLine of job.lines) {
    const product = pos.db.get_product_by_id(jobLine.product_id);
    if (!product) {
      throw new JobError(
        _t(
          "A product of job %s is not available in this POS: a manager makes it available in the POS.",
          job.name,
        ),
      );
    }
    const line = await order.add_product(product, {
      quantity: jobLine.quantity,
      price: jobLine.price_unit,
      merge: false,
    });
    line.price_type = "manual";
  }
  order.optics_job_ref = job.name;
  order.optics_job_role = "pickup";
  if (job.amount_advance > 0) {
    const payment = order.add_paymentline(offset);
    payment.set_amount(Math.min(job.amount_advance, order.get_total_with_tax()));
  }
}

/** The job for pickup: Odoo's current figures, else (Odoo unreachable) the POS data's copy. */
export async function findJob(pos, orm, reference) {
  try {
    return await orm.silent.call("optics.manufacturing.order", "optics_pos_find_job", [reference]);
  } catch (error) {
    if (!isConnectionError(error)) {
      throw new JobError(error.data?.message || error.message || String(error));
    }
  }
  const job = pos.optics_ready_jobs.find((candidate) => candidate.name === reference);
  if (!job) {
    throw new JobError(
      _t(
        "Odoo is unreachable and job %s is not among this store's Ready jobs the POS keeps offline.",
        reference,
      ),
    );
  }
  return job;
}

/** Scan or type a job's reference: a new order with the pickup, or an error popup. */
export async function pickUp(env, pos, reference) {
  const popup = env.services.popup;
  try {
    const job = await findJob(pos, env.services.orm, reference);
    if (pos.get_order().get_orderlines().length) {
      pos.add_new_order();
    }
    await ringUpPickup(pos, pos.get_order(), job);
    pos.showScreen("PaymentScreen");
  } catch (error) {
    if (!(error instanceof JobError)) {
      throw error;
    }
    await popup.add(ErrorPopup, { title: _t("Glasses job %s", reference), body: error.message });
  }
}

patch(PosStore.prototype, {
  async _processData(loadedData) {
    await super._processData(...arguments);
    this.optics_ready_jobs = loadedData["optics.manufacturing.order"] || [];
    this.optics_advance_product_id = loadedData.optics_advance_product_id || null;
  },
});
