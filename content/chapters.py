"""Chapters: numbering, creation, edits, versions.

Numbering is per story, 1, 2, 3… in creation order; the story row is locked while the next number is
taken so two concurrent creates cannot collide. The text itself is sealed and opened by
:mod:`content.texts`.

Editing a draft replaces its text. Editing the text of a *published* chapter registers the new text
first and records it as a new version (see :mod:`content.publishing`); if the registry refuses it,
nothing changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from content.access import can_edit_story
from content.crypto import ContentCipher
from content.errors import Forbidden, NotFound
from content.models.stories import Chapter, ChapterStatus, ChapterVersion, Story
from content.publishing import register_new_text
from content.texts import replace_text, seal_text
from registry.db import new_id

if TYPE_CHECKING:
    from registry.service import Registry


def next_number(session: Session, story_id: str) -> int:
    return 1 + (session.scalar(select(func.max(Chapter.number)).where(Chapter.story_id == story_id)) or 0)


def create_chapter(
    session: Session, cipher: ContentCipher, story: Story, *, title: str, content: str, price_coins: int = 0,
) -> Chapter:
    """A new draft chapter at the end of the story. The caller holds the story row lock."""
    chapter = Chapter(
        id=new_id(), story_id=story.id, number=next_number(session, story.id), title=title,
        price_coins=price_coins, status=ChapterStatus.draft, revision=1,
    )
    seal_text(cipher, chapter, content)
    session.add(chapter)
    session.flush()
    return chapter


def update_chapter(
    session: Session, cipher: ContentCipher, chapter: Chapter, story: Story, *, actor: User,
    registry: Registry | None, title: str | None = None, content: str | None = None,
    price_coins: int | None = None,
) -> Chapter:
    """Apply an edit. New text on a published chapter goes through the registry (``registry`` is then
    required) and becomes a new version; unchanged text (same canonical SHA-256) makes no version."""
    if title is not None:
        chapter.title = title
    if price_coins is not None:
        chapter.price_coins = price_coins
    if content is not None:
        if chapter.status == ChapterStatus.published:
            if registry is None:
                raise RuntimeError("editing published text needs the registry")
            register_new_text(session, cipher, registry, chapter, story, content, actor=actor)
        else:
            replace_text(cipher, chapter, content)
    chapter.updated_at = datetime.now(UTC)
    session.flush()
    return chapter


def list_chapters(session: Session, story: Story, *, include_unpublished: bool) -> list[Chapter]:
    q = select(Chapter).where(Chapter.story_id == story.id)
    if not include_unpublished:
        q = q.where(Chapter.status == ChapterStatus.published)
    return list(session.scalars(q.order_by(Chapter.number)))


def list_versions(session: Session, chapter: Chapter) -> list[ChapterVersion]:
    return list(session.scalars(
        select(ChapterVersion).where(ChapterVersion.chapter_id == chapter.id).order_by(ChapterVersion.version)
    ))


def get_version(session: Session, chapter: Chapter, version: int) -> ChapterVersion | None:
    return session.scalars(
        select(ChapterVersion)
        .where(ChapterVersion.chapter_id == chapter.id, ChapterVersion.version == version)
    ).first()


def earlier_version(
    session: Session, chapter: Chapter, story: Story, user: User, version: int
) -> ChapterVersion:
    """One registered text of the chapter, for the story's editors only: readers see the current text."""
    if not can_edit_story(user, story):
        raise Forbidden("Earlier versions are visible to the author only.",
                        details={"chapter_id": chapter.id})
    row = get_version(session, chapter, version)
    if row is None:
        raise NotFound("No such version.", details={"chapter_id": chapter.id, "version": version})
    return row
