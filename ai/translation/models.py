"""Tables of ``ai.translation``: translations, their jobs, and each story's glossary.

A translation's text is sealed like chapter text (``body_enc`` under the content keyring, associated
data binding it to the translation and its revision), since it is the chapter in another language and
a paid chapter's translation is as private as the chapter. ``segments`` holds per paragraph only
whether a person reviewed it and the SHA-256 of the source paragraph it translates (no text), which is
how a new version of the original shows what changed.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = ["JobStatus", "StoryGlossary", "Translation", "TranslationJob", "TranslationStatus"]


class TranslationStatus(enum.StrEnum):
    drafting = "drafting"  # the first machine draft is being made
    draft = "draft"  # machine draft ready: review, edit, publish
    published = "published"
    failed = "failed"  # the first draft could not be made (reason on the job)
    cancelled = "cancelled"


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


ACTIVE_JOB = (JobStatus.queued, JobStatus.running)


class Translation(Base):
    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("chapter_id", "language", name="uq_translations_chapter_language"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), index=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    source_language: Mapped[str] = mapped_column(String(16))
    source_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[TranslationStatus] = mapped_column(
        Enum(TranslationStatus, native_enum=False, length=16), default=TranslationStatus.drafting
    )
    engine: Mapped[str] = mapped_column(String(60))

    key_id: Mapped[str | None] = mapped_column(String(40))
    body_enc: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # [{"source": sha256 of the source paragraph, "reviewed": bool}] — one per translated paragraph
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)

    requested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    translator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    # The registration of the published text as a derivative work of the original's version.
    registration_id: Mapped[str | None] = mapped_column(String(36))
    certificate_id: Mapped[str | None] = mapped_column(String(36))
    sha256: Mapped[str | None] = mapped_column(String(64))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TranslationJob(Base):
    """A durable unit of work for the worker: make the machine draft, or refresh changed paragraphs.

    Claimed by one worker at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) under a lease; a worker
    that dies leaves a running job whose lease runs out, and the next claim takes it over. A result is
    written only by the worker that still holds the job, so a retry never applies twice."""

    __tablename__ = "translation_jobs"
    __table_args__ = (Index("ix_translation_jobs_status_next", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    translation_id: Mapped[str] = mapped_column(ForeignKey("translations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "draft" | "refresh"
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=16), default=JobStatus.queued
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {code, message}
    requested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class StoryGlossary(Base):
    """The writer's fixed renderings: ``[{"term": "Amara", "translations": {"es": "Amara"}}]``. A term
    without a rendering for a language is kept exactly as written in that language."""

    __tablename__ = "story_glossaries"

    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    terms: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
