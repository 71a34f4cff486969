#!/usr/bin/env python3
"""Web page weight and speed on an emulated 3G phone: bytes transferred cold and warm, load time, and a
repeat visit served by the service worker.

Starts ``legato serve`` (a fresh data dir, SQLite, in a subprocess on a free port) unless ``--url`` names
a running one, seeds a writer, a story with a ~2,500-word chapter and a certificate, then drives Debian's
Chromium (``/usr/bin/chromium``) through Playwright for Python at a 360×800 viewport. The network is
throttled with the DevTools protocol, ``Network.emulateNetworkConditions``: 150 ms latency, 1.6 Mbps
down, 750 kbps up (the design document's 3G). For each page:

- **cold**: a fresh browser context (empty cache, no service worker), bytes on the wire
  (``encodedDataLength`` of every response: compressed bodies plus headers) and the time to the load
  event (Navigation Timing ``loadEventEnd``);
- **warm**: the same page again in that context (the HTTP cache holds the versioned CSS/JS/icons);
- **sw** (reader page only): the chapter saved with "Save for offline", then opened again; the service
  worker answers from its cache.

    ./scripts/bench_web.py                 # table on stdout (Markdown), goals checked
    ./scripts/bench_web.py --json out.json
    ./scripts/bench_web.py --url http://127.0.0.1:8000   # a running server (a writer and story are added)

Goals (issue 12): reader < 60 KB cold, < 2 s on 3G cold, repeat visit from the service worker < 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
THREE_G = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
           "uploadThroughput": 750_000 / 8}
GOALS = {"reader_cold_kb": 60, "reader_cold_ms": 2000, "reader_sw_ms": 300}


@dataclass
class Row:
    page: str
    cold_bytes: int
    cold_ms: float
    warm_bytes: int
    warm_ms: float
    sw_ms: float | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(base: str, method: str, path: str, body: object = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    env.update({"LEGATO_DATA_DIR": str(workdir / "data"), "LEGATO_ARGON2_TIME_COST": "1",
                "LEGATO_ARGON2_MEMORY_COST_KIB": "8192"})
    legato = shutil.which("legato") or str(ROOT / ".venv" / "bin" / "legato")
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen([legato, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"legato serve exited ({proc.returncode}); see {workdir / 'server.log'}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                return proc, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("legato serve was not healthy in time")


VOCABULARY = (  # noqa: SIM905 (a sentence is easier to edit than a list of forty strings)
    "the market lanterns river dust caravan night voice salt road city gate old woman boy song drum trader "
    "moon rain walked listened carried remembered sold counted laughed slowly quietly again under beside "
    "across before after golden narrow crowded distant"
).split()


def words(n: int) -> str:
    """Random sentences in paragraphs: reads like prose in a screenshot, and is fresh on every run (the
    registry refuses a second author's near-copy)."""
    rng = secrets.SystemRandom()
    out = [rng.choice(VOCABULARY) for _ in range(n)]
    sentences = [" ".join(out[i:i + 12]).capitalize() + "." for i in range(0, n, 12)]
    return "\n\n".join(" ".join(sentences[i:i + 6]) for i in range(0, len(sentences), 6))


def seed(base: str) -> dict[str, str]:
    name = "bench" + secrets.token_hex(4)
    call(base, "POST", "/auth/register", {"email": f"{name}@example.com", "username": name,
                                          "password": "bench-password", "role": "writer"})
    token = call(base, "POST", "/auth/login", {"email": name, "password": "bench-password"})["access_token"]
    story = call(base, "POST", "/stories", {"title": "The Night Market", "description": "A bench story.",
                                            "genre": "fantasy", "language": "en"}, token)
    chapter_ids = []
    for i in range(3):
        ch = call(base, "POST", f"/stories/{story['id']}/chapters",
                  {"title": f"Chapter {i + 1}", "content": words(2500)}, token)
        chapter_ids.append(call(base, "POST", f"/chapters/{ch['id']}/publish", None, token))
    return {"story": story["id"], "cert": chapter_ids[0]["certificate_id"], "writer": name}


def measure(page: Any, cdp: Any, url: str) -> tuple[int, float]:
    sizes: dict[str, float] = {}
    handler = lambda e: sizes.__setitem__(e["requestId"], e.get("encodedDataLength", 0))  # noqa: E731
    cdp.on("Network.loadingFinished", handler)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)  # late loadingFinished events
    cdp.remove_listener("Network.loadingFinished", handler)
    timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
    nav = json.loads(timing)
    return int(sum(sizes.values())), round(float(nav["loadEventEnd"]), 1)


def throttled(browser: Any, service_workers: str) -> tuple[Any, Any, Any]:
    """A fresh phone context on 3G. Cold and warm runs block the service worker: a request it passes
    on would leave from the worker's own target, unthrottled and uncounted by this page's session."""
    context = browser.new_context(viewport={"width": 360, "height": 800}, is_mobile=True,
                                  device_scale_factor=2, service_workers=service_workers)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THREE_G)
    return context, page, cdp


def screenshots(browser: Any, base: str, ids: dict[str, str], out: Path) -> None:
    """Phone screenshots for the README: discover, the reader (sepia), the verify page."""
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 800}, is_mobile=True,
                                  device_scale_factor=2, service_workers="block")
    page = context.new_page()
    for name, path, theme in (("web-discover", "/", None), ("web-verify", f"/verify/{ids['cert']}", None),
                              ("web-reader", f"/s/{ids['story']}/1", "sepia")):
        page.goto(base + path, wait_until="load")
        if theme:
            page.get_by_role("button", name=theme.capitalize()).click()
        page.screenshot(path=str(out / f"{name}.png"))
    context.close()


def run(base: str, ids: dict[str, str], shots: Path | None = None) -> list[Row]:
    from playwright.sync_api import sync_playwright

    pages = {
        "discover /": "/",
        "search": "/search?q=night",
        "story /s/{id}": f"/s/{ids['story']}",
        "reader /s/{id}/1": f"/s/{ids['story']}/1",
        "verify /verify/{id}": f"/verify/{ids['cert']}",
        "verify form /verify": "/verify",
        "author /u/{name}": f"/u/{ids['writer']}",
        "login": "/login",
    }
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        if shots is not None:
            screenshots(browser, base, ids, shots)
        for label, path in pages.items():
            with urllib.request.urlopen(base + path, timeout=60):  # the server's first-hit work, unmeasured
                pass
            context, page, cdp = throttled(browser, "block")
            cold = measure(page, cdp, base + path)
            warm = measure(page, cdp, base + path)
            context.close()
            sw_ms = None
            if label.startswith("reader"):
                context, page, cdp = throttled(browser, "allow")
                page.goto(base + path, wait_until="load")
                deadline = time.monotonic() + 30
                while not page.evaluate("navigator.serviceWorker.controller !== null"):
                    if time.monotonic() > deadline:
                        raise SystemExit("the service worker never took control")
                    page.reload(wait_until="load")
                page.get_by_role("button", name=re.compile("offline", re.I)).click()
                page.get_by_text("Saved on this device").wait_for(timeout=30_000)
                sw_ms = measure(page, cdp, base + path)[1]
                context.close()
            rows.append(Row(label, cold[0], cold[1], warm[0], warm[1], sw_ms))
        browser.close()
    return rows


def table(rows: list[Row]) -> str:
    out = ["| page | cold KB | cold load (3G) | warm KB | warm load | repeat from SW |",
           "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        sw = f"{r.sw_ms:.0f} ms" if r.sw_ms is not None else "—"
        out.append(f"| {r.page} | {r.cold_bytes / 1024:.1f} | {r.cold_ms:.0f} ms | "
                   f"{r.warm_bytes / 1024:.1f} | {r.warm_ms:.0f} ms | {sw} |")
    return "\n".join(out)


def goals(rows: list[Row]) -> list[str]:
    reader = next(r for r in rows if r.page.startswith("reader"))
    checks = [
        (f"reader cold {reader.cold_bytes / 1024:.1f} KB < {GOALS['reader_cold_kb']} KB",
         reader.cold_bytes < GOALS["reader_cold_kb"] * 1024),
        (f"reader cold load {reader.cold_ms:.0f} ms < {GOALS['reader_cold_ms']} ms on 3G",
         reader.cold_ms < GOALS["reader_cold_ms"]),
        (f"reader repeat from the service worker {reader.sw_ms:.0f} ms < {GOALS['reader_sw_ms']} ms",
         reader.sw_ms is not None and reader.sw_ms < GOALS["reader_sw_ms"]),
    ]
    return [("met   " if ok else "MISSED") + "  " + text for text, ok in checks]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server to measure (seeded with a new writer and story)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--screenshots", type=Path, help="also save phone screenshots here (docs/img)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="legato-bench-web-"))
    proc = None
    try:
        if args.url:
            base = args.url.rstrip("/")
        else:
            proc, base = start_server(workdir)
        ids = seed(base)
        rows = run(base, ids, args.screenshots)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    print()
    results = goals(rows)
    print("\n".join(results))
    if args.json:
        args.json.write_text(json.dumps({"rows": [asdict(r) for r in rows], "goals": results}, indent=2))
    return 0 if all(r.startswith("met") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
