"""Narration tables: a story's narrator and each chapter's audio, which is also its job.

One ``chapter_audio`` row per chapter carries the job (status, attempts, lease, progress, cancel flag)
and, once done, the files. Keeping the job and its result in one row makes "a retry never duplicates"
a property of the schema: a chapter cannot have two audio jobs, and a worker claims one with a single
conditional UPDATE (``ai.speech.jobs``), which two workers on PostgreSQL cannot both win.

Staleness is not stored: the row records the chapter ``revision`` it spoke, and a chapter edit bumps the
revision, so ``content`` never has to know that audio exists.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = ["AudioStatus", "ChapterAudio", "StoryNarration"]


class AudioStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    ready = "ready"
    failed = "failed"
    cancelled = "cancelled"


class StoryNarration(Base):
    """The writer's narrator for a story: every chapter is spoken with it until it is changed."""

    __tablename__ = "story_narrations"

    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    engine: Mapped[str] = mapped_column(String(32))
    voice: Mapped[str] = mapped_column(String(64))
    rate: Mapped[float] = mapped_column(Float, default=1.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChapterAudio(Base):
    __tablename__ = "chapter_audio"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    chapter_id: Mapped[str] = mapped_column(
        ForeignKey("chapters.id", ondelete="CASCADE"), unique=True, index=True
    )
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[AudioStatus] = mapped_column(
        Enum(AudioStatus, native_enum=False, length=16), default=AudioStatus.queued, index=True
    )
    engine: Mapped[str] = mapped_column(String(32))
    voice: Mapped[str] = mapped_column(String(64))
    rate: Mapped[float] = mapped_column(Float, default=1.0)
    chapter_revision: Mapped[int] = mapped_column(Integer)  # the revision the job speaks (or spoke)
    # job
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]  # a retry waits until then
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None]
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1, sentences spoken
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)  # JSON {code, message}
    # result (of the last finished run; kept while a regeneration runs)
    spoken_revision: Mapped[int | None] = mapped_column(Integer)
    spoken_voice: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    sentences: Mapped[int | None] = mapped_column(Integer)
    loudness_lufs: Mapped[float | None] = mapped_column(Float)
    opus_key: Mapped[str | None] = mapped_column(String(200))
    opus_bytes: Mapped[int | None] = mapped_column(Integer)
    opus_sha256: Mapped[str | None] = mapped_column(String(64))
    mp3_key: Mapped[str | None] = mapped_column(String(200))
    mp3_bytes: Mapped[int | None] = mapped_column(Integer)
    mp3_sha256: Mapped[str | None] = mapped_column(String(64))
    sync_key: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
