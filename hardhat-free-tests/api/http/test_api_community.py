"""Comments (one level of replies, edit/delete, pins), blocks and follows, reports and the admin queue."""

from __future__ import annotations

import pytest
from factories import auth_headers, make_chapter, make_story, make_user


@pytest.fixture
def world(session, container):
    author = make_user(session, container, role="writer")
    story = make_story(session, container, author)
    chapter = make_chapter(session, container, story, published=True)
    readers = [make_user(session, container, role="reader") for _ in range(2)]
    admin = make_user(session, container, role="admin")
    h = {name: auth_headers(container, u) for name, u in
         (("author", author), ("r1", readers[0]), ("r2", readers[1]), ("admin", admin))}
    return {"author": author, "story": story, "chapter": chapter, "readers": readers, "h": h}


def comment(client, chapter_id, headers, body="Nice.", parent_id=None):
    r = client.post(f"/chapters/{chapter_id}/comments", json={"body": body, "parent_id": parent_id},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_threads_are_one_level_deep(client, world):
    ch, h = world["chapter"].id, world["h"]
    top = comment(client, ch, h["r1"], "Top")
    reply = comment(client, ch, h["r2"], "Reply", parent_id=top["id"])
    assert reply["parent_id"] == top["id"]
    deeper = client.post(f"/chapters/{ch}/comments", json={"body": "x", "parent_id": reply["id"]},
                         headers=h["r1"])
    assert deeper.status_code == 422 and deeper.json()["error"]["code"] == "COMMENT_DEPTH_EXCEEDED"
    missing = client.post(f"/chapters/{ch}/comments", json={"body": "x", "parent_id": "nope"},
                          headers=h["r1"])
    assert missing.status_code == 404
    assert client.post(f"/chapters/{ch}/comments", json={"body": ""}, headers=h["r1"]).status_code == 422
    listed = client.get(f"/chapters/{ch}/comments").json()["items"]
    assert [c["body"] for c in listed] == ["Top"] and [r["body"] for r in listed[0]["replies"]] == ["Reply"]


def test_edit_delete_and_placeholder_for_deleted_parents(client, world):
    ch, h = world["chapter"].id, world["h"]
    top = comment(client, ch, h["r1"], "Original")
    comment(client, ch, h["r2"], "Answer", parent_id=top["id"])
    lonely = comment(client, ch, h["r2"], "Alone")
    edited = client.put(f"/comments/{top['id']}", json={"body": "Edited"}, headers=h["r1"])
    assert edited.status_code == 200 and edited.json()["body"] == "Edited" and edited.json()["edited_at"]
    assert client.put(f"/comments/{top['id']}", json={"body": "Hijack"}, headers=h["r2"]).status_code == 403
    assert client.delete(f"/comments/{top['id']}", headers=h["r2"]).status_code == 403
    assert client.delete(f"/comments/{top['id']}", headers=h["r1"]).status_code == 204
    assert client.delete(f"/comments/{lonely['id']}", headers=h["author"]).status_code == 204  # story author
    listed = client.get(f"/chapters/{ch}/comments").json()["items"]
    assert len(listed) == 1
    assert listed[0]["deleted"] is True and listed[0]["body"] is None and listed[0]["author"] is None
    assert [r["body"] for r in listed[0]["replies"]] == ["Answer"]
    assert client.put(f"/comments/{top['id']}", json={"body": "again"}, headers=h["r1"]).status_code == 404


def test_pinned_first_and_pagination(client, world):
    ch, h = world["chapter"].id, world["h"]
    made = [comment(client, ch, h["r1"], f"c{n}") for n in range(5)]
    pinned = client.post(f"/comments/{made[1]['id']}/pin", headers=h["author"])
    assert pinned.status_code == 200 and pinned.json()["is_pinned"] is True
    reply = comment(client, ch, h["r2"], "re", parent_id=made[0]["id"])
    assert client.post(f"/comments/{reply['id']}/pin", headers=h["author"]).status_code == 409
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/chapters/{ch}/comments", params=params).json()
        seen += [c["body"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["c1", "c4", "c3", "c2", "c0"]
    assert client.delete(f"/comments/{made[1]['id']}/pin", headers=h["author"]).json()["is_pinned"] is False


def test_blocking_hides_comments_and_refuses_follow_and_comment(client, world):
    ch, h = world["chapter"].id, world["h"]
    author, r1 = world["author"], world["readers"][0]
    writer2_headers = h["author"]
    top = comment(client, ch, h["r1"], "Pest comment")
    comment(client, ch, h["r2"], "Kind comment")
    assert client.put(f"/users/{author.id}/follow", headers=h["r1"]).status_code == 204
    assert client.put(f"/users/{r1.id}/block", headers=writer2_headers).status_code == 204

    bodies = [c["body"] for c in client.get(f"/chapters/{ch}/comments", headers=h["author"]).json()["items"]]
    assert bodies == ["Kind comment"]
    assert len(client.get(f"/chapters/{ch}/comments").json()["items"]) == 2  # others still see it
    refused = client.post(f"/chapters/{ch}/comments", json={"body": "hey"}, headers=h["r1"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "BLOCKED"
    assert client.put(f"/users/{author.id}/follow", headers=h["r1"]).json()["error"]["code"] == "BLOCKED"
    assert client.get("/me/following", headers=h["r1"]).json()["items"] == []  # the block removed the follow
    assert [u["id"] for u in client.get("/me/blocks", headers=h["author"]).json()["items"]] == [r1.id]
    author_top = comment(client, ch, h["author"], "Author note")
    reply = client.post(f"/chapters/{ch}/comments", json={"body": "x", "parent_id": author_top["id"]},
                        headers=h["r1"])
    assert reply.status_code == 403
    assert client.delete(f"/users/{r1.id}/block", headers=h["author"]).status_code == 204
    visible = client.get(f"/chapters/{ch}/comments", headers=h["author"]).json()["items"]
    assert top["id"] in [c["id"] for c in visible]
    assert client.put(f"/users/{author.id}/follow", headers=h["r1"]).status_code == 204


def test_follow_lists(client, world):
    h, author = world["h"], world["author"]
    for name in ("r1", "r2"):
        assert client.put(f"/users/{author.id}/follow", headers=h[name]).status_code == 204
    client.put(f"/users/{author.id}/follow", headers=h["r1"])  # twice is fine
    followers = client.get("/me/followers", headers=h["author"]).json()["items"]
    assert {u["id"] for u in followers} == {r.id for r in world["readers"]}
    assert client.delete(f"/users/{author.id}/follow", headers=h["r2"]).status_code == 204
    assert len(client.get("/me/followers", headers=h["author"]).json()["items"]) == 1
    assert client.put("/users/no-such-user/follow", headers=h["r1"]).status_code == 404


def test_reports_queue_and_resolution(client, session, container, world):
    ch, h = world["chapter"].id, world["h"]
    bad = comment(client, ch, h["r2"], "Buy cheap coins at spam.example")
    first = client.post("/reports", json={"target_type": "comment", "target_id": bad["id"], "reason": "spam"},
                        headers=h["r1"])
    assert first.status_code == 201 and first.json()["status"] == "open"
    dup = client.post("/reports", json={"target_type": "comment", "target_id": bad["id"], "reason": "spam"},
                      headers=h["r1"])
    assert dup.status_code == 200 and dup.json()["id"] == first.json()["id"]
    other = make_user(session, container, role="reader")
    client.post("/reports", json={"target_type": "comment", "target_id": bad["id"], "reason": "other",
                                  "details": "scam"}, headers=auth_headers(container, other))
    user_report = client.post("/reports", json={"target_type": "user", "target_id": world["readers"][1].id,
                                                "reason": "harassment"}, headers=h["r1"])
    assert user_report.status_code == 201
    assert client.post("/reports", json={"target_type": "story", "target_id": "nope", "reason": "spam"},
                       headers=h["r1"]).status_code == 404
    assert client.post("/reports", json={"target_type": "thing", "target_id": "x", "reason": "spam"},
                       headers=h["r1"]).status_code == 422

    queue = client.get("/admin/reports", headers=h["admin"]).json()["items"]
    assert [r["target_type"] for r in queue] == ["comment", "comment", "user"]
    bad_remove = client.post(f"/admin/reports/{user_report.json()['id']}/resolve",
                             json={"status": "actioned", "remove_content": True}, headers=h["admin"])
    assert bad_remove.status_code == 400
    resolved = client.post(f"/admin/reports/{first.json()['id']}/resolve",
                           json={"status": "actioned", "note": "spam link", "remove_content": True},
                           headers=h["admin"])
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["closed"] == 2 and resolved.json()["report"]["status"] == "actioned"
    again = client.post(f"/admin/reports/{first.json()['id']}/resolve", json={"status": "dismissed"},
                        headers=h["admin"])
    assert again.status_code == 409
    open_now = client.get("/admin/reports", headers=h["admin"]).json()["items"]
    assert [r["target_type"] for r in open_now] == ["user"]
    actioned = client.get("/admin/reports", params={"status": "actioned"}, headers=h["admin"]).json()
    assert len(actioned["items"]) == 2
    removed = client.get(f"/chapters/{ch}/comments").json()["items"]
    assert removed == []  # a removed comment without replies leaves no trace in the thread
