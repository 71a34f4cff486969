"""Reader and verify pages without a browser: what each person may see, escaping, content negotiation,
the actions behind the forms, and hostile input."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from web_content import story, unique_text, writer

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def csrf(client: TestClient, path: str = "/") -> str:
    page = client.get(path, headers=HTML).text
    return re.search(r'name="csrf-token" content="([0-9a-f]{64})"', page).group(1)


def sign_up(client: TestClient, name: str) -> str:
    r = client.post("/signup", headers=HTML, follow_redirects=False, data={
        "csrf_token": csrf(client, "/signup"), "email": f"{name}@example.com", "username": name,
        "password": "password-123", "role": "reader"})
    assert r.status_code == 303
    return csrf(client)


def test_story_and_reader_pages_follow_the_api_rules(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    w = writer(client)
    free, paid = unique_text(), unique_text()
    made = story(client, w, "Lanterns", [("Dusk", free, 0), ("Dawn", paid, 7)])
    draft = story(client, w, "Secret draft", [("Hidden", unique_text(), 0)], publish=False)
    with TestClient(app) as reader:
        page = reader.get(f"/s/{made.story_id}", headers=HTML)
        assert page.status_code == 200 and "Lanterns" in page.text and "7 coins" in page.text
        assert f'/verify/{made.chapters[0]["certificate_id"]}' in page.text
        one = reader.get(f"/s/{made.story_id}/1", headers=HTML)
        assert one.status_code == 200 and one.headers["x-legato-offline"] == "1"
        assert "The night market opened at dusk" in one.text
        two = reader.get(f"/s/{made.story_id}/2", headers=HTML)
        assert two.status_code == 200 and "x-legato-offline" not in two.headers
        assert paid.split("\n")[0] not in two.text and "locked" in two.text
        assert reader.get(f"/s/{draft.story_id}", headers=HTML).status_code == 404
        assert reader.get(f"/s/{draft.story_id}/1", headers=HTML).status_code == 404
        assert "Secret draft" not in reader.get("/", headers=HTML).text
        assert reader.get("/library", headers=HTML, follow_redirects=False).headers["location"] == \
            "/login?next=/library"


@pytest.mark.parametrize(("language", "rtl"), [("ar", True), ("fa-IR", True), ("sw", False), ("xx", False),
                                               ("zz-Qqqq-999", False)])
def test_chapter_direction_follows_the_story_language(client: TestClient, language: str, rtl: bool) -> None:
    made = story(client, writer(client), "Directions", [("One", unique_text(), 0)], language=language)
    page = client.get(f"/s/{made.story_id}/1", headers=HTML)
    assert page.status_code == 200
    assert ('dir="rtl"' in page.text) is rtl
    assert client.get(f"/s/{made.story_id}", headers=HTML).status_code == 200


def test_titles_and_comments_are_escaped(client: TestClient) -> None:
    w = writer(client)
    made = story(client, w, "<img src=x onerror=alert(1)>", [("<script>alert(2)</script>", unique_text(), 0)])
    token = sign_up(client, "escaper")
    r = client.post(f"/s/{made.story_id}/1/comments", headers=HTML, data={
        "csrf_token": token, "body": '<b onmouseover="alert(3)">hi</b>'})
    assert r.status_code == 200  # followed back to the chapter
    for path in ("/", f"/s/{made.story_id}", f"/s/{made.story_id}/1", f"/u/{w.username}", "/search?q=img"):
        text = client.get(path, headers=HTML).text
        assert "<img src=x" not in text and "<script>alert" not in text and "<b onmouseover" not in text, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get(f"/s/{made.story_id}", headers=HTML).text


def test_unlock_comment_tip_and_progress(client: TestClient, container) -> None:  # type: ignore[no-untyped-def]
    w = writer(client)
    made = story(client, w, "Paid road", [("Toll", unique_text(), 5)])
    token = sign_up(client, "payer")
    # no coins: the unlock says so and charges nothing
    r = client.post(f"/s/{made.story_id}/1/unlock", headers=HTML, data={"csrf_token": token},
                    follow_redirects=False)
    assert r.headers["location"].endswith("notice=funds")
    # buy coins through the embedded gateway's confirm page
    package = container.coins.packages()[0]
    r = client.post("/library/coins", headers=HTML, data={"csrf_token": token, "package_id": package.id},
                    follow_redirects=False)
    assert r.status_code == 303 and "/payments/test-gateway/checkouts/" in r.headers["location"]
    confirm = r.headers["location"].split("://", 1)[-1].split("/", 1)[1]
    assert client.post("/" + confirm).status_code == 200
    library = client.get("/library", headers=HTML).text
    assert re.search(r"Your coins: ([0-9,\u202f]+)", library).group(1).replace(",", "") == str(package.coins)
    r = client.post(f"/s/{made.story_id}/1/unlock", headers=HTML, data={"csrf_token": token},
                    follow_redirects=False)
    assert r.headers["location"].endswith("notice=unlocked")
    page = client.get(r.headers["location"], headers=HTML)
    assert page.headers["x-legato-offline"] == "1" and "Chapter unlocked." in page.text
    r = client.post(f"/s/{made.story_id}/1/tip", headers=HTML, follow_redirects=False,
                    data={"csrf_token": token, "coins": "2", "idempotency_key": "k" * 32})
    assert r.headers["location"].endswith("notice=tipped")
    again = client.post(f"/s/{made.story_id}/1/tip", headers=HTML, follow_redirects=False,
                        data={"csrf_token": token, "coins": "2", "idempotency_key": "k" * 32})
    assert again.headers["location"].endswith("notice=tipped")  # the same key is one tip
    r = client.post(f"/s/{made.story_id}/1/progress", headers={"X-CSRF-Token": token},
                    data={"percentage": "42.5", "seconds": "30"})
    assert r.status_code == 204
    assert client.post(f"/s/{made.story_id}/1/progress", data={"percentage": "5"}).status_code == 403
    assert client.post(f"/s/{made.story_id}/1/progress", headers={"X-CSRF-Token": token},
                       data={"percentage": "500"}).status_code == 422
    assert "42" in client.get("/library", headers=HTML).text


def test_search_and_verify_negotiate_html_or_json(client: TestClient) -> None:
    w = writer(client)
    made = story(client, w, "Negotiated tale", [("One", unique_text(), 0)])
    cert = made.chapters[0]["certificate_id"]
    api = client.get(f"/verify/{cert}")
    assert api.headers["content-type"] == "application/json" and api.json()["ok"] is True
    page = client.get(f"/verify/{cert}", headers=HTML)
    assert page.headers["content-type"].startswith("text/html") and 'data-verdict="pass"' in page.text
    assert f"/registry/certificates/{cert}.pdf" in page.text
    assert client.get("/search?q=Negotiated").json()["items"][0]["title"] == "Negotiated tale"
    assert "Negotiated tale" in client.get("/search?q=Negotiated", headers=HTML).text
    assert client.get("/verify/" + "x" * 65, headers=HTML).status_code == 400
    assert client.get("/verify/no-such-cert", headers=HTML).status_code == 404


def test_verify_upload_genuine_and_tampered(client: TestClient) -> None:
    w = writer(client)
    text = unique_text()
    made = story(client, w, "Checked", [("One", text, 0)])
    cert = made.chapters[0]["certificate_id"]
    body = client.get(f"/registry/certificates/{cert}").content
    token = csrf(client, "/verify")
    ok = client.post("/verify", headers=HTML, data={"csrf_token": token},
                     files={"certificate": ("c.json", body, "application/json"),
                            "text": ("t.txt", text.encode(), "text/plain")})
    assert ok.status_code == 200 and 'data-verdict="pass"' in ok.text
    assert 'data-check="content_hash" data-status="pass"' in ok.text
    tampered = json.loads(body)
    tampered["work"]["title"] = "Stolen"
    bad = client.post("/verify", headers=HTML, data={"csrf_token": token},
                      files={"certificate": ("c.json", json.dumps(tampered).encode(), "application/json")})
    assert bad.status_code == 200 and 'data-verdict="fail"' in bad.text
    assert 'data-check="signature" data-status="fail"' in bad.text
    wrong_text = client.post("/verify", headers=HTML, data={"csrf_token": token},
                             files={"certificate": ("c.json", body, "application/json"),
                                    "text": ("t.txt", b"another text", "text/plain")})
    assert 'data-check="content_hash" data-status="fail"' in wrong_text.text


@pytest.mark.parametrize("payload", [b"not json", b"[" * 5000 + b"]" * 5000, b'{"a": "\\u0000"}', b""])
def test_verify_upload_hostile(client: TestClient, payload: bytes) -> None:
    r = client.post("/verify", headers=HTML, data={"csrf_token": csrf(client, "/verify")},
                    files={"certificate": ("c.json", payload, "application/json")})
    assert r.status_code in (200, 400) and r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/s/x/99999999999", "/s/x/-1", "/s/" + "a" * 5000,
                                  "/u/" + "b" * 300, "/search?q=" + "q" * 300, "/?genre=" + "g" * 100])
def test_hostile_paths_are_client_errors(client: TestClient, path: str) -> None:
    r = client.get(path, headers=HTML)
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("text/html")
