"""Chapter reads carry ETags and cache headers; public copies never outlive this process's own edits;
checkout links keep a configured public URL and otherwise follow the request."""

from __future__ import annotations

from conftest import make_settings
from factories import auth_headers, make_chapter, make_story, make_user
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.public_cache import etag_of, matches


def _path(chapter) -> str:  # type: ignore[no-untyped-def]
    return f"/stories/{chapter.story_id}/chapters/{chapter.id}"


def test_free_public_chapter_is_public_cacheable_and_revalidates_with_304(client, session, container):
    author = make_user(session, container)
    chapter = make_chapter(session, container, make_story(session, container, author), published=True)
    first = client.get(_path(chapter))
    assert first.status_code == 200 and first.json()["content"]
    assert first.headers["cache-control"] == "public, max-age=10"
    assert first.headers["etag"] == etag_of(first.content)
    assert "Authorization" in first.headers["vary"]
    again = client.get(_path(chapter))  # from the in-process copy: same bytes, same validator
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    for r in (client.get(_path(chapter), headers={"If-None-Match": first.headers["etag"]}),
              client.get(_path(chapter), headers={"If-None-Match": f'"x", W/{first.headers["etag"]}'})):
        assert r.status_code == 304 and r.content == b""
        assert r.headers["etag"] == first.headers["etag"]
    assert client.get(_path(chapter), headers={"If-None-Match": '"other"'}).status_code == 200


def test_an_edit_is_seen_at_once_by_anonymous_readers(client, session, container):
    author = make_user(session, container)
    chapter = make_chapter(session, container, make_story(session, container, author), published=True,
                           title="Before")
    before = client.get(_path(chapter))
    assert before.json()["title"] == "Before"
    r = client.put(f"/chapters/{chapter.id}", json={"title": "After"},
                   headers=auth_headers(container, author))
    assert r.status_code == 200, r.text
    after = client.get(_path(chapter), headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.json()["title"] == "After"
    assert after.headers["etag"] != before.headers["etag"]


def test_paid_and_signed_in_reads_are_private(client, session, container):
    author = make_user(session, container)
    story = make_story(session, container, author)
    paid = make_chapter(session, container, story, published=True, price_coins=5)
    free = make_chapter(session, container, story, published=True)
    anonymous = client.get(_path(paid))
    assert anonymous.status_code == 200 and anonymous.json()["content"] is None
    assert anonymous.headers["cache-control"] == "private, no-cache"
    own = client.get(_path(paid), headers=auth_headers(container, author))
    assert own.json()["content"] and own.headers["cache-control"] == "private, no-cache"
    assert client.get(_path(paid), headers={"If-None-Match": own.headers["etag"]}).status_code == 200
    reader = make_user(session, container, role="reader")
    signed_in = client.get(_path(free), headers=auth_headers(container, reader))
    assert signed_in.headers["cache-control"] == "private, no-cache"
    cached = client.get(_path(free))
    assert cached.headers["cache-control"] == "public, max-age=10"
    # a token never gets the public copy, even once one exists
    assert client.get(_path(free), headers=auth_headers(container, reader)).headers["cache-control"] == (
        "private, no-cache")


def test_no_public_copy_for_another_storys_path(client, session, container):
    author = make_user(session, container)
    chapter = make_chapter(session, container, make_story(session, container, author), published=True)
    assert client.get(_path(chapter)).status_code == 200
    other = make_story(session, container, author)
    assert client.get(f"/stories/{other.id}/chapters/{chapter.id}").status_code == 404


def test_if_none_match_parsing():
    assert matches("*", '"a"') and matches('"b", "a"', '"a"') and matches('W/"a"', '"a"')
    assert not matches(None, '"a"') and not matches('"b"', '"a"') and not matches("", '"a"')


def test_checkout_links_keep_a_configured_public_url_else_follow_the_request(
    shared_data_dir, container_factory, session
):
    for public_url, expected in (("https://legato.example/", "https://legato.example/payments/"),
                                 (None, "http://testserver/payments/")):
        container = container_factory(make_settings(shared_data_dir, public_url=public_url))
        reader = make_user(session, container, role="reader")
        with TestClient(create_app(container=container)) as c:
            r = c.post("/payments/checkout", json={"package_id": "handful"},
                       headers=auth_headers(container, reader))
        assert r.status_code == 201, r.text
        assert r.json()["checkout_url"].startswith(expected), r.json()
