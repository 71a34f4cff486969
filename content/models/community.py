"""Comments on chapters, star ratings of stories, and reports for the moderation queue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = ["Comment", "Rating", "Report", "ReportReason", "ReportStatus", "ReportTarget"]


class Comment(Base):
    """Threaded one level deep: a reply's ``parent_id`` names a top-level comment.

    Deleting keeps the row (``deleted_at``) so replies keep their place; the body is cleared.
    """

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_chapter_parent_created", "chapter_id", "parent_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"))
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    body: Mapped[str | None] = mapped_column(Text)
    is_pinned: Mapped[bool] = mapped_column(default=False)
    pinned_at: Mapped[datetime | None]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    removed_by_moderator: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[str] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    stars: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReportTarget(enum.StrEnum):
    story = "story"
    chapter = "chapter"
    comment = "comment"
    user = "user"


class ReportReason(enum.StrEnum):
    spam = "spam"
    harassment = "harassment"
    hate = "hate"
    sexual_content = "sexual_content"
    violence = "violence"
    plagiarism = "plagiarism"
    other = "other"


class ReportStatus(enum.StrEnum):
    open = "open"
    actioned = "actioned"
    dismissed = "dismissed"


class Report(Base):
    """A user's report. ``target_id`` is an id of the table ``target_type`` names, kept even if the
    target is later deleted so the moderation record survives."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_created", "status", "created_at"),
        Index("ix_reports_target", "target_type", "target_id"),
        # One open report per reporter and target, whatever races to create it.
        Index("uq_reports_open_per_reporter", "reporter_id", "target_type", "target_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[ReportTarget] = mapped_column(Enum(ReportTarget, native_enum=False, length=16))
    target_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[ReportReason] = mapped_column(Enum(ReportReason, native_enum=False, length=24))
    details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ReportStatus] = mapped_column(
        Enum(ReportStatus, native_enum=False, length=16), default=ReportStatus.open
    )
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
