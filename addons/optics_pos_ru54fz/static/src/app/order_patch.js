/** @odoo-module */
// The POS order keeps the till's answer (`optics_fiscal`: status, receipt_id, fiscal_doc) and its glasses
// job (`optics_job_ref`, `optics_job_role`: advance or pickup) through reloads
// (it is part of the order's JSON in the browser's storage) and sends it to Odoo; the receipt shows it.
import { patch } from "@web/core/utils/patch";
import { Order, Orderline } from "@point_of_sale/app/store/models";
import { qrCodeSrc } from "@point_of_sale/utils";
import { checkQr } from "@optics_pos_ru54fz/app/fiscal_receipt";

patch(Order.prototype, {
  setup() {
    super.setup(...arguments);
    this.optics_fiscal = this.optics_fiscal || null;
    this.optics_buyer_contact = this.optics_buyer_contact || null;
    this.optics_job_ref = this.optics_job_ref || null;
    this.optics_job_role = this.optics_job_role || null;
  },
  init_from_JSON(json) {
    super.init_from_JSON(...arguments);
    this.optics_fiscal = json.optics_fiscal || null;
    this.optics_buyer_contact = json.optics_buyer_contact || null;
    this.optics_job_ref = json.optics_job_ref || null;
    this.optics_job_role = json.optics_job_role || null;
    this.fiscal_receipt_id = json.fiscal_receipt_id || json.optics_fiscal?.receipt_id || null;
  },
  export_as_JSON() {
    const json = super.export_as_JSON(...arguments);
    json.optics_fiscal = this.optics_fiscal || false;
    json.optics_buyer_contact = this.optics_buyer_contact || false;
    json.optics_job_ref = this.optics_job_ref || false;
    json.optics_job_role = this.optics_job_role || false;
    return json;
  },
  export_for_printing() {
    const data = super.export_for_printing(...arguments);
    const answer = this.optics_fiscal;
    if (answer) {
      const doc = answer.fiscal_doc;
      const qr = doc ? checkQr(doc, answer.kind) : null;
      data.optics_fiscal = {
        status: answer.status,
        fn: doc?.fn_number,
        fd: doc?.fd_number,
        fp: doc?.fiscal_sign,
        shift: doc?.shift_number,
        issued_at: doc?.issued_at?.replace("T", " "),
        qr,
        qr_src: qr && qrCodeSrc(qr),
        buyer_contact: this.optics_buyer_contact,
      };
    }
    data.optics_job_ref = this.optics_job_ref;
    return data;
  },
});

// An advance line keeps its VAT and 1214 (glasses_job.js) through reloads and in Odoo (pos.order.line
// optics_advance_vat / optics_advance_method), which hands them back with orders loaded for a refund.
patch(Orderline.prototype, {
  init_from_JSON(json) {
    super.init_from_JSON(...arguments);
    this.optics_advance = json.optics_advance_vat
      ? { vat: json.optics_advance_vat, method: json.optics_advance_method }
      : null;
  },
  export_as_JSON() {
    const json = super.export_as_JSON(...arguments);
    json.optics_advance_vat = this.optics_advance?.vat || 0;
    json.optics_advance_method = this.optics_advance?.method || 0;
    return json;
  },
  can_be_merged_with(orderline) {
    return !this.optics_advance && !orderline.optics_advance && super.can_be_merged_with(...arguments);
  },
});
