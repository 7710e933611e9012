/** @odoo-module */
// The offline indicator in the POS bar: how old the data the POS sells with is when it started from the
// service worker's copy (Odoo unreachable), else how old that copy is. Reads `pos.opticsOffline`
// (pos_offline.js); re-renders every TICK_SECONDS so the age stays true.
import { _t } from "@web/core/l10n/translation";
import { Component, onMounted, onWillUnmount, useState } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/store/pos_hook";

/** The age shown moves in minutes: a tick each 30 s is enough. */
export const TICK_SECONDS = 30;

/** A short Russian-friendly age: "5 min", "3 h", "2 d" (translated). */
export function formatAge(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  if (minutes < 60) {
    return _t("%s min", minutes);
  }
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? _t("%s h", hours) : _t("%s d", Math.floor(hours / 24));
}

export class OfflineStatus extends Component {
  static template = "optics_pos_ru54fz.OfflineStatus";

  setup() {
    this.pos = usePos();
    this.clock = useState({ now: Date.now() });
    onMounted(() => {
      this.timer = setInterval(() => (this.clock.now = Date.now()), TICK_SECONDS * 1000);
    });
    onWillUnmount(() => clearInterval(this.timer));
  }

  get info() {
    return this.pos.opticsOffline || {};
  }

  /** running: sells with a copy; stored: a copy is kept; none: no offline start possible. */
  get mode() {
    if (this.info.running) {
      return "running";
    }
    return this.info.worker && this.info.copyAt ? "stored" : "none";
  }

  get age() {
    const since = this.info.running ? this.info.dataAt : this.info.copyAt;
    return since ? formatAge(this.clock.now - since) : "";
  }

  get tooltip() {
    if (this.mode === "running") {
      return this.info.reachable
        ? _t(
            "The POS started without Odoo on data from %s ago. Odoo is back: reopen the POS to load current prices.",
            this.age,
          )
        : _t(
            "Odoo is unreachable: the POS sells on data from %s ago; orders are sent when Odoo is back.",
            this.age,
          );
    }
    if (this.mode === "stored") {
      return _t("Offline copy of products and prices: %s old. The POS can restart without Odoo.", this.age);
    }
    return _t("No offline copy yet: the POS cannot restart without Odoo.");
  }
}
