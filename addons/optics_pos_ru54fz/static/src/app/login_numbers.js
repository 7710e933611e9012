/** @odoo-module */
// Login numbers that never repeat on a till, even when the POS page is reopened from the service worker's
// copy with Odoo unreachable. Odoo names orders <session>-<login>-<sequence> and hands out the login number
// when it renders /pos/ui; a copied page carries the number of the load it was copied from. The POS keeps,
// per session, the highest number it has used (browser storage, which survives a reload and a restart of
// the browser on the same profile): a page whose number is not above it takes the next one instead, and
// that number is reported to Odoo (pos.session.optics_reserve_login) when Odoo is reachable, so Odoo never
// hands it out again. Odoo also reserves the numbers it sees in the names of the orders it records.
import { ConnectionLostError } from "@web/core/network/rpc_service";

function storageKey(sessionId) {
  return `optics_pos_login_numbers_${sessionId}`;
}

function readState(storage, sessionId) {
  try {
    const state = JSON.parse(storage.getItem(storageKey(sessionId)) || "null");
    if (state && Number.isInteger(state.used) && Number.isInteger(state.reported)) {
      return state;
    }
  } catch {
    // a damaged entry: start again from the page's number
  }
  return { used: 0, reported: 0 };
}

/**
 * The login number this page load uses: the page's own when it is new on this till, else the next after
 * the highest used. Recorded before it is returned (no order can carry an unrecorded number).
 */
export function claimLoginNumber(storage, sessionId, pageNumber) {
  const state = readState(storage, sessionId);
  const fresh = pageNumber > state.used;
  const number = fresh ? pageNumber : state.used + 1;
  const next = { used: number, reported: fresh ? Math.max(state.reported, number) : state.reported };
  storage.setItem(storageKey(sessionId), JSON.stringify(next));
  return number;
}

/** The number Odoo still has to reserve, or 0. */
export function unreportedLoginNumber(storage, sessionId) {
  const state = readState(storage, sessionId);
  return state.used > state.reported ? state.used : 0;
}

/** Report the highest used number to Odoo; false while Odoo is unreachable (tried again later). */
export async function reportLoginNumber(storage, sessionId, orm) {
  const number = unreportedLoginNumber(storage, sessionId);
  if (!number) {
    return true;
  }
  try {
    await orm.silent.call("pos.session", "optics_reserve_login", [[sessionId], number]);
  } catch (error) {
    if (error instanceof ConnectionLostError) {
      return false;
    }
    throw error;
  }
  const state = readState(storage, sessionId);
  state.reported = Math.max(state.reported, number);
  storage.setItem(storageKey(sessionId), JSON.stringify(state));
  return true;
}
