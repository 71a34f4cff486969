"""Stories: creation and validation, draft visibility, status transitions, filters and cursor pages,
ratings on the story JSON."""

from __future__ import annotations

import pytest
from factories import auth_headers, make_chapter, make_story, make_user

from content.models.stories import Story, StoryStatus


@pytest.fixture
def writer(session, container):
    return make_user(session, container, role="writer")


@pytest.fixture
def wh(container, writer):
    return auth_headers(container, writer)


def test_create_story_defaults_to_draft_with_normalized_tags(client, wh, writer):
    r = client.post("/stories", json={
        "title": "Test Story", "description": "A test story", "genre": "fiction",
        "tags": ["Slow Burn", "slow  burn", " Magic "], "language": "en-GB",
        "cover_image_url": "https://img.example.org/c.png", "content_rating": "teen",
    }, headers=wh)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["title"] == "Test Story" and "id" in body
    assert body["status"] == "draft" and body["published_at"] is None
    assert body["tags"] == ["slow burn", "magic"]
    assert body["author"]["id"] == writer.id
    assert body["rating"] == {"average": None, "count": 0} and body["chapter_count"] == 0


INVALID_STORIES = [
    {},
    {"title": ""},
    {"title": "x" * 301},
    {"title": "T", "language": "english!"},
    {"title": "T", "cover_image_url": "javascript:alert(1)"},
    {"title": "T", "tags": [f"t{n}" for n in range(21)]},
    {"title": "T", "tags": ["x" * 41]},
    {"title": "T", "status": "published"},
    {"title": "T", "content_rating": "adult"},
    {"title": "T", "unknown": 1},
]


def test_invalid_stories_are_422_in_the_envelope(client, wh):
    for payload in INVALID_STORIES:
        r = client.post("/stories", json=payload, headers=wh)
        assert r.status_code == 422, payload
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_draft_is_invisible_to_everyone_but_author_and_admin(client, session, container, writer, wh):
    story = client.post("/stories", json={"title": "Secret draft"}, headers=wh).json()
    reader = make_user(session, container, role="reader")
    other = make_user(session, container, role="writer")
    admin = make_user(session, container, role="admin")
    for headers in ({}, auth_headers(container, reader), auth_headers(container, other)):
        r = client.get(f"/stories/{story['id']}", headers=headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
        listed = client.get("/stories", headers=headers).json()["items"]
        assert story["id"] not in [s["id"] for s in listed]
        assert client.get("/stories", params={"status": "draft"}, headers=headers).json()["items"] == []
    for headers in (wh, auth_headers(container, admin)):
        assert client.get(f"/stories/{story['id']}", headers=headers).status_code == 200
        assert story["id"] in [s["id"] for s in client.get("/stories", headers=headers).json()["items"]]


def test_status_transitions(client, session, container, writer, wh):
    story = client.post("/stories", json={"title": "Arc"}, headers=wh).json()
    r = client.put(f"/stories/{story['id']}", json={"status": "ongoing"}, headers=wh)
    assert r.status_code == 200 and r.json()["status"] == "ongoing"
    published_at = r.json()["published_at"]
    assert published_at is not None
    for status in ("hiatus", "completed", "ongoing"):
        r = client.put(f"/stories/{story['id']}", json={"status": status}, headers=wh)
        assert r.json()["status"] == status and r.json()["published_at"] == published_at
    back = client.put(f"/stories/{story['id']}", json={"status": "draft"}, headers=wh)
    assert back.json()["status"] == "draft"
    client.put(f"/stories/{story['id']}", json={"status": "ongoing"}, headers=wh)
    from content.models.stories import Story

    make_chapter(session, container, session.get(Story, story["id"]), published=True)
    r = client.put(f"/stories/{story['id']}", json={"status": "draft"}, headers=wh)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "INVALID_STATE_TRANSITION"
    assert r.json()["error"]["details"]["published_chapters"] == 1


def test_update_changes_only_given_fields(client, wh):
    story = client.post("/stories", json={"title": "A", "genre": "horror", "tags": ["x"]}, headers=wh).json()
    r = client.put(f"/stories/{story['id']}", json={"description": "Now with words", "tags": ["y", "x"]},
                   headers=wh)
    body = r.json()
    assert body["title"] == "A" and body["genre"] == "horror"
    assert body["description"] == "Now with words" and body["tags"] == ["y", "x"]


def test_filters(client, session, container, writer):
    other = make_user(session, container, role="writer", username="quill")
    for story in (
        make_story(session, container, writer, title="Fire", genre="Fantasy", language="en",
                   tags=["dragons"]),
        make_story(session, container, writer, title="Ice", genre="fantasy", language="fr",
                   status="completed"),
        make_story(session, container, other, title="Rain", genre="romance", language="en",
                   tags=["Dragons", "rain"]),
    ):
        make_chapter(session, container, story, published=True)  # public lists show readable stories
    make_story(session, container, other, title="Hidden", genre="romance", status="draft")

    def titles(**params):
        r = client.get("/stories", params=params)
        assert r.status_code == 200, r.text
        return sorted(s["title"] for s in r.json()["items"])

    assert titles(author=writer.id) == ["Fire", "Ice"]
    assert titles(author="quill") == ["Rain"]
    assert titles(author="nobody-here") == []
    assert titles(genre="FANTASY") == ["Fire", "Ice"]
    assert titles(tag="dragons") == ["Fire", "Rain"]
    assert titles(language="fr") == ["Ice"]
    assert titles(status="completed") == ["Ice"]
    assert titles(genre="romance", tag="rain") == ["Rain"]


def test_cursor_pagination_walks_every_story_once(client, session, container, writer):
    made = {make_story(session, container, writer, title=f"S{n}").id for n in range(7)}
    for story_id in made:
        make_chapter(session, container, session.get(Story, story_id), published=True)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, "author": writer.id}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/stories", params=params).json()
        seen += [s["id"] for s in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 7 and set(seen) == made


def test_bad_list_parameters(client):
    for params, status, code in (
        ({"cursor": "garbage!"}, 400, "INVALID_CURSOR"),
        ({"cursor": "eyJ0Ijoibm90LWEtZGF0ZSIsImlkIjoiMSJ9"}, 400, "INVALID_CURSOR"),
        ({"limit": 101}, 422, "VALIDATION_ERROR"),
        ({"limit": 0}, 422, "VALIDATION_ERROR"),
        ({"status": "unknown"}, 422, "VALIDATION_ERROR"),
    ):
        r = client.get("/stories", params=params)
        assert r.status_code == status and r.json()["error"]["code"] == code, params


def test_ratings_upsert_and_average_on_story(client, session, container, writer):
    story = make_story(session, container, writer)
    readers = [make_user(session, container, role="reader") for _ in range(3)]
    rh = [auth_headers(container, r) for r in readers]
    url = f"/stories/{story.id}/rating"
    for headers, stars in zip(rh, (5, 4, 2), strict=True):
        assert client.put(url, json={"stars": stars}, headers=headers).status_code == 200
    r = client.put(url, json={"stars": 3}, headers=rh[0])
    assert r.json() == {"story_id": story.id, "stars": 3, "average": 3.0, "count": 3}
    body = client.get(f"/stories/{story.id}", headers=rh[1]).json()
    assert body["rating"] == {"average": 3.0, "count": 3} and body["my_rating"] == 4
    assert client.delete(url, headers=rh[2]).status_code == 204
    assert client.get(f"/stories/{story.id}").json()["rating"] == {"average": 3.5, "count": 2}
    for stars in (0, 6, "five"):
        assert client.put(url, json={"stars": stars}, headers=rh[0]).status_code == 422
    assert client.put(url, json={"stars": 5}, headers=auth_headers(container, writer)).status_code == 403


def test_story_status_enum_matches_schema():
    from typing import get_args

    from api.http.schemas.content import StoryStatusName

    assert set(get_args(StoryStatusName)) == {s.value for s in StoryStatus}
