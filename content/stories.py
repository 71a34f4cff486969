"""Stories: creation, metadata edits, status transitions, the filtered list and per-story figures.

Status rules: a story starts as ``draft`` (visible only to its author and admins). Leaving ``draft`` for
``ongoing``, ``completed`` or ``hiatus`` publishes it (``published_at`` is set once); moving between
those three is free. Going back to ``draft`` is refused once a chapter is published, because readers
may have paid for chapters that would then vanish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from accounts.models import Role, User
from content.errors import InvalidStateTransition
from content.models.community import Rating
from content.models.stories import Chapter, ChapterStatus, ContentRating, Story, StoryStatus, StoryTag
from content.pagination import Page, keyset_page

EDITABLE_FIELDS = (
    "title", "description", "genre", "language", "cover_image_url", "content_rating", "in_subscription",
)


@dataclass(frozen=True)
class StoryStats:
    chapter_count: int = 0
    rating_average: float | None = None
    rating_count: int = 0


def normalize_tags(tags: list[str]) -> list[str]:
    """Lower-case, trimmed, inner whitespace collapsed, duplicates dropped, the author's order kept."""
    seen: dict[str, None] = {}
    for tag in tags:
        clean = " ".join(tag.split()).lower()
        if clean:
            seen.setdefault(clean, None)
    return list(seen)


def _set_tags(story: Story, tags: list[str]) -> None:
    wanted = normalize_tags(tags)
    existing = {t.tag: t for t in story.tag_rows}
    rows = []
    for position, tag in enumerate(wanted):
        row = existing.get(tag) or StoryTag(tag=tag)
        row.position = position
        rows.append(row)
    story.tag_rows = rows


def _coerce(fields: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS}
    if values.get("content_rating") is not None:
        values["content_rating"] = ContentRating(values["content_rating"])
    elif "content_rating" in values:
        del values["content_rating"]
    return values


def create_story(session: Session, author: User, fields: dict[str, Any]) -> Story:
    values = _coerce(fields)
    story = Story(author_id=author.id, **values)
    status = fields.get("status") or StoryStatus.draft
    session.add(story)
    _set_tags(story, fields.get("tags") or [])
    if status != StoryStatus.draft:
        set_status(session, story, StoryStatus(status))
    session.flush()
    return story


def update_story(session: Session, story: Story, changes: dict[str, Any]) -> Story:
    for name, value in _coerce(changes).items():
        setattr(story, name, value)
    if "tags" in changes:
        _set_tags(story, changes["tags"] or [])
    if changes.get("status") is not None:
        set_status(session, story, StoryStatus(changes["status"]))
    story.updated_at = datetime.now(UTC)
    session.flush()
    return story


def set_status(session: Session, story: Story, status: StoryStatus) -> None:
    if status == story.status:
        return
    if status == StoryStatus.draft and story.id is not None:
        published = session.scalar(
            select(func.count()).select_from(Chapter)
            .where(Chapter.story_id == story.id, Chapter.status == ChapterStatus.published)
        )
        if published:
            raise InvalidStateTransition(
                "A story with published chapters cannot go back to draft.",
                details={"from": story.status.value, "to": status.value, "published_chapters": published},
            )
    story.status = status
    if status != StoryStatus.draft and story.published_at is None:
        story.published_at = datetime.now(UTC)


def resolve_author(session: Session, author: str) -> str | None:
    """``?author=`` takes a user id or a username."""
    return session.scalar(select(User.id).where(or_(User.id == author, User.username == author)))


def list_stories(
    session: Session, viewer: User | None, *, author: str | None = None, genre: str | None = None,
    tag: str | None = None, language: str | None = None, status: StoryStatus | None = None,
    cursor: str | None = None, limit: int = 20,
) -> Page[Story]:
    """Newest first. Drafts, and stories with no published chapter yet (nothing to read), appear only
    to their author (all of them to admins)."""
    q = select(Story)
    readable = and_(Story.status != StoryStatus.draft, exists().where(
        Chapter.story_id == Story.id, Chapter.status == ChapterStatus.published))
    if viewer is None:
        q = q.where(readable)
    elif viewer.role != Role.admin:
        q = q.where(or_(readable, Story.author_id == viewer.id))
    if author is not None:
        author_id = resolve_author(session, author)
        if author_id is None:
            return Page([], None)
        q = q.where(Story.author_id == author_id)
    if genre:
        q = q.where(func.lower(Story.genre) == genre.lower())
    if language:
        q = q.where(func.lower(Story.language) == language.lower())
    if status is not None:
        q = q.where(Story.status == status)
    if tag:
        wanted = normalize_tags([tag])
        q = q.where(Story.id.in_(select(StoryTag.story_id).where(StoryTag.tag.in_(wanted))))
    return keyset_page(session, q, time_col=Story.created_at, id_col=Story.id, cursor=cursor, limit=limit,
                       key=lambda s: (s.created_at, s.id))


def stats_for(session: Session, story_ids: list[str]) -> dict[str, StoryStats]:
    """Published chapter counts and rating figures for a page of stories, in two grouped queries."""
    if not story_ids:
        return {}
    chapters: dict[str, int] = {
        sid: n for sid, n in session.execute(
            select(Chapter.story_id, func.count()).where(
                Chapter.story_id.in_(story_ids), Chapter.status == ChapterStatus.published
            ).group_by(Chapter.story_id)
        )
    }
    ratings = {
        sid: (float(avg), int(n)) for sid, avg, n in session.execute(
            select(Rating.story_id, func.avg(Rating.stars), func.count())
            .where(Rating.story_id.in_(story_ids)).group_by(Rating.story_id)
        )
    }
    out = {}
    for sid in story_ids:
        avg, n = ratings.get(sid, (None, 0))
        out[sid] = StoryStats(chapters.get(sid, 0), round(avg, 2) if avg is not None else None, n)
    return out


def authors_for(session: Session, stories: list[Story]) -> dict[str, User]:
    ids = {s.author_id for s in stories}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
