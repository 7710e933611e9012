/** @odoo-module */
// The till indicator in the POS bar: polls the adapter's /v1/kkt/buffer/status (cheap: no device round
// trip) and shows online / degraded / offline with a tooltip (queued receipts, fill, FN days left). It warns
// once the buffer passes WARN_PERCENT; at 100 % the adapter refuses sales (503 buffer_full) and the POS
// says so. The last status is kept on the POS (`pos.opticsKktStatus`) for the shift warning.
import { _t } from "@web/core/l10n/translation";
import { Component, onMounted, onWillUnmount, useState } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { usePos } from "@point_of_sale/app/store/pos_hook";
import { kktClient, KktUnreachableError } from "@optics_pos_ru54fz/app/kkt_client";

/** Seconds between polls: a cashier sees a change within one. */
export const POLL_SECONDS = 5;
/** The owner's plan: warn at 80 % of the offline buffer, block at 100 %. */
export const WARN_PERCENT = 80;
/** Warn the cashier this long before the 24 h shift limit (54-FZ). */
export const SHIFT_WARN_SECONDS = 23 * 3600;

export function statusLevel(status) {
  if (!status || status.percent_full >= 100) {
    return "offline";
  }
  const kktReady = !status.kkt_status || status.kkt_status === "ok";
  if (!kktReady || status.network_status === "offline" || status.percent_full >= WARN_PERCENT) {
    return "degraded";
  }
  return "online";
}

export class KktStatus extends Component {
  static template = "optics_pos_ru54fz.KktStatus";

  setup() {
    this.pos = usePos();
    this.notification = useService("pos_notification");
    this.state = useState({ status: null, reachable: null, warned: false, shiftWarned: false });
    onMounted(() => {
      this.poll();
      this.timer = setInterval(() => this.poll(), POLL_SECONDS * 1000);
    });
    onWillUnmount(() => clearInterval(this.timer));
  }

  async poll() {
    let answer = null;
    try {
      answer = await kktClient(this.pos).bufferStatus();
    } catch (error) {
      if (!(error instanceof KktUnreachableError)) {
        throw error;
      }
    }
    this.state.reachable = Boolean(answer && answer.ok);
    this.state.status = this.state.reachable ? answer.data : null;
    this.pos.opticsKktStatus = this.state.status;
    this.warn(this.state.status);
  }

  warn(status) {
    if (!status) {
      return;
    }
    if (status.percent_full >= 100) {
      this.notification.add(_t("The till's offline buffer is full: sales are blocked. Call support."), 5000);
    } else if (status.percent_full >= WARN_PERCENT && !this.state.warned) {
      this.state.warned = true;
      this.notification.add(
        _t("The till's offline buffer is %s%% full: call support before sales stop.", status.percent_full),
        8000,
      );
    }
    if (status.shift_age_seconds >= SHIFT_WARN_SECONDS && !this.state.shiftWarned) {
      this.state.shiftWarned = true;
      this.notification.add(
        _t("The shift is nearly 24 hours old: close it with a Z report (menu → KKT shift)."),
        8000,
      );
    }
  }

  get level() {
    return this.state.reachable === false ? "offline" : statusLevel(this.state.status);
  }

  get tooltip() {
    const status = this.state.status;
    if (!status) {
      return this.state.reachable === false
        ? _t("The till's KKT adapter does not answer")
        : _t("Checking the till…");
    }
    return _t(
      "Queued receipts: %(queued)s of %(capacity)s (%(percent)s%%); FN days left: %(days)s; KKT: %(kkt)s",
      {
        queued: status.current_queued,
        capacity: status.total_capacity,
        percent: status.percent_full,
        days: status.fn_days_left ?? "—",
        kkt: status.kkt_status || "—",
      },
    );
  }
}
