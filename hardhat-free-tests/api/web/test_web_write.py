"""The writer dashboard without a browser: the editor, publishing with its certificate, schedules,
versions, import, earnings and payouts; who may open what (as the JSON API decides it); hostile input."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
XSS = "<img src=x onerror=alert(1)>"


def csrf(client: TestClient, path: str = "/signup") -> str:
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, (path, page.status_code)
    return re.search(r'name="csrf-token" content="([0-9a-f]{64})"', page.text).group(1)


def signup(client: TestClient, username: str, role: str = "writer") -> None:
    client.cookies.delete("legato_session")
    r = client.post("/signup", headers=HTML, follow_redirects=False, data={
        "csrf_token": csrf(client), "email": f"{username}@example.com", "username": username,
        "password": "password-123", "role": role})
    assert r.status_code == 303, r.text


def post(client: TestClient, path: str, data: dict | None = None, files: dict | None = None,
         expect: int = 303):  # type: ignore[no-untyped-def]
    r = client.post(path, headers=HTML, follow_redirects=False, files=files,
                    data={"csrf_token": csrf(client, "/settings"), **(data or {})})
    assert r.status_code == expect, (path, r.status_code, r.text[:500])
    return r


def new_story(client: TestClient, title: str = "The Salt Road") -> str:
    r = post(client, "/write/stories", {"title": title, "description": "Caravans.", "genre": "adventure",
                                         "tags": "desert, salt"})
    return r.headers["location"].rsplit("/", 1)[1]


def new_chapter(client: TestClient, story_id: str, title: str, text: str) -> str:
    r = post(client, f"/write/s/{story_id}/chapters", {"title": title})
    chapter_id = r.headers["location"].rsplit("/", 1)[1]
    post(client, f"/write/c/{chapter_id}", {"title": title, "content": text, "price_coins": "0",
                                            "action": "save"})
    return chapter_id


TEXT = ("The caravan left at dawn, forty camels heavy with salt from the pans of Bilma. "
        "Amina walked beside the lead animal, counting the dunes as her grandmother had taught her. ") * 6


def test_writer_writes_publishes_and_sees_the_certificate(client: TestClient) -> None:
    signup(client, "kanowriter")
    assert client.get("/write", headers=HTML).status_code == 200
    story_id = new_story(client, XSS)
    page = client.get(f"/write/s/{story_id}", headers=HTML)
    assert XSS not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    chapter_id = new_chapter(client, story_id, "Dawn", "# Dawn\n\n" + TEXT + "\n\n<script>alert(1)</script>")
    editor = client.get(f"/write/c/{chapter_id}", headers=HTML)
    assert "<script>alert(1)</script>" not in editor.text

    # the preview: Markdown rendered, raw HTML shown as text
    r = post(client, "/write/preview", {"content": "*salt* <script>x()</script> [a](javascript:alert(1))"},
             expect=200)
    assert "<em>salt</em>" in r.text and "<script>" not in r.text and "href=\"javascript" not in r.text
    r = post(client, f"/write/c/{chapter_id}", {"title": "Dawn", "content": "**bold**", "action": "preview"},
             expect=200)
    assert "<strong>bold</strong>" in r.text

    post(client, f"/write/c/{chapter_id}/publish")
    page = client.get(f"/write/c/{chapter_id}?done=published", headers=HTML).text
    certificate_id = re.search(r'data-certificate="([0-9a-f-]{36})"', page).group(1)
    assert f'href="/verify/{certificate_id}"' in page and "Published and registered" in page
    cert = client.get(f"/registry/certificates/{certificate_id}")
    assert cert.status_code == 200 and certificate_id in cert.text
    assert client.get(f"/verify/{certificate_id}").json()["ok"] is True

    # a new text of the published chapter becomes version 2, with its own certificate
    post(client, f"/write/c/{chapter_id}", {"title": "Dawn", "content": TEXT + " A new ending.",
                                            "action": "save"})
    page = client.get(f"/write/c/{chapter_id}", headers=HTML).text
    assert f"/write/c/{chapter_id}/v/2" in page
    assert client.get(f"/write/c/{chapter_id}/v/1", headers=HTML).status_code == 200


def test_schedule_autosave_and_import(client: TestClient) -> None:
    signup(client, "scheduler")
    story_id = new_story(client)
    chapter_id = new_chapter(client, story_id, "Later", TEXT)
    post(client, f"/write/c/{chapter_id}/autosave", {"title": "Later", "content": TEXT + " More."},
         expect=204)
    assert "More." in client.get(f"/write/c/{chapter_id}", headers=HTML).text
    post(client, f"/write/c/{chapter_id}/schedule", {"publish_at": "2099-01-01T10:00"})
    assert "Publishes at" in client.get(f"/write/c/{chapter_id}", headers=HTML).text
    post(client, f"/write/c/{chapter_id}/schedule", {"cancel": "1"})
    post(client, f"/write/c/{chapter_id}/schedule", {"publish_at": "2001-01-01T10:00"}, expect=422)
    post(client, f"/write/c/{chapter_id}/schedule", {"publish_at": "soon"}, expect=422)
    manuscript = b"# One\n\nFirst chapter text here.\n\n# Two\n\nSecond chapter text here.\n"
    r = post(client, f"/write/s/{story_id}/import", files={"file": ("book.md", manuscript, "text/markdown")})
    assert r.headers["location"].endswith("?imported=2")
    post(client, f"/write/s/{story_id}/import", files={"file": ("book.exe", b"MZ\x00", "x/y")}, expect=400)


def test_pages_decide_as_the_json_api(client: TestClient) -> None:
    first = client.get("/write", headers=HTML, follow_redirects=False)
    assert first.headers["location"] == "/login?next=/write"
    signup(client, "owner1")
    story_id = new_story(client)
    chapter_id = new_chapter(client, story_id, "Mine", TEXT)
    signup(client, "other1")
    # a draft story does not exist for anyone else; its chapter neither
    assert client.get(f"/write/s/{story_id}", headers=HTML).status_code == 404
    assert client.get(f"/write/c/{chapter_id}", headers=HTML).status_code == 404
    post(client, f"/write/c/{chapter_id}/publish", expect=404)
    signup(client, "owner1b")
    signup(client, "reader1", role="reader")
    assert client.get("/write", headers=HTML).status_code == 403
    assert client.get("/write/earnings", headers=HTML).status_code == 403
    post(client, "/write/stories", {"title": "Nope"}, expect=403)
    # no CSRF token, no change
    r = client.post("/write/stories", headers=HTML, data={"title": "x"})
    assert r.status_code == 403


def test_published_story_is_403_to_other_writers(client: TestClient) -> None:
    signup(client, "owner2")
    story_id = new_story(client)
    chapter_id = new_chapter(client, story_id, "Out", TEXT.replace("Bilma", "Agadez"))
    post(client, f"/write/c/{chapter_id}/publish")
    signup(client, "other2")
    assert client.get(f"/write/s/{story_id}", headers=HTML).status_code == 403
    post(client, f"/write/c/{chapter_id}", {"title": "Mine now", "content": "x", "action": "save"},
         expect=403)


@pytest.mark.parametrize("data", [
    {"title": ""}, {"title": "x" * 301}, {"title": "ok", "language": "not a language!"},
    {"title": "ok", "tags": "y" * 41}, {"title": "a\x00b"}, {"title": "ok", "content_rating": "adult"},
])
def test_hostile_story_forms_are_4xx(client: TestClient, data: dict) -> None:
    signup(client, f"hostile{abs(hash(str(data))) % 10**6}")
    r = client.post("/write/stories", headers=HTML, data={"csrf_token": csrf(client, "/settings"), **data})
    assert 400 <= r.status_code < 500 and "text/html" in r.headers["content-type"]


def test_hostile_chapter_values_are_4xx(client: TestClient) -> None:
    signup(client, "hostile2")
    story_id = new_story(client)
    chapter_id = new_chapter(client, story_id, "Ch", TEXT)
    for data in ({"title": "Ch", "content": "x", "price_coins": "-1"}, {"title": "Ch", "content": "x",
                 "price_coins": "99999999999"}, {"title": "", "content": "x"}):
        post(client, f"/write/c/{chapter_id}", {**data, "action": "save"}, expect=422)
    for path in ("/write/c/nope", "/write/s/nope", f"/write/c/{chapter_id}/v/99",
                 f"/write/c/{chapter_id}/v/x", f"/write/c/{chapter_id}/v/99999999999999999999"):
        assert client.get(path, headers=HTML).status_code in (404, 422), path


def test_earnings_and_payout_request(client: TestClient, container, session) -> None:  # type: ignore[no-untyped-def]
    signup(client, "earner")
    page = client.get("/write/earnings", headers=HTML)
    assert page.status_code == 200 and "Request a payout" in page.text
    # nothing earned yet: the service's refusal is a 4xx page with its message
    r = post(client, "/write/payouts", {"amount": "5.00"}, expect=400)
    assert "text/html" in r.headers["content-type"]
    post(client, "/write/payouts", {"amount": "five"}, expect=422)


def test_part2_pages_are_translated_in_every_language() -> None:
    """Every interface string of the writer, studio, admin and wallet templates has a translation in
    each catalog (studio.po), placeholders kept."""
    from pathlib import Path

    from api.web import i18n

    templates = Path(i18n.__file__).parent / "templates"
    wanted: set[str] = set()
    for name in ("write", "studio", "admin", "wallet"):
        for path in templates.glob(f"{name}*.html"):
            wanted |= {a or b for a, b in re.findall(r"""_\(\s*(?:"([^"]+)"|'([^']+)')""", path.read_text())}
    assert len(wanted) > 150
    known = i18n.catalogs()
    for lang in ("fr", "ar", "sw", "ha"):
        assert not wanted - set(known[lang]), (lang, sorted(wanted - set(known[lang]))[:5])
        for msgid in wanted:
            placeholders = sorted(re.findall(r"%\(\w+\)s", msgid))
            assert placeholders == sorted(re.findall(r"%\(\w+\)s", known[lang][msgid])), (lang, msgid)
    page = i18n.Translator("fr").gettext("Pay %(fee)s", fee="12 $")
    assert page == "Payer 12 $"


def test_long_chapters_and_strict_pages(client: TestClient) -> None:
    """A chapter longer than an ordinary form field saves whole; every part-2 page keeps the strict CSP
    (no inline script, no ``on*=`` handler)."""
    signup(client, "novelist")
    story_id = new_story(client)
    long_text = (TEXT + "\n\n") * 120  # about 100,000 characters
    chapter_id = new_chapter(client, story_id, "Long", long_text)
    assert len(long_text) > 60_000 and long_text.strip()[-40:] in client.get(f"/write/c/{chapter_id}",
                                                                             headers=HTML).text
    post(client, f"/write/c/{chapter_id}", {"title": "Long", "content": "x" * 500_001, "action": "save"},
         expect=400)
    for path in ("/write", f"/write/s/{story_id}", f"/write/c/{chapter_id}", "/write/earnings",
                 "/write/offers", "/wallet", "/studio", "/admin"):
        r = client.get(path, headers=HTML)
        assert r.status_code == (403 if path == "/admin" else 200), path
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", r.text), path
        assert not re.search(r"\son[a-z]+=", r.text), path


@pytest.mark.parametrize(("typed", "cents"), [
    ("12", 1200), ("12.5", 1250), ("12.50", 1250), ("12,50", 1250), ("12,345.67", 1_234_567),
    ("12 345", 1_234_500), ("0.07", 7), ("", None), ("1.234", "422"), ("abc", "422"), ("-3", "422"),
    ("12,5,0", "422"),
])
def test_amounts_as_people_type_them(typed: str, cents: object) -> None:
    from starlette.datastructures import FormData
    from starlette.exceptions import HTTPException

    from api.web.gate import cents as parse

    if cents == "422":
        with pytest.raises(HTTPException) as e:
            parse(FormData({"fee": typed}), "fee", required=False)
        assert e.value.status_code == 422
    else:
        assert parse(FormData({"fee": typed}), "fee", required=False) == cents
