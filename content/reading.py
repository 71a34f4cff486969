"""Reading progress, the engagement figures the subscription pool is paid from, library, bookmarks, history.

Progress keeps the furthest percentage reached and accumulates seconds. Every accepted second also
lands in the reader's :class:`ReadingDay` row for that chapter and UTC day, capped at
``MAX_DAILY_SECONDS_PER_CHAPTER`` so one chapter left open all day cannot drain the pool. Writers
reading their own chapters are not counted: the pool pays readers' attention, not self-reading.

Increments are SQL expressions (``seconds = seconds + n``), so concurrent updates from two devices add
up instead of overwriting each other.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from content.models.reading import Bookmark, LibraryEntry, ReadingDay, ReadingProgress
from content.models.stories import Chapter, Story
from content.pagination import Page, keyset_page

MAX_SECONDS_PER_UPDATE = 3600
MAX_DAILY_SECONDS_PER_CHAPTER = 4 * 3600

M = TypeVar("M", ReadingProgress, ReadingDay, Bookmark)


def _get_or_create(session: Session, model: type[M], lookup: dict[str, Any], defaults: dict[str, Any]) -> M:
    row = session.scalars(select(model).filter_by(**lookup)).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**lookup, **defaults)
            session.add(row)
            session.flush()
        return row
    except IntegrityError:
        return session.scalars(select(model).filter_by(**lookup)).one()


def record_progress(
    session: Session, reader: User, chapter: Chapter, story: Story, *, percentage: float, seconds: int,
    now: datetime | None = None,
) -> ReadingProgress:
    now = now or datetime.now(UTC)
    progress = _get_or_create(
        session, ReadingProgress, {"reader_id": reader.id, "chapter_id": chapter.id},
        {"story_id": story.id, "percentage": 0.0, "seconds": 0, "first_read_at": now, "last_read_at": now},
    )
    progress.percentage = case(  # type: ignore[assignment]
        (ReadingProgress.percentage < percentage, percentage), else_=ReadingProgress.percentage
    )
    progress.seconds = ReadingProgress.seconds + seconds  # type: ignore[assignment]
    progress.last_read_at = now
    if seconds > 0 and reader.id != story.author_id:
        day = _get_or_create(
            session, ReadingDay, {"reader_id": reader.id, "chapter_id": chapter.id, "day": now.date()},
            {"writer_id": story.author_id, "story_id": story.id, "seconds": 0},
        )
        added = ReadingDay.seconds + seconds
        day.seconds = case(  # type: ignore[assignment]
            (added > MAX_DAILY_SECONDS_PER_CHAPTER, MAX_DAILY_SECONDS_PER_CHAPTER), else_=added
        )
    session.flush()
    session.refresh(progress)
    return progress


def _day(value: date | datetime) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def reading_seconds_by_subscriber_and_writer(
    session: Session, start: date | datetime, end: date | datetime
) -> dict[str, dict[str, int]]:
    """Seconds each reader spent on each writer's chapters over the UTC days ``[start, end)``.

    The subscription pool filters the readers down to its subscribers and splits each one's share by
    these seconds. A datetime counts by its UTC day: pass the first day of a month and the first day of
    the next to sum that month.
    """
    rows = session.execute(
        select(ReadingDay.reader_id, ReadingDay.writer_id, func.sum(ReadingDay.seconds))
        .where(ReadingDay.day >= _day(start), ReadingDay.day < _day(end))
        .group_by(ReadingDay.reader_id, ReadingDay.writer_id)
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for reader_id, writer_id, seconds in rows:
        if seconds:
            out[reader_id][writer_id] = int(seconds)
    return dict(out)


def history(
    session: Session, reader: User, *, cursor: str | None, limit: int
) -> Page[tuple[ReadingProgress, Chapter, Story]]:
    q = (
        select(ReadingProgress, Chapter, Story)
        .join(Chapter, Chapter.id == ReadingProgress.chapter_id)
        .join(Story, Story.id == ReadingProgress.story_id)
        .where(ReadingProgress.reader_id == reader.id)
    )
    return keyset_page(session, q, time_col=ReadingProgress.last_read_at, id_col=ReadingProgress.id,
                       cursor=cursor, limit=limit, key=lambda r: (r[0].last_read_at, r[0].id))


# --- library -------------------------------------------------------------------------------------
def add_to_library(session: Session, user: User, story: Story) -> LibraryEntry:
    entry = session.get(LibraryEntry, (user.id, story.id))
    if entry is None:
        try:
            with session.begin_nested():
                entry = LibraryEntry(user_id=user.id, story_id=story.id)
                session.add(entry)
                session.flush()
        except IntegrityError:
            entry = session.get(LibraryEntry, (user.id, story.id))
    assert entry is not None
    return entry


def remove_from_library(session: Session, user: User, story_id: str) -> bool:
    entry = session.get(LibraryEntry, (user.id, story_id))
    if entry is None:
        return False
    session.delete(entry)
    session.flush()
    return True


def library(
    session: Session, user: User, *, cursor: str | None, limit: int
) -> Page[tuple[LibraryEntry, Story]]:
    """The user's saved stories, newest first; a story that went back to draft is left out."""
    q = (
        select(LibraryEntry, Story).join(Story, Story.id == LibraryEntry.story_id)
        .where(LibraryEntry.user_id == user.id)
        .where(or_(Story.status != "draft", Story.author_id == user.id))
    )
    return keyset_page(session, q, time_col=LibraryEntry.added_at, id_col=LibraryEntry.story_id,
                       cursor=cursor, limit=limit, key=lambda r: (r[0].added_at, r[0].story_id))


# --- bookmarks -----------------------------------------------------------------------------------
def set_bookmark(
    session: Session, user: User, chapter: Chapter, *, position: float | None, note: str | None
) -> Bookmark:
    mark = _get_or_create(session, Bookmark, {"user_id": user.id, "chapter_id": chapter.id},
                          {"story_id": chapter.story_id})
    mark.position, mark.note = position, note
    mark.updated_at = datetime.now(UTC)
    session.flush()
    return mark


def remove_bookmark(session: Session, user: User, chapter_id: str) -> bool:
    mark = session.scalars(select(Bookmark).filter_by(user_id=user.id, chapter_id=chapter_id)).first()
    if mark is None:
        return False
    session.delete(mark)
    session.flush()
    return True


def bookmarks(
    session: Session, user: User, *, cursor: str | None, limit: int
) -> Page[tuple[Bookmark, Chapter, Story]]:
    q = (
        select(Bookmark, Chapter, Story).join(Chapter, Chapter.id == Bookmark.chapter_id)
        .join(Story, Story.id == Bookmark.story_id).where(Bookmark.user_id == user.id)
    )
    return keyset_page(session, q, time_col=Bookmark.created_at, id_col=Bookmark.id, cursor=cursor,
                       limit=limit, key=lambda r: (r[0].created_at, r[0].id))
