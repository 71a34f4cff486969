# ruff: noqa: F811 (pytest fixtures imported from web_browser, then named as parameters)
"""The reader's journey in Chromium at a phone viewport, the verify page with a genuine and a tampered
certificate, and a hostile story title — each page checked by axe-core as it is visited."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from web_browser import (  # noqa: F401
    Live,
    axe_check,
    browser,
    context,
    live,
    page,
    sign_up,
    wait_until,
    web_engine,
)
from web_content import story, unique_text, writer

from content.models.reading import ReadingProgress


@pytest.fixture(scope="module")
def api(live: Live) -> Any:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


def accessible(page: Any) -> None:
    assert axe_check(page) == [], page.url


def test_reader_journey(page: Any, context: Any, live: Live, api: Any) -> None:
    w = writer(api)
    made = story(api, w, "Journey to Kano",
                 [("The gate", unique_text(), 0), ("The market", unique_text(), 5)],
                 genre="adventure")
    paid_words = made.chapters[1]["title"]
    sign_up(page, live.url, "journeyreader")
    accessible(page)
    # find the story with the search box
    page.get_by_role("searchbox", name="Search stories").fill("Kano")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=Kano")
    accessible(page)
    page.get_by_role("link", name="Journey to Kano").click()
    page.wait_for_url(f"**/s/{made.story_id}")
    accessible(page)
    page.get_by_role("button", name="Save to library").click()
    page.get_by_role("button", name="Saved to library").wait_for()
    page.get_by_role("link", name="1. The gate").click()
    assert page.locator(".chapter-text").inner_text().startswith("The night market opened at dusk")
    page.get_by_role("button", name="Sepia").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "sepia"
    page.get_by_role("button", name="Larger text").click()
    accessible(page)
    # the next chapter is locked: buy coins through the embedded gateway, then unlock
    page.get_by_role("link", name="Next chapter").click()
    page.wait_for_url(f"**/s/{made.story_id}/2")
    assert page.locator(".chapter-text").count() == 0
    accessible(page)
    page.get_by_role("link", name="Buy coins").click()
    page.wait_for_url("**/library#coins")
    accessible(page)
    page.locator("#coins").get_by_role("button", name="Buy coins").click()
    page.wait_for_url("**/payments/test-gateway/checkouts/*/confirm")
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    page.wait_for_load_state()
    page.goto(f"{live.url}/s/{made.story_id}/2")
    page.get_by_role("button", name=re.compile("^Unlock for 5 coins")).click()
    page.wait_for_url("**notice=unlocked")
    assert page.locator(".chapter-text").inner_text().startswith("The night market opened at dusk")
    assert paid_words in page.title()
    # comment
    page.get_by_label("Your comment").fill("What a market! <b>loud</b>")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url("**notice=commented#comments")
    assert page.locator(".comments").inner_text().count("What a market! <b>loud</b>") == 1
    accessible(page)
    # save for offline, once the service worker controls the page
    page.goto(f"{live.url}/s/{made.story_id}/2")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    save = page.get_by_role("button", name=re.compile("offline", re.I))
    save.click()
    page.get_by_text("Saved on this device").wait_for()
    # offline: the saved chapter opens and reads; progress made offline is sent once back online
    context.set_offline(True)
    try:
        page.goto(f"{live.url}/s/{made.story_id}/2")
        assert page.locator(".chapter-text").inner_text().startswith("The night market opened at dusk")
        assert page.locator("[data-offline-note]").is_visible()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        wait_until(page, "Object.keys(JSON.parse(localStorage.getItem('legato-progress-queue') || '{}'))"
                         ".length > 0")
        page.goto(f"{live.url}/u/nobody-saved-this")  # not saved: the offline page answers
        assert "offline" in page.locator("h1").inner_text().lower()
        page.goto(f"{live.url}/s/{made.story_id}/2")
    finally:
        context.set_offline(False)
    wait_until(page, "(localStorage.getItem('legato-progress-queue') || '{}') === '{}'")
    with live.container.session_factory() as db:
        row = db.scalar(select(ReadingProgress).where(ReadingProgress.chapter_id == made.chapters[1]["id"]))
        assert row is not None and row.percentage > 0
    # the library lists what is on the device; signing out forgets it
    page.goto(f"{live.url}/library")
    page.locator("[data-offline-list] a").first.wait_for()
    accessible(page)
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url("**/?signed_out=1")
    # the saved chapters are gone (the shell cache comes back with the re-registered service worker)
    wait_until(page, "caches.keys().then(k => !k.includes('legato-chapters'))")
    assert page.evaluate("localStorage.getItem('legato-progress-queue')") is None


def test_verify_page_genuine_and_tampered(page: Any, live: Live, api: Any) -> None:
    w = writer(api)
    made = story(api, w, "Certified tale", [("One", unique_text(), 0)])
    cert = made.chapters[0]["certificate_id"]
    page.goto(f"{live.url}/verify")
    accessible(page)
    page.get_by_label("Certificate id").fill(cert)
    page.get_by_role("button", name="Verify").last.click()
    page.wait_for_url(f"**/verify/{cert}")
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "pass"
    assert page.locator('[data-check="signature"]').get_attribute("data-status") == "pass"
    assert page.get_by_role("link", name="Certificate PDF").get_attribute("href").endswith(f"{cert}.pdf")
    accessible(page)
    tampered = json.loads(api.get(f"/registry/certificates/{cert}").content)
    tampered["author"]["display_name"] = "Someone else"
    page.goto(f"{live.url}/verify")
    page.get_by_label("Certificate file (JSON)").set_input_files(
        {"name": "certificate.json", "mimeType": "application/json", "buffer": json.dumps(tampered).encode()})
    page.get_by_role("button", name="Check", exact=True).click()
    page.locator("[data-verdict]").wait_for()
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "fail"
    assert page.locator('[data-check="signature"]').get_attribute("data-status") == "fail"
    accessible(page)


def test_hostile_title_renders_as_text(page: Any, live: Live, api: Any) -> None:
    title = "<img src=x onerror=alert(1)>"
    w = writer(api)
    made = story(api, w, title, [("<script>alert(2)</script>", unique_text(), 0)])
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in ("/", f"/s/{made.story_id}", f"/s/{made.story_id}/1", f"/u/{w.username}"):
        page.goto(live.url + path)
        accessible(page)
    page.goto(f"{live.url}/s/{made.story_id}")
    assert page.locator("h1").inner_text() == title
    assert page.locator("main img").count() == 0
    assert dialogs == []
