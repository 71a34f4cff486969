"""The browser test harness: a live uvicorn server in a thread over a database of the module's own, and
Debian's Chromium driven by Playwright for Python at a 360×800 phone viewport.

Import the fixtures into a test module (``from web_browser import browser, live, page  # noqa: F401``).
One server and one browser per module (both are slow to start); one fresh context per test, so cookies,
caches and service workers never leak between tests. A failing test leaves a screenshot in its pytest
tmp dir (the path is printed). axe-core is injected from ``.tools/node_modules/axe-core/axe.min.js``.
Without ``/usr/bin/chromium`` (``./scripts/test`` installs it where it can) the tests skip and say so.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from conftest import TEST_DATABASE_URL, make_settings, own_schema_engine
from sqlalchemy import Engine

from api.app import create_app
from api.db import make_engine
from api.migrate import upgrade
from api.wiring import Container

CHROMIUM = os.environ.get("LEGATO_TEST_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORT = {"width": 360, "height": 800}


@dataclass
class Live:
    url: str
    container: Container


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def web_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database only this module writes to (requests commit for real)."""
    if not TEST_DATABASE_URL:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    with own_schema_engine("web") as engine:
        upgrade(engine)
        yield engine


@pytest.fixture(scope="module")
def live(web_engine: Engine, shared_data_dir: Path, test_chain: Any, test_tsa: Any) -> Iterator[Live]:
    """The whole app, served by uvicorn on a free port of 127.0.0.1, in a thread."""
    port = _free_port()
    settings = make_settings(shared_data_dir, public_url=f"http://127.0.0.1:{port}")
    container = Container(settings, engine=web_engine)
    container.chain = test_chain
    container.timestamper = test_tsa
    server = uvicorn.Server(uvicorn.Config(create_app(container=container), host="127.0.0.1", port=port,
                                          log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", container)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright for Python is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                              locale="en-US", service_workers="allow")
    ctx.set_default_timeout(15_000)
    failed_before = request.session.testsfailed
    try:
        yield ctx
    finally:
        if request.session.testsfailed > failed_before:
            for i, pg in enumerate(ctx.pages):
                shot = tmp_path / f"failure-{i}.png"
                try:
                    pg.screenshot(path=str(shot), full_page=True)
                    print(f"screenshot of the failure: {shot}")
                except Exception as e:  # the test's own failure is what matters
                    print(f"no screenshot: {e}")
        ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def axe_check(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands (an empty list is a pass).
    Injected through the DevTools protocol, so the page's strict CSP stays on."""
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed at {AXE} (./scripts/test installs it with npm)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def csrf_of(page: Any) -> str:
    return page.get_attribute('meta[name="csrf-token"]', "content") or ""


def sign_up(page: Any, base: str, username: str, role: str = "reader", password: str = "password-123",
            ) -> None:
    page.goto(f"{base}/signup")
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator(f'input[name="role"][value="{role}"]').check()
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/")


def wait_until(page: Any, expression: str, timeout: float = 15.0) -> Any:
    """Poll ``expression`` until truthy. Not ``page.wait_for_function``: its polling evaluates strings
    inside the page, which the pages' strict CSP (no ``unsafe-eval``) rightly refuses."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value or time.monotonic() > deadline:
            assert value, f"still false after {timeout}s: {expression}"
            return value
        time.sleep(0.1)
