/** @odoo-module */
// Client of the till's KKT adapter (docs/api/openapi.yaml) for the POS: fetch with a time limit. An answer
// is {ok, status, data} or {ok: false, status, problem} (the adapter's problem+json); a request that never
// got an answer throws KktUnreachableError — the receipt may or may not be journaled, so the only safe next
// step is a retry with the same Idempotency-Key.

/** One receipt may wait for the KKT up to the adapter's `[http] kkt_wait_seconds` (10 s) plus a print. */
export const RECEIPT_TIMEOUT_MS = 30000;
/** Status polls are cheap on the adapter (no device round trip): a slow answer means trouble. */
export const STATUS_TIMEOUT_MS = 4000;

export class KktUnreachableError extends Error {
  constructor(reason) {
    super(reason);
    this.name = "KktUnreachableError";
  }
}

export class KktClient {
  constructor(baseUrl) {
    this.baseUrl = (baseUrl || "").replace(/\/+$/, "");
  }

  async request(method, path, { body, key, timeout = RECEIPT_TIMEOUT_MS } = {}) {
    const headers = {};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (key) {
      headers["Idempotency-Key"] = key;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    let response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        mode: "cors",
        cache: "no-store",
      });
    } catch (error) {
      throw new KktUnreachableError(error.name === "AbortError" ? "timeout" : error.message);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.ok) {
      return { ok: true, status: response.status, data };
    }
    const problem = data && data.code ? data : { code: `http_${response.status}`, detail: "" };
    return { ok: false, status: response.status, problem };
  }

  postReceipt(receipt, key) {
    return this.request("POST", "/v1/kkt/receipt", { body: receipt, key });
  }

  bufferStatus() {
    return this.request("GET", "/v1/kkt/buffer/status", { timeout: STATUS_TIMEOUT_MS });
  }

  shift(action, cashier) {
    const path = { open: "/v1/kkt/shift/open", close: "/v1/kkt/shift/close", x: "/v1/kkt/report/x" };
    return this.request("POST", path[action], { body: { cashier } });
  }

  cash(kind, amount, cashier, key) {
    return this.request("POST", `/v1/kkt/cash/${kind}`, { body: { amount, cashier }, key });
  }
}

/** The POS's client (one per loaded POS; the URL is the config's). */
export function kktClient(pos) {
  if (!pos.opticsKkt) {
    pos.opticsKkt = new KktClient(pos.config.optics_adapter_url);
  }
  return pos.opticsKkt;
}
