/** @odoo-module */
// Client action `optics_core.lens_matrix`: on-hand stock of a lens design per store, rows Sph (plus on
// top), columns Cyl. One RPC (optics.lens.get_stock_matrix) per store; a cell opens its variant's quants.
import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { sprintf } from "@web/core/utils/strings";
import { formatFloat } from "@web/views/fields/formatters";

export class LensMatrix extends Component {
  static template = "optics_core.LensMatrix";
  static props = ["*"];

  setup() {
    this.orm = useService("orm");
    this.action = useService("action");
    this.notification = useService("notification");
    this.lensId = this.props.action.params?.lens_id || this.props.action.context?.active_id;
    this.state = useState({ matrix: null, loading: true });
    onWillStart(async () => {
      await this.load(false);
      const message = this.props.action.params?.message;
      if (message) {
        this.notification.add(message, { type: "success" });
      }
    });
  }

  async load(storeId) {
    this.state.loading = true;
    this.state.matrix = await this.orm.call("optics.lens", "get_stock_matrix", [[this.lensId]], {
      store_id: storeId || false,
    });
    this.state.loading = false;
  }

  onStoreChange(ev) {
    this.load(parseInt(ev.target.value, 10));
  }

  get summary() {
    const matrix = this.state.matrix;
    return sprintf(
      _t("Variants: %s, in stock: %s, pieces: %s"),
      matrix.variants,
      matrix.in_stock,
      this.formatQty(matrix.total),
    );
  }

  formatQty(qty) {
    return formatFloat(qty, { digits: [16, 0] });
  }

  cellClass(cell) {
    if (!cell) {
      return "o_optics_cell_none";
    }
    return cell[1] > 0 ? "o_optics_cell_stock" : "o_optics_cell_empty";
  }

  openCell(cell) {
    if (!cell) {
      return;
    }
    this.action.doAction({
      type: "ir.actions.act_window",
      name: _t("Stock"),
      res_model: "stock.quant",
      views: [[false, "list"]],
      domain: [
        ["product_id", "=", cell[0]],
        ["location_id.usage", "=", "internal"],
        ["location_id.warehouse_id", "=", this.state.matrix.store_id],
      ],
    });
  }
}

registry.category("actions").add("optics_core.lens_matrix", LensMatrix);
