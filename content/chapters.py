"""Chapters: numbering, sealed text, word counts and edits.

Numbering is per story, 1, 2, 3… in creation order; the story row is locked while the next number is
taken so two concurrent creates cannot collide. Reading time assumes 238 words per minute, the mean
silent reading rate for adults in English (Brysbaert, 2019, *Journal of Memory and Language* 109),
rounded up to whole minutes.

Editing a draft replaces its text. Editing the text of a *published* chapter registers the new text
first and records it as a new version (see :mod:`content.publishing`); if the registry refuses it,
nothing changes.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from content.crypto import ContentCipher, Sealed, chapter_aad, version_aad
from content.models.stories import Chapter, ChapterStatus, ChapterVersion, Story
from registry.db import new_id

if TYPE_CHECKING:
    from registry.service import Registry

WORDS_PER_MINUTE = 238
_WORD = re.compile(r"\w+(?:['’.-]\w+)*")


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def reading_minutes(word_count: int) -> int:
    return math.ceil(word_count / WORDS_PER_MINUTE) if word_count > 0 else 0


def next_number(session: Session, story_id: str) -> int:
    return 1 + (session.scalar(select(func.max(Chapter.number)).where(Chapter.story_id == story_id)) or 0)


def _seal_body(cipher: ContentCipher, chapter: Chapter, text: str) -> None:
    sealed = cipher.seal(text, chapter_aad(chapter.id, chapter.revision))
    chapter.key_id, chapter.body_enc = sealed.key_id, sealed.blob
    chapter.word_count = count_words(text)


def create_chapter(
    session: Session, cipher: ContentCipher, story: Story, *, title: str, content: str, price_coins: int = 0,
) -> Chapter:
    """A new draft chapter at the end of the story. The caller holds the story row lock."""
    chapter = Chapter(
        id=new_id(), story_id=story.id, number=next_number(session, story.id), title=title,
        price_coins=price_coins, status=ChapterStatus.draft, revision=1,
    )
    _seal_body(cipher, chapter, content)
    session.add(chapter)
    session.flush()
    return chapter


def chapter_text(cipher: ContentCipher, chapter: Chapter) -> str:
    return cipher.open(Sealed(chapter.key_id, chapter.body_enc), chapter_aad(chapter.id, chapter.revision))


def version_text(cipher: ContentCipher, version: ChapterVersion) -> str:
    sealed = Sealed(version.key_id, version.body_enc)
    return cipher.open(sealed, version_aad(version.chapter_id, version.version))


def replace_text(cipher: ContentCipher, chapter: Chapter, text: str) -> None:
    chapter.revision += 1
    _seal_body(cipher, chapter, text)


def update_chapter(
    session: Session, cipher: ContentCipher, chapter: Chapter, story: Story, *, actor: User,
    registry: Registry | None, title: str | None = None, content: str | None = None,
    price_coins: int | None = None,
) -> Chapter:
    """Apply an edit. New text on a published chapter goes through the registry (``registry`` is then
    required) and becomes a new version; unchanged text (same canonical SHA-256) makes no version."""
    from content import publishing

    if title is not None:
        chapter.title = title
    if price_coins is not None:
        chapter.price_coins = price_coins
    if content is not None:
        if chapter.status == ChapterStatus.published:
            if registry is None:
                raise RuntimeError("editing published text needs the registry")
            publishing.register_new_text(session, cipher, registry, chapter, story, content, actor=actor)
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
