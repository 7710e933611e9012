/** @odoo-module */
// The POS side of the offline start (the worker: static/src/sw/pos_offline_sw.js, served at
// /pos/optics-sw.js): registers the worker, hands it what the first visit loaded before it was in control,
// claims a login number that never repeats (login_numbers.js), and while the POS runs keeps trying Odoo:
// report the login number, send the orders sold meanwhile, the queued Z reports, and refresh the worker's
// copy of the start-up data. `pos.opticsOffline` feeds the bar's indicator (offline_status.js).
import { patch } from "@web/core/utils/patch";
import { ConnectionLostError } from "@web/core/network/rpc_service";
import { session } from "@web/session";
import { BarcodeParser } from "@barcodes/js/barcode_parser";
import { PosStore } from "@point_of_sale/app/store/pos_store";
import { claimLoginNumber, reportLoginNumber } from "@optics_pos_ru54fz/app/login_numbers";
import { flushShiftReports } from "@optics_pos_ru54fz/app/shift";

export const WORKER_URL = "/pos/optics-sw.js";
export const WORKER_SCOPE = "/pos/";
/** Seconds between tries to reach Odoo while something waits for it (orders, a report, a stale copy). */
export const RETRY_SECONDS = 30;
/** The copy of the start-up data is refreshed when older than this (prices change through the day). */
export const REFRESH_MINUTES = 15;
/** How long to wait for a freshly registered worker to take control of this page. */
const CLAIM_TIMEOUT_MS = 10000;

/** The worker, in control of this page; null where service workers are not available (plain http). */
export async function registerWorker() {
  const container = navigator.serviceWorker;
  if (!container || !window.isSecureContext) {
    return null;
  }
  const hadController = Boolean(container.controller);
  await container.register(WORKER_URL, { scope: WORKER_SCOPE });
  await container.ready;
  if (!container.controller) {
    await new Promise((resolve) => {
      container.addEventListener("controllerchange", resolve, { once: true });
      setTimeout(resolve, CLAIM_TIMEOUT_MS);
    });
  }
  if (!container.controller) {
    return null;
  }
  if (!hadController) {
    // The first visit loaded the page and its files before the worker existed: hand it the list.
    const urls = [window.location.href, ...performance.getEntriesByType("resource").map((e) => e.name)];
    await askWorker(container.controller, { type: "optics-precache", urls });
  }
  return { controller: container.controller, firstVisit: !hadController };
}

function askWorker(worker, message) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    worker.postMessage(message, [channel.port2]);
  });
}

patch(PosStore.prototype, {
  async _processData(loadedData) {
    const copy = loadedData.optics_offline_cache;
    if (copy) {
      // The bar says the POS runs offline; Odoo's "You're offline" popup would only interrupt each sale.
      this.showOfflineWarning = false;
    }
    this.opticsOffline = {
      // started from the worker's copy of the start-up data (Odoo unreachable at start)
      running: Boolean(copy),
      // when the data in use was read from Odoo
      dataAt: copy ? copy.saved_at : Date.now(),
      // when the worker's copy was last refreshed (unknown until the worker is in control)
      copyAt: copy ? copy.saved_at : navigator.serviceWorker?.controller ? Date.now() : null,
      reachable: !copy,
      worker: Boolean(navigator.serviceWorker?.controller),
    };
    return super._processData(...arguments);
  },

  _loadPosSession() {
    super._loadPosSession(...arguments);
    this.pos_session.login_number = claimLoginNumber(
      window.localStorage,
      this.pos_session.id,
      this.pos_session.login_number,
    );
  },

  async after_load_server_data() {
    const result = await super.after_load_server_data(...arguments);
    this.opticsStartOffline();
    return result;
  },

  async opticsStartOffline() {
    try {
      const worker = await registerWorker();
      this.opticsOffline.worker = Boolean(worker);
      if (worker && worker.firstVisit) {
        this.opticsOffline.copyAt = null; // the start-up call went past the worker: copy it now
      }
    } catch (error) {
      console.warn("The POS service worker could not be registered:", error);
    }
    await this.opticsSync();
    this.opticsTimer = setInterval(() => this.opticsSync(), RETRY_SECONDS * 1000);
  },

  /**
   * An order validated while Odoo is unreachable stays in the POS's queue and goes with the next round
   * (`opticsSync`); the cashier moves on to the receipt. Odoo's own path would end in an unhandled
   * ConnectionLostError (its "You're offline" popup and a logged traceback) for every offline sale. An
   * order to invoice still needs Odoo now, as before.
   */
  async push_single_order(order) {
    try {
      return await super.push_single_order(...arguments);
    } catch (error) {
      if (error instanceof ConnectionLostError && !order.is_to_invoice()) {
        this.opticsOffline.reachable = false;
        this.set_synch("disconnected");
        return [];
      }
      throw error;
    }
  },

  /** One round of everything that waits for Odoo; stops at the first sign that Odoo is unreachable. */
  async opticsSync() {
    if (this.opticsSyncing) {
      return;
    }
    this.opticsSyncing = true;
    try {
      this.opticsOffline.reachable = await this.opticsTryOdoo();
    } catch (error) {
      console.warn("Trying Odoo failed:", error);
    } finally {
      this.opticsSyncing = false;
    }
  },

  async opticsTryOdoo() {
    if (!(await reportLoginNumber(window.localStorage, this.pos_session.id, this.orm))) {
      return false;
    }
    if (this.db.get_orders().length) {
      try {
        await this.push_orders();
      } catch (error) {
        if (error instanceof ConnectionLostError) {
          return false;
        }
        // Odoo answered but refused an order: the sync button shows it; keep going
        console.warn("Odoo refused an order sold offline:", error);
      }
    }
    if (this.config.optics_fiscal && (await flushShiftReports(this, this.orm))) {
      return false;
    }
    const copyAt = this.opticsOffline.copyAt;
    const stale = !copyAt || Date.now() - copyAt >= REFRESH_MINUTES * 60000;
    if (this.opticsOffline.worker && (stale || !this.opticsOffline.reachable)) {
      return this.opticsRefreshCopy();
    }
    return this.opticsOffline.reachable;
  },

  /**
   * Make every start-up call again through the worker, which keeps the answers (the same calls, with the
   * same arguments, as the POS and its barcode reader make when they start: the worker's STARTUP_CALLS).
   */
  async refreshStartupCopies() {
    const data = await this.orm.silent.call("pos.session", "load_pos_data", [[odoo.pos_session_id]]);
    if (data.optics_offline_cache) {
      return false; // the worker answered from its copy: Odoo is still unreachable
    }
    await this.orm.silent.call("ir.model.data", "check_object_reference", ["uom", "product_uom_unit"]);
    for (const id of [session.nomenclature_id, session.fallback_nomenclature_id]) {
      if (id) {
        await BarcodeParser.fetchNomenclature(this.orm.silent, id);
      }
    }
    return true;
  },

  /** Refresh the worker's copies; true when they came from Odoo. */
  async opticsRefreshCopy() {
    try {
      if (!(await this.refreshStartupCopies())) {
        return false;
      }
    } catch (error) {
      if (error instanceof ConnectionLostError) {
        return false;
      }
      throw error;
    }
    this.opticsOffline.copyAt = Date.now();
    return true;
  },
});
