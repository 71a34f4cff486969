"""Full-text search over story titles, tags and descriptions (FTS5 on SQLite, tsvector on PostgreSQL —
whichever backend the suite runs on)."""

from __future__ import annotations

from factories import auth_headers, make_chapter, make_user
from factories import make_story as _make_story

from content.models.stories import Story


def make_story(session, container, writer, **fields):
    """A story with one published chapter: search, like the public list, leaves out empty stories."""
    story = _make_story(session, container, writer, **fields)
    make_chapter(session, container, story, published=True)
    return story


def ids(client, q, **params):
    r = client.get("/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()["items"]]


def test_ranking_title_over_tags_over_description(client, session, container):
    writer = make_user(session, container)
    in_desc = make_story(session, container, writer, title="Salt Roads",
                         description="A keeper of the lighthouse.")
    in_title = make_story(session, container, writer, title="The Lighthouse", description="Waves.")
    in_tags = make_story(session, container, writer, title="Night Shift", tags=["lighthouse", "sea"])
    make_story(session, container, writer, title="Unrelated", description="Mountains.")
    assert ids(client, "lighthouse") == [in_title.id, in_tags.id, in_desc.id]
    assert ids(client, "lighthouses") == [in_title.id, in_tags.id, in_desc.id]  # stemming
    assert ids(client, "LIGHT") == [in_title.id, in_tags.id, in_desc.id]  # prefix on the last word
    assert ids(client, "lighthouse sea") == [in_tags.id]  # every word required


def test_drafts_and_chapter_text_are_not_searchable(client, session, container):
    writer = make_user(session, container)
    make_story(session, container, writer, title="Zanzibar Draft", status="draft")
    public = make_story(session, container, writer, title="Harbour")
    make_chapter(session, container, public, published=True, content="zanzibar appears only in chapter text")
    assert ids(client, "zanzibar") == []
    assert ids(client, "zanzibar", **{}) == []
    assert client.get("/search", params={"q": "zanzibar"}, headers=auth_headers(container, writer)).json()[
        "items"] == []


def test_index_follows_edits_and_tags(client, session, container):
    writer = make_user(session, container)
    wh = auth_headers(container, writer)
    story = client.post("/stories", json={"title": "Old Name", "tags": ["gothic"], "status": "ongoing"},
                        headers=wh).json()
    assert ids(client, "gothic") == []  # nothing published yet
    make_chapter(session, container, session.get(Story, story["id"]), published=True)
    assert ids(client, "gothic") == [story["id"]]
    client.put(f"/stories/{story['id']}", json={"title": "Brand New", "tags": ["cozy"]}, headers=wh)
    assert ids(client, "old name") == [] and ids(client, "gothic") == []
    assert ids(client, "brand") == [story["id"]] and ids(client, "cozy") == [story["id"]]


def test_hostile_queries_are_safe(client, session, container):
    writer = make_user(session, container)
    story = make_story(session, container, writer, title="Quotes and Stars")
    for q in ('"quotes', "quotes*", "quotes:*", "quotes & | !stars", "NEAR(quotes stars)",
              "quotes' OR 1=1 --", "stars)", "^quotes", "-quotes"):
        r = client.get("/search", params={"q": q})
        assert r.status_code == 200, (q, r.text)
    assert ids(client, '"quotes" OR planets') == []  # OR is a plain word: planets must appear too
    assert ids(client, '"quotes" stars!!') == [story.id]
    assert ids(client, "!!! ???") == []
    assert client.get("/search", params={"q": ""}).status_code == 422
    assert client.get("/search").status_code == 422


def test_filters_and_pages(client, session, container):
    writer = make_user(session, container)
    made = [make_story(session, container, writer, title=f"Comet {n}", genre="scifi" if n % 2 else "fantasy")
            for n in range(5)]
    first = client.get("/search", params={"q": "comet", "limit": 2}).json()
    second = client.get("/search", params={"q": "comet", "limit": 2, "cursor": first["next_cursor"]}).json()
    third = client.get("/search", params={"q": "comet", "limit": 2, "cursor": second["next_cursor"]}).json()
    found = [s["id"] for s in first["items"] + second["items"] + third["items"]]
    assert sorted(found) == sorted(s.id for s in made) and third["next_cursor"] is None
    assert len(ids(client, "comet", genre="SciFi")) == 2
    assert client.get("/search", params={"q": "comet", "cursor": "%%%"}).status_code == 400
