# ruff: noqa: F811 (pytest fixtures imported from web_browser, then named as parameters)
"""Account pages in Chromium at a phone viewport: sign up, sign out, sign in, language, accessibility."""

from __future__ import annotations

from typing import Any

from web_browser import Live, axe_check, browser, context, live, page, sign_up, web_engine  # noqa: F401


def test_account_pages_in_a_phone_browser(page: Any, live: Live) -> None:
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    for path in ("/", "/login", "/signup", "/settings", "/logout", "/offline", "/verify", "/search?q=x",
                 "/s/no-such-story"):
        page.goto(live.url + path)
        assert axe_check(page) == [], path
        # the layout fits the phone: nothing wider than the viewport
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    sign_up(page, live.url, "phoneuser")
    assert page.get_attribute("body", "data-user") == "phoneuser"
    cookie = next(c for c in page.context.cookies() if c["name"] == "legato_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("legato_session") == -1
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url("**/?signed_out=1")
    assert page.get_attribute("body", "data-user") is None
    page.goto(live.url + "/login")
    page.get_by_label("Email or username").fill("phoneuser")
    page.get_by_label("Password").fill("password-123")
    page.get_by_role("button", name="Sign in").last.click()
    page.wait_for_url(live.url + "/")
    assert page.get_attribute("body", "data-user") == "phoneuser"
    assert csp_errors == []


def test_arabic_is_right_to_left(page: Any, live: Live) -> None:
    page.goto(live.url + "/settings")
    page.locator("#settings-language").select_option("ar")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/settings?saved=1")
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert axe_check(page) == []
