/* motcua service worker (hand-written, no build step).
 * The lookup page and "my dossiers" (the list and one dossier's page): network first, the last
 * good copy when offline. Any other portal page: the network, else the offline page. Static
 * assets of the portal: network first, the kept copy when offline. The back office, admin and
 * API: left alone. Never kept: a lookup with the second factor (it shows the timeline), a file
 * download (Content-Disposition: attachment), anything but an HTML page of those two, an asset
 * marked no-store or private.
 */
"use strict";
const CONFIG = {{ config|safe }};
const VERSION = "__VERSION__";
const SHELL = "motcua-shell-" + VERSION;   // the offline page, the bare lookup page, assets
const PUBLIC = "motcua-public";            // answers of the lookup page
const PRIVATE = "motcua-private";          // "my dossiers": deleted at every sign-in or out
const KEEP = 20;                           // lookup answers kept

function under(path, prefixes) {
  return prefixes.some((prefix) => path === prefix || path.startsWith(prefix));
}

// A page of a shell: the prefix itself or one level below it (/ho-so-cua-toi/<dossier>/), not
// the forms further down (supplement, withdrawal).
function shell(path, prefixes) {
  return prefixes.some(
    (prefix) => path === prefix || (path.startsWith(prefix) && /^[^/]+\/?$/.test(path.slice(prefix.length)))
  );
}

// Whether a copy of this response may be kept: a whole answer of our own (not a redirect to the
// sign-in page, not an error page), never a file download; a page only if it is HTML (the pages
// of "my dossiers" say no-store and are kept on purpose, until someone signs in or out); an
// asset only if the server did not mark it no-store or private.
function keepable(response, page) {
  if (!response.ok || response.redirected || response.type !== "basic") {
    return false;
  }
  const disposition = (response.headers.get("Content-Disposition") || "").trim().toLowerCase();
  if (disposition.startsWith("attachment")) {
    return false;
  }
  if (page) {
    return (response.headers.get("Content-Type") || "").toLowerCase().startsWith("text/html");
  }
  const control = (response.headers.get("Cache-Control") || "").toLowerCase();
  return !/(^|[\s,])(no-store|private)(?=$|[\s,=])/.test(control);
}

async function trim(cache) {
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - KEEP)).map((key) => cache.delete(key)));
}

async function offlinePage() {
  return (await caches.match(CONFIG.offline)) || Response.error();
}

async function networkFirst(request, cacheName, fallback) {
  try {
    const response = await fetch(request);
    if (keepable(response, request.mode === "navigate")) {
      const cache = await caches.open(cacheName);
      await cache.put(request, response.clone());
      if (cacheName !== SHELL) {
        await trim(cache);
      }
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { ignoreVary: true });
    return kept || fallback();
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL)
      .then((cache) => cache.addAll(CONFIG.precache))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("motcua-shell-") && key !== SHELL)
          .map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (CONFIG.signInOut.includes(url.pathname)) {
    // Someone signs in or out on this device (here, in the back office or the admin): forget
    // the last one's dossiers.
    event.waitUntil(caches.delete(PRIVATE));
  }
  if (under(url.pathname, CONFIG.skip) || request.method !== "GET") {
    return;
  }
  if (request.mode === "navigate") {
    if (shell(url.pathname, CONFIG.public) && url.searchParams.get("factor")) {
      // A lookup with the second factor shows the timeline: never kept for the next user.
      event.respondWith(fetch(request).catch(offlinePage));
    } else if (shell(url.pathname, CONFIG.public)) {
      const cacheName = url.search ? PUBLIC : SHELL;
      event.respondWith(networkFirst(request, cacheName, offlinePage));
    } else if (shell(url.pathname, CONFIG.private)) {
      event.respondWith(networkFirst(request, PRIVATE, offlinePage));
    } else {
      event.respondWith(fetch(request).catch(offlinePage));
    }
    return;
  }
  if (url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(networkFirst(request, SHELL, () => Response.error()));
  }
});
