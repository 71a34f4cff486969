"""Stories, their tags, chapters and the versions of published chapter text.

Chapter text never sits in a column in the clear: ``body_enc`` holds ``nonce || AES-256-GCM ciphertext``
under the key named by ``key_id`` (see :mod:`content.crypto`). Titles, descriptions and tags are
public metadata and stay searchable.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from registry.db import Base, new_id, utcnow

__all__ = ["Chapter", "ChapterStatus", "ChapterVersion", "ContentRating", "Story", "StoryStatus", "StoryTag"]


class StoryStatus(enum.StrEnum):
    draft = "draft"
    ongoing = "ongoing"
    completed = "completed"
    hiatus = "hiatus"


class ContentRating(enum.StrEnum):
    everyone = "everyone"
    teen = "teen"
    mature = "mature"


class ChapterStatus(enum.StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    published = "published"
    # A scheduled publish the registry refused (plagiarism, unusable text): the worker stops trying.
    publish_failed = "publish_failed"


class Story(Base):
    __tablename__ = "stories"
    __table_args__ = (
        Index("ix_stories_status_created", "status", "created_at", "id"),
        Index("ix_stories_author_created", "author_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    genre: Mapped[str | None] = mapped_column(String(50), index=True)
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    cover_image_url: Mapped[str | None] = mapped_column(String(2048))
    content_rating: Mapped[ContentRating] = mapped_column(
        Enum(ContentRating, native_enum=False, length=16), default=ContentRating.everyone
    )
    status: Mapped[StoryStatus] = mapped_column(
        Enum(StoryStatus, native_enum=False, length=16), default=StoryStatus.draft
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    # In the subscription catalog: active subscribers read its paid chapters (its writer may opt out).
    in_subscription: Mapped[bool] = mapped_column(default=True, server_default=true())

    tag_rows: Mapped[list[StoryTag]] = relationship(
        order_by="StoryTag.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]


class StoryTag(Base):
    """A tag in its own row so ``?tag=`` is an indexed lookup; ``position`` keeps the author's order."""

    __tablename__ = "story_tags"

    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Chapter(Base):
    __tablename__ = "chapters"
    __table_args__ = (
        UniqueConstraint("story_id", "number", name="uq_chapters_story_number"),
        Index("ix_chapters_status_publish_at", "status", "publish_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[ChapterStatus] = mapped_column(
        Enum(ChapterStatus, native_enum=False, length=16), default=ChapterStatus.draft
    )
    price_coins: Mapped[int] = mapped_column(Integer, default=0)
    word_count: Mapped[int] = mapped_column(Integer, default=0)

    key_id: Mapped[str] = mapped_column(String(40), index=True)
    body_enc: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    # Bumped on every save and bound into the ciphertext's AAD, so an older ciphertext of this same
    # chapter cannot be put back in place of the current one.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    publish_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    publish_error: Mapped[str | None] = mapped_column(Text)  # JSON {code, message, details}
    publish_attempts: Mapped[int] = mapped_column(Integer, default=0)

    current_version: Mapped[int | None] = mapped_column(Integer)
    registration_id: Mapped[str | None] = mapped_column(String(36))
    certificate_id: Mapped[str | None] = mapped_column(String(36), index=True)
    sha256: Mapped[str | None] = mapped_column(String(64))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChapterVersion(Base):
    """One registered text of a published chapter; the registry's certificate covers exactly it."""

    __tablename__ = "chapter_versions"
    __table_args__ = (UniqueConstraint("chapter_id", "version", name="uq_chapter_versions_chapter_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    word_count: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(40), index=True)
    body_enc: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[str] = mapped_column(String(36))
    certificate_id: Mapped[str] = mapped_column(String(36))
    work_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
