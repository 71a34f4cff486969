// Legato's only script: progressive enhancement. Every page works without it; with it the reader gets
// themes, font size, offline copies and progress that survives a lost connection.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const CHAPTERS = "legato-chapters";
const QUEUE = "legato-progress-queue";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

const note = document.querySelector("[data-offline-note]");
const showOffline = () => { if (note) note.hidden = navigator.onLine; };
addEventListener("online", () => { showOffline(); flushProgress(); });
addEventListener("offline", showOffline);
showOffline();

// Signing out forgets this account's offline chapters (the server also sends Clear-Site-Data).
async function forgetOffline() {
  if ("caches" in self) {
    for (const name of await caches.keys()) await caches.delete(name);
  }
  localStorage.removeItem(QUEUE);
}
for (const form of document.querySelectorAll("form[data-logout]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await forgetOffline().catch(() => {});
    form.submit();
  });
}
if (new URLSearchParams(location.search).has("signed_out")) forgetOffline().catch(() => {});

// --- reading preferences ---------------------------------------------------------------------------
const root = document.documentElement;
const prefs = JSON.parse(localStorage.getItem("legato-prefs") || "{}");
const applyPrefs = () => {
  if (prefs.theme) root.dataset.theme = prefs.theme; else delete root.dataset.theme;
  if (prefs.size) root.style.setProperty("--read-size", `${prefs.size}rem`);
};
applyPrefs();
for (const button of document.querySelectorAll("[data-theme-choice]")) {
  button.addEventListener("click", () => {
    prefs.theme = button.dataset.themeChoice === "auto" ? undefined : button.dataset.themeChoice;
    localStorage.setItem("legato-prefs", JSON.stringify(prefs));
    applyPrefs();
  });
}
for (const button of document.querySelectorAll("[data-font-step]")) {
  button.addEventListener("click", () => {
    const size = Math.min(1.75, Math.max(0.875, (prefs.size || 1.125) + Number(button.dataset.fontStep)));
    prefs.size = Math.round(size * 1000) / 1000;
    localStorage.setItem("legato-prefs", JSON.stringify(prefs));
    applyPrefs();
  });
}

// --- save for offline ----------------------------------------------------------------------------------
const status = document.querySelector("[data-offline-status]");
const say = (text) => { if (status) status.textContent = text; };
for (const button of document.querySelectorAll("[data-save-offline]")) {
  button.addEventListener("click", async () => {
    try {
      const url = button.dataset.saveOffline;
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      // The server marks a page whose text this reader may read; nothing else is ever kept.
      if (!response.ok || response.headers.get("X-Legato-Offline") !== "1") throw new Error("not allowed");
      const cache = await caches.open(CHAPTERS);
      await cache.put(url, response);
      say(button.dataset.savedText);
      button.setAttribute("aria-pressed", "true");
    } catch {
      say(button.dataset.failedText);
    }
  });
}

// --- progress ------------------------------------------------------------------------------------------
const reader = document.querySelector("[data-progress-url]");
function queued() { return JSON.parse(localStorage.getItem(QUEUE) || "{}"); }
async function send(url, percentage, seconds) {
  const body = new URLSearchParams({ percentage: String(percentage), seconds: String(seconds) });
  const response = await fetch(url, { method: "POST", body, credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf } });
  if (!response.ok && response.status >= 500) throw new Error("retry later");
}
async function flushProgress() {
  const pending = queued();
  for (const [url, item] of Object.entries(pending)) {
    try {
      await send(url, item.percentage, item.seconds);
      delete pending[url];
    } catch { break; }
  }
  localStorage.setItem(QUEUE, JSON.stringify(pending));
}
if (reader && reader.dataset.progressUrl) {
  const url = reader.dataset.progressUrl;
  let furthest = 0, last = 0, started = Date.now();
  const measure = () => {
    const rect = reader.getBoundingClientRect();
    const seen = Math.min(rect.height, Math.max(0, innerHeight - rect.top));
    furthest = Math.max(furthest, Math.round(100 * seen / Math.max(1, rect.height)));
  };
  const record = () => {
    measure();
    if (furthest <= last) return;
    const seconds = Math.min(3600, Math.round((Date.now() - started) / 1000));
    started = Date.now();
    last = furthest;
    const pending = queued();
    pending[url] = { percentage: furthest, seconds: (pending[url]?.seconds || 0) + seconds };
    localStorage.setItem(QUEUE, JSON.stringify(pending));
    if (navigator.onLine) flushProgress();
  };
  addEventListener("scroll", () => { clearTimeout(record.t); record.t = setTimeout(record, 800); },
    { passive: true });
  addEventListener("pagehide", record);
  setTimeout(record, 1500);
}
if (navigator.onLine) flushProgress();

// --- the library's list of chapters kept on this device ------------------------------------------------
const offlineList = document.querySelector("[data-offline-list]");
if (offlineList && "caches" in self) {
  caches.open(CHAPTERS).then((cache) => cache.keys()).then((requests) => {
    if (!requests.length) return;
    offlineList.replaceChildren(...requests.map((request) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = new URL(request.url).pathname;
      link.textContent = link.href.replace(location.origin, "");
      item.append(link);
      return item;
    }));
  }).catch(() => {});
}
