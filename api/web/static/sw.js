// Legato's service worker. The shell (styles, script, icons, the offline page) is cached at install;
// chapters are cached only when the reader presses "Save for offline" (the page puts them in the
// "legato-chapters" cache). Pages go to the network first; without one, a saved chapter or the offline
// page answers. Signing out deletes every cache.
const VERSION = "__VERSION__";
const SHELL = `legato-shell-${VERSION}`;
const CHAPTERS = "legato-chapters";
const ASSETS = __ASSETS__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("legato-shell-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode !== "navigate") return;
  event.respondWith((async () => {
    const saved = await (await caches.open(CHAPTERS)).match(url.pathname);
    if (saved) {
      // A saved chapter opens at once from the cache; the copy is refreshed in the background.
      event.waitUntil(refresh(url.pathname));
      return saved;
    }
    try {
      return await fetch(request);
    } catch {
      return (await caches.match("/offline")) || Response.error();
    }
  })());
});

async function refresh(path) {
  try {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "text/html" } });
    const cache = await caches.open(CHAPTERS);
    if (response.ok && response.headers.get("X-Legato-Offline") === "1") await cache.put(path, response);
    else if (response.status !== 503) await cache.delete(path);  // no longer readable: forget it
  } catch { /* offline: keep the copy */ }
}
