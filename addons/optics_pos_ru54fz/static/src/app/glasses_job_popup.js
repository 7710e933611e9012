/** @odoo-module */
// «Glasses job» popup: the customer's prescription (picked, or a new one typed as the prescriber wrote
// it), the lens design, the promised date and the advance. Creating the job needs Odoo; the popup says
// so when Odoo is unreachable, and the cart stays as it was.
import { _t } from "@web/core/l10n/translation";
import { onWillStart, useState } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { usePos } from "@point_of_sale/app/store/pos_hook";
import { AbstractAwaitablePopup } from "@point_of_sale/app/popup/abstract_awaitable_popup";
import { useAsyncLockedMethod } from "@point_of_sale/app/utils/hooks";
import { kopecks } from "@optics_pos_ru54fz/app/fiscal_receipt";
import { isConnectionError, JobError, takeAdvance } from "@optics_pos_ru54fz/app/glasses_job";

const UNREACHABLE = () =>
  _t("Odoo is unreachable: a glasses job can only be created online. Sell it again when Odoo answers.");

export class GlassesJobPopup extends AbstractAwaitablePopup {
  static template = "optics_pos_ru54fz.GlassesJobPopup";
  static defaultProps = { cancelKey: "Escape" };

  setup() {
    super.setup();
    this.pos = usePos();
    this.orm = useService("orm");
    const order = this.pos.get_order();
    this.total = order.get_total_with_tax();
    this.state = useState({
      prescriptions: [],
      lenses: [],
      prescriptionId: "",
      lensId: "",
      promisedDate: "",
      advance: String(this.total),
      rx: {
        prescriber: "",
        od_sph: "",
        od_cyl: "",
        od_axis: "",
        os_sph: "",
        os_cyl: "",
        os_axis: "",
        pd: "",
      },
      message: "",
      loaded: false,
    });
    this.create = useAsyncLockedMethod(this.create);
    onWillStart(() => this.load());
  }

  async load() {
    const partner = this.pos.get_order().get_partner();
    try {
      const [prescriptions, lenses] = await Promise.all([
        this.orm.silent.call("optics.manufacturing.order", "optics_pos_prescriptions", [partner.id]),
        this.orm.silent.call("optics.manufacturing.order", "optics_pos_lenses", []),
      ]);
      this.state.prescriptions = prescriptions;
      this.state.lenses = lenses;
      const valid = prescriptions.find((rx) => !rx.expired);
      this.state.prescriptionId = valid ? String(valid.id) : "";
      this.state.lensId = lenses.length ? String(lenses[0].id) : "";
      this.state.loaded = true;
    } catch (error) {
      this.state.message = isConnectionError(error) ? UNREACHABLE() : error.data?.message || String(error);
    }
  }

  values() {
    const order = this.pos.get_order();
    const values = {
      partner_id: order.get_partner().id,
      lens_id: Number(this.state.lensId) || false,
      promised_date: this.state.promisedDate || false,
      lines: order.get_orderlines().map((line) => ({
        product_id: line.get_product().id,
        quantity: line.get_quantity(),
        price_unit: line.get_price_with_tax() / line.get_quantity(),
      })),
    };
    if (this.state.prescriptionId) {
      values.prescription_id = Number(this.state.prescriptionId);
    } else {
      const rx = {};
      for (const [key, value] of Object.entries(this.state.rx)) {
        if (String(value).trim() !== "") {
          rx[key] = key === "prescriber" ? value.trim() : Number(String(value).replace(",", "."));
        }
      }
      values.prescription = rx;
    }
    return values;
  }

  async create() {
    const order = this.pos.get_order();
    const advanceKop = kopecks(Number(String(this.state.advance).replace(",", ".")));
    if (!(advanceKop > 0) || advanceKop > kopecks(this.total)) {
      this.state.message = _t("The advance must be more than zero and at most the job's total.");
      return;
    }
    let job;
    try {
      job = await this.orm.silent.call("optics.manufacturing.order", "optics_pos_create_job", [
        this.pos.config.id,
        this.values(),
      ]);
    } catch (error) {
      this.state.message = isConnectionError(error) ? UNREACHABLE() : error.data?.message || String(error);
      return;
    }
    try {
      await takeAdvance(this.pos, order, job, advanceKop);
    } catch (error) {
      if (!(error instanceof JobError)) {
        throw error;
      }
      this.state.message = error.message;
      return;
    }
    this.props.close({ confirmed: true, payload: job });
  }
}
