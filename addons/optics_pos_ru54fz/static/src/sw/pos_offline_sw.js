// The POS service worker (scope /pos/, served by controllers/pos_offline.py): lets a till's POS page
// start and sell while Odoo is unreachable (Odoo 17 cannot reopen an offline POS page on its own).
//
// What it answers, and how:
// - the POS page itself (/pos/ui, /pos/web): network first; a good answer is kept in the Cache API; when
//   Odoo does not answer within PAGE_TIMEOUT_MS (or refuses), the kept page is served;
// - the page's static files (/web/assets/…, …/static/…, translations, images): hashed asset bundles from
//   the cache first (their URL changes with their content), everything else network first;
// - the start-up calls (STARTUP_CALLS: load_pos_data, which carries the products, prices, taxes and
//   customers, and the small lookups the POS makes before it shows): network first (bounded by
//   STARTUP_TIMEOUT_MS), each good answer kept in IndexedDB; offline the kept answer is returned, marked `optics_offline_cache` so the POS
//   knows it runs on a copy and how old it is;
// - every other call to Odoo (saving orders, the login number, Z reports): passed through, but bounded by
//   CALL_TIMEOUT_MS; a dead link (a dropped cable drops packets: nothing answers, the browser would wait
//   minutes) fails it as a lost connection, which the POS handles by keeping its orders until Odoo is back;
// - the till on loopback and the bus's websocket are not touched.
// After one timeout, OFFLINE_WINDOW_MS of further requests go straight to the copies (or fail at once), so
// a start or a sale behind a dead link waits for one timeout, not one per call. Plain script: no Odoo
// module system here.
/* eslint-env serviceworker */
"use strict";

/** Bumped when what is kept changes shape; older caches are dropped on activation. */
const VERSION = 1;
const CACHE_NAME = `optics-pos-v${VERSION}`;
const DB_NAME = "optics-pos-offline";
const DB_STORE = "calls";
/** The POS page renders in well under a second on a healthy store link; a dropped link never answers. */
const PAGE_TIMEOUT_MS = 5000;
/** Saving an order or a report: a few seconds at most on a busy server; past this the link is dead. */
const CALL_TIMEOUT_MS = 20000;
/**
 * The start-up calls come right after the page answered within PAGE_TIMEOUT_MS (a dead link is found
 * there, and OFFLINE_WINDOW_MS then sends them straight to the copies), so one still running has a live
 * Odoo at the other end, working: load_pos_data of 10 000 products took 10–20 s on a busy server
 * (20.1 s measured in CI, just over the 20 s it once had, and a reachable Odoo's POS started from the copy).
 */
const STARTUP_TIMEOUT_MS = 60000;
/** After a timeout, go to the copies at once for this long (the rest of a cold start). */
const OFFLINE_WINDOW_MS = 30000;
/**
 * JSON-RPC routes whose answers the POS needs to start (read-only; kept per arguments). The POS replays
 * them through this worker on its first visit (pos_offline.js `refreshStartupCopies`): keep both in step.
 */
const STARTUP_CALLS = new Set([
  "/web/dataset/call_kw/pos.session/load_pos_data",
  "/web/dataset/call_kw/ir.model.data/check_object_reference",
  "/web/dataset/call_kw/barcode.nomenclature/read",
  "/web/dataset/call_kw/barcode.rule/search_read",
]);
const POS_PAGES = new Set(["/pos/ui", "/pos/web"]);

let offlineUntil = 0;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("optics-pos-") && name !== CACHE_NAME) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return; // the till on loopback and anything else foreign: the browser's own way
  }
  if (request.method === "GET" && request.mode === "navigate" && POS_PAGES.has(url.pathname)) {
    event.respondWith(posPage(request));
  } else if (request.method === "GET" && isStatic(url)) {
    event.respondWith(staticFile(request, url));
  } else if (request.method === "POST" && STARTUP_CALLS.has(url.pathname)) {
    event.respondWith(startupCall(request, url));
  } else if (request.method === "POST") {
    event.respondWith(otherCall(request));
  }
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "optics-precache" && Array.isArray(data.urls)) {
    event.waitUntil(precache(data.urls).then((stored) => reply(event, { stored })));
  } else if (data.type === "optics-forget") {
    event.waitUntil(forget().then(() => reply(event, { forgotten: true })));
  }
});

function reply(event, message) {
  if (event.ports && event.ports[0]) {
    event.ports[0].postMessage(message);
  }
}

function isStatic(url) {
  const path = url.pathname;
  return (
    path.startsWith("/web/assets/") ||
    path.startsWith("/web/webclient/translations/") ||
    path.startsWith("/web/image") ||
    path.startsWith("/web/binary/company_logo") ||
    /^\/[a-z0-9_]+\/static\//.test(path)
  );
}

/** Network, bounded by `timeoutMs` unless there is nothing to fall back on; a 5xx counts as down. */
async function network(request, hasCopy, timeoutMs = PAGE_TIMEOUT_MS) {
  if (hasCopy && Date.now() < offlineUntil) {
    throw new Error("Odoo was unreachable a moment ago");
  }
  if (!hasCopy) {
    return fetch(request);
  }
  const controller = new AbortController();
  const pending = fetch(request, { signal: controller.signal });
  let timer;
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => {
      abandon(controller);
      reject(new Error("Odoo did not answer in time"));
    }, timeoutMs);
  });
  try {
    const response = await Promise.race([pending, timeout]);
    if (response.status >= 500) {
      // nginx in front answers 502/504 while Odoo is down: that is unreachable too
      throw new Error(`Odoo answered ${response.status}`);
    }
    offlineUntil = 0;
    return response;
  } catch (error) {
    offlineUntil = Date.now() + OFFLINE_WINDOW_MS;
    pending.catch(() => {}); // the late answer, if any, is dropped
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Any other call: Odoo's answer as it is; no answer in CALL_TIMEOUT_MS (or no answer at all while the
 * link is known to be down) is a network error, which Odoo's RPC turns into a lost connection. A save
 * that timed out here but reached Odoo is sent again later and deduplicated by the order's access_token.
 */
async function otherCall(request) {
  if (Date.now() < offlineUntil) {
    return Response.error();
  }
  const controller = new AbortController();
  const pending = fetch(request, { signal: controller.signal });
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => {
      abandon(controller);
      resolve(null);
    }, CALL_TIMEOUT_MS);
  });
  try {
    const response = await Promise.race([pending, timeout]);
    if (!response || [502, 503, 504].includes(response.status)) {
      offlineUntil = Date.now() + OFFLINE_WINDOW_MS; // no answer, or the proxy says Odoo is down
    } else {
      offlineUntil = 0;
    }
    return response || Response.error();
  } catch {
    offlineUntil = Date.now() + OFFLINE_WINDOW_MS;
    return Response.error();
  } finally {
    clearTimeout(timer);
    pending.catch(() => {}); // a late answer, if any, is dropped
  }
}

/**
 * Give up a request Odoo has not answered. Aborting closes its connection: a request left waiting on a
 * dead link keeps its socket for the many minutes TCP retransmits, and with the browser's six sockets per
 * origin taken that way, nothing would reach Odoo after the link returns.
 */
function abandon(controller) {
  controller.abort();
}

function isGoodPage(response) {
  const type = response.headers.get("Content-Type") || "";
  return response.ok && !response.redirected && response.type === "basic" && type.includes("text/html");
}

async function posPage(request) {
  const cache = await caches.open(CACHE_NAME);
  const copy = await cache.match(request.url);
  try {
    const response = await network(request, Boolean(copy));
    if (isGoodPage(response)) {
      await cache.put(request.url, response.clone());
    }
    return response;
  } catch (error) {
    if (copy) {
      return copy;
    }
    throw error;
  }
}

async function staticFile(request, url) {
  const cache = await caches.open(CACHE_NAME);
  const copy = await cache.match(request);
  const immutable =
    url.pathname.startsWith("/web/assets/") || url.pathname.startsWith("/web/webclient/translations/");
  if (copy && immutable) {
    return copy;
  }
  try {
    const response = await network(request, Boolean(copy));
    if (response.ok && response.type === "basic") {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    if (copy) {
      return copy;
    }
    throw error;
  }
}

/** The page sends the URLs it loaded before this worker controlled it (its first visit). */
async function precache(urls) {
  const cache = await caches.open(CACHE_NAME);
  let stored = 0;
  for (const href of urls) {
    const url = new URL(href, self.location.origin);
    if (url.origin !== self.location.origin) {
      continue;
    }
    const page = POS_PAGES.has(url.pathname);
    if (!page && !isStatic(url)) {
      continue;
    }
    if (!page && (await cache.match(url.href))) {
      continue;
    }
    try {
      const response = await fetch(url.href, { credentials: "same-origin" });
      if (page ? isGoodPage(response) : response.ok) {
        await cache.put(url.href, response);
        stored++;
      }
    } catch {
      // offline already: the next visit online stores it
    }
  }
  return stored;
}

async function startupCall(request, url) {
  const body = await request.clone().json();
  const params = body.params || {};
  // The user's context (language, time zone, companies) is the same for every call of one till.
  const kwargs = { ...(params.kwargs || {}) };
  delete kwargs.context;
  const key = `${url.pathname}:${JSON.stringify([params.args || [], kwargs])}`;
  const copy = await dbGet(key);
  try {
    const response = await network(request, Boolean(copy), STARTUP_TIMEOUT_MS);
    if (response.ok) {
      const answer = await response.clone().json();
      if (!answer.error && "result" in answer) {
        await dbPut({ key, result: answer.result, savedAt: Date.now() });
      }
    }
    return response;
  } catch (error) {
    if (!copy) {
      throw error;
    }
    let result = copy.result;
    if (result && typeof result === "object" && !Array.isArray(result)) {
      result = { ...result, optics_offline_cache: { saved_at: copy.savedAt } };
    }
    return new Response(JSON.stringify({ jsonrpc: "2.0", id: body.id, result }), {
      headers: { "Content-Type": "application/json" },
    });
  }
}

async function forget() {
  await caches.delete(CACHE_NAME);
  const db = await openDb();
  await done(db.transaction(DB_STORE, "readwrite").objectStore(DB_STORE).clear());
}

function openDb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (db.objectStoreNames.contains(DB_STORE)) {
        db.deleteObjectStore(DB_STORE);
      }
      db.createObjectStore(DB_STORE, { keyPath: "key" });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

function done(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

async function dbGet(key) {
  const db = await openDb();
  return done(db.transaction(DB_STORE).objectStore(DB_STORE).get(key));
}

async function dbPut(record) {
  const db = await openDb();
  return done(db.transaction(DB_STORE, "readwrite").objectStore(DB_STORE).put(record));
}
