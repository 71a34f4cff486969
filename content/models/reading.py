"""What readers keep and do: progress and daily reading time, library, bookmarks, follows, blocks.

``ReadingDay`` holds per-day increments of reading time so the subscription pool can sum any period
(a month) per reader and writer without replaying events.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = ["Block", "Bookmark", "Follow", "LibraryEntry", "ReadingDay", "ReadingProgress"]


class ReadingProgress(Base):
    """One row per reader and chapter: the furthest point reached and the total time spent.
    Ordered by ``last_read_at`` it is the reader's history."""

    __tablename__ = "reading_progress"
    __table_args__ = (
        UniqueConstraint("reader_id", "chapter_id", name="uq_reading_progress_reader_chapter"),
        Index("ix_reading_progress_reader_last", "reader_id", "last_read_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reader_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), index=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    percentage: Mapped[float] = mapped_column(Float, default=0.0)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    first_read_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_read_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadingDay(Base):
    __tablename__ = "reading_days"
    __table_args__ = (
        UniqueConstraint("reader_id", "chapter_id", "day", name="uq_reading_days_reader_chapter_day"),
        Index("ix_reading_days_day_reader", "day", "reader_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reader_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    writer_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"))
    day: Mapped[date]
    seconds: Mapped[int] = mapped_column(Integer, default=0)


class LibraryEntry(Base):
    __tablename__ = "library_entries"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Bookmark(Base):
    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("user_id", "chapter_id", name="uq_bookmarks_user_chapter"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"))
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    position: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Follow(Base):
    __tablename__ = "follows"

    follower_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    followee_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Block(Base):
    __tablename__ = "blocks"

    blocker_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
