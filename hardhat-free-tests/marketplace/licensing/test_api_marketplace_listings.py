"""Listings: only a story's author lists it, only when every published chapter is certified; studios
browse them with performance figures computed from real reading, follows, saves and ratings."""

from __future__ import annotations

from factories import auth_headers, make_chapter, make_story, make_user
from licensing_support import licensable_story, listing_body, studio


def test_who_may_list_what(client, session, container):
    writer, story_id, _ = licensable_story(client, session, container, chapters=1)
    wh = auth_headers(container, writer)
    one = client.post("/marketplace/listings", json=listing_body(story_id, media="audio"), headers=wh)
    assert one.status_code == 201 and one.json()["media"] == ["audio"]

    rival = auth_headers(container, make_user(session, container, role="writer"))
    r = client.post("/marketplace/listings", json=listing_body(story_id), headers=rival)
    assert r.status_code == 403
    for role in ("reader", "studio"):
        headers = auth_headers(container, make_user(session, container, role=role))
        r = client.post("/marketplace/listings", json=listing_body(story_id), headers=headers)
        assert r.status_code == 403
    assert client.post("/marketplace/listings", json=listing_body(story_id)).status_code == 401
    assert client.post("/marketplace/listings", json=listing_body("nope"), headers=wh).status_code == 404
    for bad in (listing_body(story_id, media=["film", "radio"]), listing_body(story_id, asking_fee_cents=0),
                listing_body(story_id, asking_fee_cents=1.5), listing_body(story_id, media=[]),
                {**listing_body(story_id), "extra": 1}):
        assert client.post("/marketplace/listings", json=bad, headers=wh).status_code in (400, 422), bad

    # A published chapter that never went through the registry (imported that way by a factory), a
    # draft story, and a story with nothing published cannot be listed.
    unregistered = make_story(session, container, writer)
    bare = make_chapter(session, container, unregistered, published=True)
    r = client.post("/marketplace/listings", json=listing_body(unregistered.id), headers=wh)
    assert r.status_code == 409 and r.json()["error"]["code"] == "WORK_NOT_REGISTERED"
    assert r.json()["error"]["details"]["chapters_without_certificate"] == [bare.id]
    empty = make_story(session, container, writer)
    make_chapter(session, container, empty)  # a draft chapter only
    r = client.post("/marketplace/listings", json=listing_body(empty.id), headers=wh)
    assert r.status_code == 409 and r.json()["error"]["details"]["published_chapters"] == 0
    draft = make_story(session, container, writer, status="draft")
    assert client.post("/marketplace/listings", json=listing_body(draft.id), headers=wh).status_code == 404


def test_studios_browse_listings_with_metrics(client, session, container):
    writer, story_id, chapters = licensable_story(client, session, container, chapters=2,
                                                  title="Glass Harbour")
    wh = auth_headers(container, writer)
    body = listing_body(story_id, media=["film", "audio"], asking_fee_cents=900_000)
    listing = client.post("/marketplace/listings", json=body, headers=wh).json()
    other_writer, other_story, _ = licensable_story(client, session, container, chapters=1,
                                                    title="Iron Orchard")
    body = listing_body(other_story, media="print", exclusive=False, asking_fee_cents=50_000)
    other = client.post("/marketplace/listings", json=body,
                        headers=auth_headers(container, other_writer)).json()

    readers = [auth_headers(container, make_user(session, container, role="reader")) for _ in range(3)]
    for n, rh in enumerate(readers):
        client.put(f"/chapters/{chapters[0]['id']}/progress", json={"percentage": 100, "seconds": 60},
                   headers=rh)
        if n < 2:  # two of three readers reach the end of the latest chapter
            r = client.put(f"/chapters/{chapters[1]['id']}/progress", json={"percentage": 95, "seconds": 30},
                           headers=rh)
            assert r.status_code == 200, r.text
        client.put(f"/users/{writer.id}/follow", headers=rh)
        client.put(f"/stories/{story_id}/rating", json={"stars": 3 + n % 2}, headers=rh)
    client.put(f"/me/library/{story_id}", headers=readers[0])

    _, sh = studio(session, container)
    page = client.get("/marketplace/listings", headers=sh).json()
    ids = [item["id"] for item in page["items"]]
    assert listing["id"] in ids and other["id"] in ids
    item = next(i for i in page["items"] if i["id"] == listing["id"])
    assert item["title"] == "Glass Harbour" and item["author_name"] == writer.username
    assert item["metrics"] == {"published_chapters": 2, "reads": 5, "unique_readers": 3,
                               "completion_rate": 0.6667, "reading_seconds": 240, "followers": 3,
                               "library_saves": 1, "rating_average": 3.33, "rating_count": 3}

    def found(**params):
        page = client.get("/marketplace/listings", params=params, headers=sh).json()
        return [i["id"] for i in page["items"]]

    assert found(q="glass") == [listing["id"]]
    assert found(q="orchard", media="print") == [other["id"]]
    assert found(q="glass", media="print") == []
    assert listing["id"] not in found(exclusive="false") and other["id"] in found(exclusive="false")
    assert other["id"] in found(max_fee_cents=50_000) and listing["id"] not in found(max_fee_cents=50_000)
    ranked = found(sort="reads")
    assert ranked.index(listing["id"]) < ranked.index(other["id"])
    cheap_first = found(sort="fee_low")
    assert cheap_first.index(other["id"]) < cheap_first.index(listing["id"])
    assert client.get("/marketplace/listings", params={"sort": "random"}, headers=sh).status_code == 422
    assert client.get("/marketplace/listings").status_code == 401
    one = client.get(f"/marketplace/listings/{listing['id']}", headers=sh).json()
    assert one["metrics"]["unique_readers"] == 3
    paged = client.get("/marketplace/listings", params={"limit": 1}, headers=sh).json()
    assert len(paged["items"]) == 1 and paged["next_offset"] == 1 and paged["total"] >= 2
