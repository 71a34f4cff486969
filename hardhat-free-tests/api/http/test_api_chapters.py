"""Chapters: numbering, counts, locked reading and unlocks, drafts, scheduling, and publishing through the
registry (certificate, versions, plagiarism refusal, scheduled publishing by the worker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from factories import auth_headers, grant_coins, make_chapter, make_story, make_user

from content.access import can_read_chapter
from content.models.stories import Chapter, ChapterStatus, Story
from content.publishing import publish_due
from content.texts import WORDS_PER_MINUTE, count_words, reading_minutes

TEXT_A = (
    "The ferry left Harrow Point at dusk, and Ines counted the gulls that followed it out past the "
    "breakwater. "
    "Seventeen of them, always seventeen, as if the sea kept its own tally of the departed. "
    "Her grandmother had told her the gulls were sailors who had lost their names, circling the boats "
    "until someone called them home. Ines had never believed it, but tonight she found herself whispering "
    "names into the wind: Tomas, Aurelio, Benedikt, the names carved on the harbour wall. "
    "The gulls did not answer. The ferry's engine coughed twice and settled into its low, patient drone."
)
TEXT_B = (
    "Under the orchard the roots had grown into the cellar, pale fingers pushing between the stones, "
    "and every spring Marek cut them back with his grandfather's knife. This year the roots had found "
    "the old wine rack and wound around the bottles like a slow embrace, and he could not bring himself "
    "to cut them. He sat on the bottom step with his lamp and watched a root tip tremble toward the light."
)


@pytest.fixture
def author(session, container):
    return make_user(session, container, role="writer")


@pytest.fixture
def ah(container, author):
    return auth_headers(container, author)


@pytest.fixture
def registry(container):
    return container.registry


def new_story(client, headers, **fields):
    r = client.post("/stories", json={"title": "Harbour Songs", **fields}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def add_chapter(client, headers, story_id, content=TEXT_A, **fields):
    r = client.post(f"/stories/{story_id}/chapters", json={"title": "Dusk", "content": content, **fields},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_numbering_word_count_and_reading_time(client, ah):
    story = new_story(client, ah)
    chapters = [add_chapter(client, ah, story["id"], content=f"word {'x ' * n}") for n in (1, 300, 700)]
    assert [c["number"] for c in chapters] == [1, 2, 3]
    assert [c["word_count"] for c in chapters] == [2, 301, 701]
    assert [c["reading_minutes"] for c in chapters] == [1, 2, 3]
    assert chapters[0]["status"] == "draft" and chapters[0]["content"].startswith("word")
    assert count_words("Don't stop — it's 3.5 o'clock, well-known.") == 6
    assert reading_minutes(0) == 0 and reading_minutes(WORDS_PER_MINUTE) == 1
    assert reading_minutes(WORDS_PER_MINUTE + 1) == 2


def test_chapter_validation(client, ah):
    story = new_story(client, ah)
    for body in ({"title": "T"}, {"title": "", "content": "x"}, {"title": "T", "content": ""},
                 {"title": "T", "content": "x", "price_coins": -1},
                 {"title": "T", "content": "x", "extra": 1}):
        r = client.post(f"/stories/{story['id']}/chapters", json=body, headers=ah)
        assert r.status_code == 422, body


def test_locked_chapter_shows_metadata_until_unlocked(client, session, container, author):
    story = make_story(session, container, author)
    free = make_chapter(session, container, story, published=True, content="Free words here.")
    paid = make_chapter(session, container, story, published=True, price_coins=30, content="Paid words here.")
    reader = make_user(session, container, role="reader")
    rh = auth_headers(container, reader)

    anon = client.get(f"/stories/{story.id}/chapters/{paid.id}").json()
    assert anon["content"] is None and anon["locked"] is True and anon["price_coins"] == 30
    assert client.get(f"/stories/{story.id}/chapters/{free.id}").json()["content"] == "Free words here."
    listed = client.get(f"/stories/{story.id}/chapters", headers=rh).json()["items"]
    assert [(c["locked"], "content" in c) for c in listed] == [(False, False), (True, False)]
    assert client.put(f"/chapters/{paid.id}/progress", json={"percentage": 5}, headers=rh).status_code == 403

    broke = client.post(f"/chapters/{paid.id}/unlock", headers=rh)
    assert broke.status_code == 402 and broke.json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    grant_coins(session, reader.id, 100)
    r = client.post(f"/chapters/{paid.id}/unlock", headers=rh)
    assert r.status_code == 200, r.text
    assert r.json()["charged"] is True and r.json()["chapter"]["content"] == "Paid words here."
    again = client.post(f"/chapters/{paid.id}/unlock", headers=rh).json()
    assert again["charged"] is False
    body = client.get(f"/stories/{story.id}/chapters/{paid.id}", headers=rh).json()
    assert body["content"] == "Paid words here." and body["locked"] is False
    assert client.get("/payments/wallet", headers=rh).json()["coins"] == 70

    unlock_free = client.post(f"/chapters/{free.id}/unlock", headers=rh)
    assert unlock_free.status_code == 400


def test_can_read_chapter_rules(session, container, author):
    story = make_story(session, container, author)
    draft = make_chapter(session, container, story)
    free = make_chapter(session, container, story, published=True)
    paid = make_chapter(session, container, story, published=True, price_coins=10)
    reader = make_user(session, container, role="reader")
    admin = make_user(session, container, role="admin")
    grants = container.read_grants
    assert can_read_chapter(session, grants, None, free) and not can_read_chapter(session, grants, None, paid)
    assert not can_read_chapter(session, grants, reader, paid)
    assert not can_read_chapter(session, grants, reader, draft)
    for user in (author, admin):
        assert all(can_read_chapter(session, grants, user, c) for c in (draft, free, paid))
    grant_coins(session, reader.id, 10)
    container.unlocks.unlock(session, reader_id=reader.id, writer_id=author.id, chapter_id=paid.id,
                             price_coins=10)
    assert can_read_chapter(session, grants, reader, paid)


def test_draft_edit_replaces_text_without_versions(client, ah):
    story = new_story(client, ah)
    ch = add_chapter(client, ah, story["id"])
    r = client.put(f"/chapters/{ch['id']}", json={"content": "Second draft.", "price_coins": 5}, headers=ah)
    assert r.status_code == 200
    body = r.json()
    assert body["content"] == "Second draft." and body["price_coins"] == 5 and body["word_count"] == 2
    assert client.get(f"/chapters/{ch['id']}/versions", headers=ah).json() == {"items": []}
    got = client.get(f"/stories/{story['id']}/chapters/{ch['id']}", headers=ah).json()
    assert got["content"] == "Second draft."


def test_schedule_and_unschedule(client, ah):
    story = new_story(client, ah)
    ch = add_chapter(client, ah, story["id"])
    when = datetime.now(UTC) + timedelta(hours=3)
    r = client.post(f"/chapters/{ch['id']}/schedule", json={"publish_at": when.isoformat()}, headers=ah)
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    assert datetime.fromisoformat(r.json()["publish_at"].replace("Z", "+00:00")) == when
    for bad in ((datetime.now(UTC) - timedelta(minutes=1)).isoformat(), "2030-01-01T10:00:00", "tomorrow"):
        r = client.post(f"/chapters/{ch['id']}/schedule", json={"publish_at": bad}, headers=ah)
        assert r.status_code == 422, bad
    r = client.delete(f"/chapters/{ch['id']}/schedule", headers=ah)
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["publish_at"] is None
    again = client.delete(f"/chapters/{ch['id']}/schedule", headers=ah)
    assert again.status_code == 409 and again.json()["error"]["code"] == "INVALID_STATE_TRANSITION"


def test_worker_has_the_scheduled_chapters_job():
    from api.worker import Worker

    class Stub:
        session_factory = None

    assert "scheduled_chapters" in [name for name, _ in Worker(container=Stub()).jobs]  # type: ignore[arg-type]


# --- publishing through the registry -------------------------------------------------------------------
def test_publish_registers_and_links_a_verifiable_certificate(client, session, container, ah, registry):
    story = new_story(client, ah)
    ch = add_chapter(client, ah, story["id"])
    r = client.post(f"/chapters/{ch['id']}/publish", headers=ah)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published" and body["version"] == 1 and body["published_at"]
    assert body["certificate_id"] and body["registration_id"] and len(body["sha256"]) == 64
    assert client.get(f"/stories/{story['id']}").json()["status"] == "ongoing"  # draft story went live
    public = client.get(f"/stories/{story['id']}/chapters/{ch['id']}").json()
    assert public["certificate_id"] == body["certificate_id"] and public["content"] == TEXT_A
    state = registry.latest_certificate(session, body["certificate_id"])
    report = container.verify_certificate(state.body, text=TEXT_A, expected_cid=state.cid)
    assert report.certificate["work"]["chapter_id"] == ch["id"]
    statuses = {r.check: r.status for r in report.results}
    assert statuses["content_hash"] == statuses["signature"] == statuses["timestamp"] == "pass", statuses
    report.raise_for_failure()
    wrong = container.verify_certificate(state.body, text=TEXT_B, expected_cid=state.cid)
    assert wrong.first_failure.check == "content_hash"
    again = client.post(f"/chapters/{ch['id']}/publish", headers=ah).json()
    assert again["certificate_id"] == body["certificate_id"] and again["version"] == 1


def test_every_save_of_published_text_is_a_registered_version(client, ah, registry):
    story = new_story(client, ah)
    ch = add_chapter(client, ah, story["id"])
    first = client.post(f"/chapters/{ch['id']}/publish", headers=ah).json()
    edited = TEXT_A.replace("Seventeen of them", "Eighteen of them")
    second = client.put(f"/chapters/{ch['id']}", json={"content": edited}, headers=ah).json()
    assert second["version"] == 2 and second["certificate_id"] != first["certificate_id"]
    same = client.put(f"/chapters/{ch['id']}", json={"content": edited + "  \n", "title": "Dusk II"},
                      headers=ah)
    assert same.json()["version"] == 2 and same.json()["title"] == "Dusk II"
    versions = client.get(f"/chapters/{ch['id']}/versions").json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["sha256"] == first["sha256"] and versions[1]["sha256"] == second["sha256"]
    assert versions[0]["work_id"] == versions[1]["work_id"]  # the registry made it a new version of one work
    old = client.get(f"/chapters/{ch['id']}/versions/1", headers=ah).json()
    assert old["content"] == TEXT_A and old["certificate_id"] == first["certificate_id"]


def test_publishing_another_writers_text_is_refused_with_evidence(
    client, session, container, author, ah, registry
):
    story = new_story(client, ah)
    original = add_chapter(client, ah, story["id"])
    published = client.post(f"/chapters/{original['id']}/publish", headers=ah).json()

    thief = make_user(session, container, role="writer")
    th = auth_headers(container, thief)
    their_story = new_story(client, th, title="Totally Mine")
    copied = add_chapter(client, th, their_story["id"], content=TEXT_A)
    r = client.post(f"/chapters/{copied['id']}/publish", headers=th)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "PLAGIARISM_SUSPECTED"
    assert error["details"]["prior_registration"] == published["registration_id"]
    evidence = error["details"]["evidence"]
    assert evidence["certificate_id"] == published["certificate_id"] and evidence["author_id"] == author.id
    after = client.get(f"/stories/{their_story['id']}/chapters/{copied['id']}", headers=th).json()
    assert after["status"] == "draft" and after["certificate_id"] is None
    assert client.get(f"/stories/{their_story['id']}", headers=th).json()["status"] == "draft"

    own = add_chapter(client, th, their_story["id"], content=TEXT_B)
    assert client.post(f"/chapters/{own['id']}/publish", headers=th).status_code == 200
    swap = client.put(f"/chapters/{own['id']}", json={"content": TEXT_A}, headers=th)
    assert swap.status_code == 409 and swap.json()["error"]["code"] == "PLAGIARISM_SUSPECTED"
    kept = client.get(f"/stories/{their_story['id']}/chapters/{own['id']}", headers=th).json()
    assert kept["content"] == TEXT_B and kept["version"] == 1


def test_publish_due_publishes_on_time_and_records_refusals(client, session, container, author, registry):
    story = make_story(session, container, author)
    on_time = make_chapter(session, container, story, content=TEXT_B)
    later = make_chapter(session, container, story, content=TEXT_B + " And later.")
    thief = make_user(session, container, role="writer")
    their_story = make_story(session, container, thief)
    copy = make_chapter(session, container, their_story, content=TEXT_A)
    original_story = make_story(session, container, make_user(session, container, role="writer"))
    original = make_chapter(session, container, original_story, content=TEXT_A)
    now = datetime.now(UTC)
    from content.publishing import publish

    publish(session, container.content_cipher, registry, original, original_story)
    for ch, at in ((on_time, now - timedelta(minutes=1)), (later, now + timedelta(hours=1)),
                   (copy, now - timedelta(minutes=2))):
        ch.status, ch.publish_at = ChapterStatus.scheduled, at
    session.commit()

    report = publish_due(session, now, registry=registry, cipher=container.content_cipher)
    session.commit()
    assert report.published == [on_time.id] and report.failed == [copy.id]
    assert session.get(Chapter, on_time.id).status == ChapterStatus.published
    assert session.get(Chapter, on_time.id).certificate_id
    assert session.get(Chapter, later.id).status == ChapterStatus.scheduled
    failed = session.get(Chapter, copy.id)
    assert failed.status == ChapterStatus.publish_failed
    assert json.loads(failed.publish_error)["code"] == "PLAGIARISM_SUSPECTED"
    assert session.get(Story, their_story.id).status.value == "ongoing"
    again = publish_due(session, now + timedelta(hours=2), registry=registry, cipher=container.content_cipher)
    assert again.published == [later.id] and again.failed == []  # the refused one is not retried
    th = auth_headers(container, thief)
    shown = client.get(f"/stories/{their_story.id}/chapters/{copy.id}", headers=th)
    assert shown.json()["status"] == "publish_failed"
    assert shown.json()["publish_error"]["code"] == "PLAGIARISM_SUSPECTED"
