"""The web foundation without a browser: sessions and CSRF, security headers, the error page, languages,
and that pages never take a path from the JSON API."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def csrf(client: TestClient, path: str = "/signup") -> str:
    page = client.get(path, headers=HTML)
    assert page.status_code == 200
    return re.search(r'name="csrf-token" content="([0-9a-f]{64})"', page.text).group(1)


def signup(client: TestClient, username: str, role: str = "reader") -> None:
    r = client.post("/signup", headers=HTML, follow_redirects=False, data={
        "csrf_token": csrf(client), "email": f"{username}@example.com", "username": username,
        "password": "password-123", "role": role})
    assert r.status_code == 303, r.text


def test_pages_have_strict_csp_and_no_inline_script(client: TestClient) -> None:
    for path in ("/", "/login", "/signup", "/settings", "/logout", "/offline"):
        r = client.get(path, headers=HTML)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        # every script is a file of this origin; no inline handlers
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", r.text), path
        assert not re.search(r"\son[a-z]+=", r.text), path


def test_session_cookie_is_httponly_lax_and_sealed(client: TestClient) -> None:
    r = client.get("/signup", headers=HTML)
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = client.post("/signup", headers=HTML, follow_redirects=False, data={
        "csrf_token": token, "email": "cookie@example.com", "username": "cookie", "password": "password-123",
        "role": "reader"})
    assert r.status_code == 303
    set_cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("legato_session="))
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Secure" not in set_cookie
    value = set_cookie.split(";")[0].split("=", 1)[1]
    assert "rt_" not in value and "eyJ" not in value  # neither token readable in the cookie
    assert "cookie" in client.get("/settings", headers=HTML).text
    # a cookie altered by hand is no session at all
    client.cookies.set("legato_session", value[:-4] + "AAAA")
    assert 'data-user="cookie"' not in client.get("/settings", headers=HTML).text


def test_secure_cookie_over_https(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="https://testserver") as client:
        token = csrf(client)
        r = client.post("/signup", headers=HTML, follow_redirects=False, data={
            "csrf_token": token, "email": "tls@example.com", "username": "tls", "password": "password-123",
            "role": "reader"})
        assert r.status_code == 303
        assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


def test_unsafe_methods_need_the_csrf_token(client: TestClient) -> None:
    signup(client, "csrfuser")
    for path, data in (("/settings", {"language": "fr"}), ("/logout", {}),
                       ("/login", {"email": "csrfuser", "password": "password-123"})):
        assert client.post(path, headers=HTML, data=data).status_code == 403
        assert client.post(path, headers=HTML, data={**data, "csrf_token": "0" * 64}).status_code == 403
    # the session survived the refused logout
    assert 'data-user="csrfuser"' in client.get("/settings", headers=HTML).text


def test_logout_ends_the_login_server_side(client: TestClient) -> None:
    signup(client, "leaver")
    kept = client.cookies.get("legato_session")
    r = client.post("/logout", headers=HTML, follow_redirects=False, data={"csrf_token": csrf(client, "/")})
    assert r.status_code == 303 and "storage" in r.headers["clear-site-data"]
    client.cookies.set("legato_session", kept)  # a copy of the old cookie no longer works
    assert 'data-user="leaver"' not in client.get("/settings", headers=HTML).text


def test_expired_access_token_is_refreshed_transparently(client: TestClient, container) -> None:  # type: ignore[no-untyped-def]
    signup(client, "refresher")
    from api.web import session

    access_token, refresh_token = session.unseal(container, client.cookies.get("legato_session"))
    expired = container.tokens.issue_access(
        user_id=container.tokens.decode_access(access_token).user_id, role="reader",
        session_id=container.tokens.decode_access(access_token).session_id,
        now=__import__("datetime").datetime(2020, 1, 1, tzinfo=__import__("datetime").UTC))
    client.cookies.set("legato_session", session.seal(container, expired, refresh_token))
    r = client.get("/settings", headers=HTML)
    assert 'data-user="refresher"' in r.text
    renewed = session.unseal(container, r.cookies.get("legato_session"))
    assert renewed is not None and renewed[1] != refresh_token
    # a second request that left with the old cookie (the browser sends several at once) is not taken
    # for a stolen refresh token: it gets the same new pair, and the login survives
    client.cookies.set("legato_session", session.seal(container, expired, refresh_token))
    r2 = client.get("/library", headers=HTML)
    assert 'data-user="refresher"' in r2.text
    assert session.unseal(container, r2.cookies.get("legato_session"))[1] == renewed[1]
    client.cookies.set("legato_session", r.cookies.get("legato_session"))
    assert 'data-user="refresher"' in client.get("/settings", headers=HTML).text


def test_login_throttled_like_the_api(client: TestClient) -> None:
    signup(client, "guarded")
    client.cookies.clear()
    token = csrf(client, "/login")
    codes = [client.post("/login", headers=HTML, data={"csrf_token": token, "email": "guarded",
                                                      "password": "wrong-password"}).status_code
             for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # the same counter as the JSON API
    api = client.post("/auth/login", json={"email": "guarded", "password": "password-123"})
    assert api.status_code == 429


def test_signup_validates_like_the_api(client: TestClient) -> None:
    token = csrf(client)
    r = client.post("/signup", headers=HTML, data={"csrf_token": token, "email": "nope", "username": "a",
                                                   "password": "short", "role": "admin"})
    assert r.status_code == 422
    assert r.text.count('aria-invalid="true"') == 3
    signup(client, "taken")
    client.cookies.delete("legato_session")
    r = client.post("/signup", headers=HTML, data={"csrf_token": csrf(client), "email": "other@example.com",
                                                   "username": "TAKEN", "password": "password-123",
                                                   "role": "reader"})
    assert r.status_code == 409


@pytest.mark.parametrize("value", ["a\x00b", "x" * 5000])
def test_hostile_form_values_are_400_not_500(client: TestClient, value: str) -> None:
    token = csrf(client, "/login")
    r = client.post("/login", headers=HTML, data={"csrf_token": token, "email": value, "password": "p"})
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]


def test_error_page_is_html_and_leaks_nothing(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.web import routes_account

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(routes_account.ProfileIn, "__init__", boom)
    signup(client, "crasher")
    r = client.post("/settings", headers=HTML, data={"csrf_token": csrf(client, "/settings"), "profile": "1",
                                                     "display_name": "x"})
    assert r.status_code == 500 and "text/html" in r.headers["content-type"]
    assert "secret-internal-detail" not in r.text and "Traceback" not in r.text
    assert "Something went wrong" in r.text


def test_language_from_cookie_then_accept_language(client: TestClient) -> None:
    r = client.get("/login", headers={**HTML, "Accept-Language": "sw-KE,sw;q=0.9,en;q=0.5"})
    assert '<html lang="sw" dir="ltr">' in r.text
    r = client.get("/login", headers={**HTML, "Accept-Language": "de, ar;q=0.8"})
    assert '<html lang="ar" dir="rtl">' in r.text
    r = client.post("/settings", headers=HTML, follow_redirects=False,
                    data={"csrf_token": csrf(client, "/settings"), "language": "ha"})
    assert r.status_code == 303
    r = client.get("/login", headers={**HTML, "Accept-Language": "fr"})
    assert '<html lang="ha"' in r.text


def test_catalogs_translate_every_interface_string() -> None:
    from babel.messages.pofile import read_po

    from api.web import i18n

    known = i18n.catalogs()
    assert {"en", "fr", "ar", "sw", "ha"} <= set(known)
    english = set()  # every catalog of the language: messages.po (reading) and studio.po (writing, studios)
    for po in (i18n.LOCALES_DIR / "en" / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as f:
            english |= {m.id for m in read_po(f) if m.id}
    used = set()  # every literal _("...") of the templates and pages is in the English catalog
    for path in [*i18n.LOCALES_DIR.parent.glob("templates/*.html"), *i18n.LOCALES_DIR.parent.glob("*.py")]:
        used |= set(re.findall(r"""(?:\b_|web\._)\(\s*"((?:[^"\\]|\\.)*)\"""", path.read_text()))
    assert len(used) > 100 and not used - english, sorted(used - english)[:5]
    for lang in ("fr", "ar", "sw", "ha"):
        missing = english - set(known[lang])
        assert not missing, (lang, sorted(missing)[:5])
        # placeholders survive translation
        for msgid, text in known[lang].items():
            assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", text)), msgid
    assert i18n.Translator("fr").gettext("Sign in") != "Sign in"
    assert i18n.Translator("fr").number(1234567) == "1\u202f234\u202f567"
