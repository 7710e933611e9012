/** @odoo-module */
// The «KKT shift» popup (menu → KKT shift): open the shift, print an X report, close it with a Z report.
import { onMounted, useState } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { usePos } from "@point_of_sale/app/store/pos_hook";
import { AbstractAwaitablePopup } from "@point_of_sale/app/popup/abstract_awaitable_popup";
import { useAsyncLockedMethod } from "@point_of_sale/app/utils/hooks";
import { flushShiftReports, shiftAction } from "@optics_pos_ru54fz/app/shift";

export class ShiftPopup extends AbstractAwaitablePopup {
  static template = "optics_pos_ru54fz.ShiftPopup";
  static defaultProps = { cancelKey: "Escape" };

  setup() {
    super.setup();
    this.pos = usePos();
    this.orm = useService("orm");
    this.state = useState({ message: "", ok: true, busy: false, pending: null });
    this.run = useAsyncLockedMethod(this.run);
    onMounted(() => this.flush());
  }

  /** Z reports still waiting for Odoo (closed while it was unreachable) go now if it answers. */
  async flush() {
    this.state.pending = await flushShiftReports(this.pos, this.orm);
  }

  async run(action) {
    this.state.busy = true;
    try {
      const result = await shiftAction(this.pos, this.orm, action);
      this.state.ok = result.ok;
      this.state.message = result.message;
      this.state.pending = result.pending ?? this.state.pending;
    } finally {
      this.state.busy = false;
    }
  }
}
