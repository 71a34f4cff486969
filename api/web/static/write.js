// The chapter editor: drafts saved as the writer types (on this device at once, and on the server for an
// unpublished chapter), and a live preview rendered by the server exactly as readers will see it.
// Loaded only by the editor page; the page works without it (Save and Preview are plain form buttons).
const form = document.querySelector("form[data-editor]");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
if (form) {
  const text = form.querySelector("textarea[name=content]");
  const title = form.querySelector("input[name=title]");
  const status = form.querySelector("[data-autosave-status]");
  const box = document.querySelector("[data-preview-box]");
  const body = document.querySelector("[data-preview-body]");
  const key = `legato-draft:${form.dataset.chapter}`;
  const url = form.dataset.autosave;
  const say = (message) => { if (status) status.textContent = message; };
  const messages = { saved: form.dataset.savedText || "", local: form.dataset.localText || "" };
  let timer = 0;
  let last = text.value;

  // A draft kept on this device that the server never got (offline, tab closed) is offered back.
  const kept = JSON.parse(localStorage.getItem(key) || "null");
  if (kept && kept.content !== text.value) {
    const restore = document.createElement("button");
    restore.type = "button";
    restore.textContent = form.dataset.restoreText || "";
    restore.addEventListener("click", () => {
      text.value = kept.content; title.value = kept.title || title.value; restore.remove(); schedule();
    });
    form.insertBefore(restore, text.previousElementSibling);
  }

  async function save() {
    if (text.value === last) return;
    const draft = { title: title.value, content: text.value, at: Date.now() };
    localStorage.setItem(key, JSON.stringify(draft));
    say(messages.local);
    if (!url || !navigator.onLine) return;
    const data = new URLSearchParams({ title: draft.title, content: draft.content });
    try {
      const response = await fetch(url, { method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf } });
      if (response.ok) {
        last = draft.content;
        localStorage.removeItem(key);
        say(messages.saved);
      }
    } catch { /* kept on this device; tried again on the next change */ }
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(save, 1500); }
  text.addEventListener("input", schedule);
  title.addEventListener("input", schedule);
  form.addEventListener("submit", () => localStorage.removeItem(key));

  const preview = form.querySelector("[data-preview]");
  if (preview && box && body) {
    preview.addEventListener("click", async (event) => {
      event.preventDefault();
      const data = new URLSearchParams({ content: text.value });
      try {
        const response = await fetch("/write/preview", { method: "POST", body: data,
          credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
        if (!response.ok) throw new Error(String(response.status));
        // The server renders Markdown with raw HTML switched off: the fragment holds no script.
        body.innerHTML = await response.text();
        box.hidden = false;
        box.scrollIntoView({ behavior: "smooth", block: "start" });
      } catch {
        form.requestSubmit(preview);  // fall back to the server-rendered preview page
      }
    });
  }
}
