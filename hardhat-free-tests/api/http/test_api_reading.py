"""Reading progress and the engagement figures for the subscription pool; library, bookmarks, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from factories import auth_headers, make_chapter, make_story, make_user

from content.reading import (
    MAX_DAILY_SECONDS_PER_CHAPTER,
    reading_seconds_by_subscriber_and_writer,
    record_progress,
)


def test_progress_keeps_max_percentage_and_adds_seconds(client, session, container):
    writer = make_user(session, container)
    story = make_story(session, container, writer)
    ch = make_chapter(session, container, story, published=True)
    reader = make_user(session, container, role="reader")
    rh = auth_headers(container, reader)
    for pct, secs in ((30, 60), (80, 120), (50, 30)):
        r = client.put(f"/chapters/{ch.id}/progress", json={"percentage": pct, "seconds": secs}, headers=rh)
        assert r.status_code == 200
    assert r.json()["percentage"] == 80 and r.json()["seconds"] == 210
    for bad in ({"percentage": 101}, {"percentage": -1}, {"percentage": 5, "seconds": 3601}, {"seconds": 5}):
        assert client.put(f"/chapters/{ch.id}/progress", json=bad, headers=rh).status_code == 422
    history = client.get("/me/history", headers=rh).json()["items"]
    assert history[0]["chapter_id"] == ch.id and history[0]["story_title"] == story.title
    assert history[0]["percentage"] == 80


def test_engagement_by_reader_and_writer_per_day(session, container):
    w1, w2 = make_user(session, container), make_user(session, container)
    s1, s2 = make_story(session, container, w1), make_story(session, container, w2)
    c1 = make_chapter(session, container, s1, published=True)
    c1b = make_chapter(session, container, s1, published=True)
    c2 = make_chapter(session, container, s2, published=True)
    r1, r2 = make_user(session, container, role="reader"), make_user(session, container, role="reader")
    jan31 = datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
    feb1 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    record_progress(session, r1, c1, s1, percentage=10, seconds=100, now=jan31)
    record_progress(session, r1, c1, s1, percentage=20, seconds=300, now=feb1)
    record_progress(session, r1, c1b, s1, percentage=20, seconds=50, now=feb1)
    record_progress(session, r1, c2, s2, percentage=20, seconds=70, now=feb1 + timedelta(days=27))
    record_progress(session, r2, c2, s2, percentage=5, seconds=40, now=feb1)
    record_progress(session, w1, c1, s1, percentage=5, seconds=999, now=feb1)  # the writer's own reading
    session.commit()
    february = reading_seconds_by_subscriber_and_writer(session, date(2026, 2, 1), date(2026, 3, 1))
    assert february == {r1.id: {w1.id: 350, w2.id: 70}, r2.id: {w2.id: 40}}
    january = reading_seconds_by_subscriber_and_writer(session, datetime(2026, 1, 1, tzinfo=UTC),
                                                       datetime(2026, 2, 1, tzinfo=UTC))
    assert january == {r1.id: {w1.id: 100}}

    from api.cli.money import reading_engagement  # what the subscription pool run reads

    pool_view = reading_engagement(session, month="2026-02", subscriber_ids=[r2.id, "nobody"])
    assert pool_view == {r2.id: {w2.id: 40}}


def test_daily_seconds_per_chapter_are_capped(session, container):
    writer = make_user(session, container)
    story = make_story(session, container, writer)
    ch = make_chapter(session, container, story, published=True)
    reader = make_user(session, container, role="reader")
    day = datetime(2026, 3, 3, 8, tzinfo=UTC)
    for _ in range(6):
        record_progress(session, reader, ch, story, percentage=50, seconds=3600, now=day)
    totals = reading_seconds_by_subscriber_and_writer(session, date(2026, 3, 1), date(2026, 4, 1))
    assert totals == {reader.id: {writer.id: MAX_DAILY_SECONDS_PER_CHAPTER}}


def test_library_and_bookmarks(client, session, container):
    writer = make_user(session, container)
    stories = [make_story(session, container, writer, title=f"Book {n}") for n in range(3)]
    ch = make_chapter(session, container, stories[0], published=True, title="Opening")
    reader = make_user(session, container, role="reader")
    rh = auth_headers(container, reader)
    for s in stories:
        assert client.put(f"/me/library/{s.id}", headers=rh).status_code == 200
    assert client.put(f"/me/library/{stories[0].id}", headers=rh).status_code == 200  # idempotent
    first = client.get("/me/library", params={"limit": 2}, headers=rh).json()
    rest = client.get("/me/library", params={"limit": 2, "cursor": first["next_cursor"]}, headers=rh).json()
    titles = [i["story"]["title"] for i in first["items"] + rest["items"]]
    assert sorted(titles) == ["Book 0", "Book 1", "Book 2"] and rest["next_cursor"] is None
    assert client.delete(f"/me/library/{stories[1].id}", headers=rh).status_code == 204
    assert len(client.get("/me/library", headers=rh).json()["items"]) == 2

    mark = client.put(f"/chapters/{ch.id}/bookmark", json={"position": 42.5, "note": "the twist"}, headers=rh)
    assert mark.status_code == 200 and mark.json()["chapter_title"] == "Opening"
    client.put(f"/chapters/{ch.id}/bookmark", json={"position": 60}, headers=rh)
    marks = client.get("/me/bookmarks", headers=rh).json()["items"]
    assert len(marks) == 1 and marks[0]["position"] == 60 and marks[0]["note"] is None
    assert client.delete(f"/chapters/{ch.id}/bookmark", headers=rh).status_code == 204
    assert client.get("/me/bookmarks", headers=rh).json()["items"] == []


def test_history_is_most_recent_first_with_pages(client, session, container):
    writer = make_user(session, container)
    story = make_story(session, container, writer)
    chapters = [make_chapter(session, container, story, published=True) for _ in range(3)]
    reader = make_user(session, container, role="reader")
    base = datetime.now(UTC) - timedelta(hours=3)
    for n, ch in enumerate(chapters):
        record_progress(session, reader, ch, story, percentage=10, seconds=5, now=base + timedelta(minutes=n))
    session.commit()
    rh = auth_headers(container, reader)
    page = client.get("/me/history", params={"limit": 2}, headers=rh).json()
    nxt = client.get("/me/history", params={"limit": 2, "cursor": page["next_cursor"]}, headers=rh).json()
    order = [i["chapter_id"] for i in page["items"] + nxt["items"]]
    assert order == [c.id for c in reversed(chapters)]
