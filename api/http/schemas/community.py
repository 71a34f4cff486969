"""Request and response bodies for comments, ratings, reports, reading progress, library and follows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from accounts.models import User
from api.http.schemas.content import StoryOut, UserRef
from content.models.community import Comment, Report


# --- comments ------------------------------------------------------------------------------------
class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)
    parent_id: str | None = Field(None, max_length=36, description="A top-level comment to reply to.")


class CommentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)


class CommentOut(BaseModel):
    id: str
    chapter_id: str
    parent_id: str | None
    author: UserRef | None
    body: str | None = Field(description="Null once deleted.")
    deleted: bool
    removed_by_moderator: bool
    is_pinned: bool
    edited_at: datetime | None
    created_at: datetime
    replies: list[CommentOut] = Field(default_factory=list)

    @classmethod
    def build(cls, c: Comment, author: User | None, replies: list[CommentOut] | None = None) -> CommentOut:
        deleted = c.deleted_at is not None
        return cls(
            id=c.id, chapter_id=c.chapter_id, parent_id=c.parent_id,
            author=UserRef.model_validate(author) if author is not None and not deleted else None,
            body=None if deleted else c.body, deleted=deleted, removed_by_moderator=c.removed_by_moderator,
            is_pinned=c.is_pinned, edited_at=c.edited_at, created_at=c.created_at, replies=replies or [],
        )


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


# --- ratings -------------------------------------------------------------------------------------
class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5)


class RatingOut(BaseModel):
    story_id: str
    stars: int | None
    average: float | None
    count: int


# --- reports -------------------------------------------------------------------------------------
ReportTargetName = Literal["story", "chapter", "comment", "user"]
ReportReasonName = Literal["spam", "harassment", "hate", "sexual_content", "violence", "plagiarism", "other"]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: ReportTargetName
    target_id: str = Field(min_length=1, max_length=36)
    reason: ReportReasonName
    details: str | None = Field(None, max_length=2000)


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reporter_id: str
    target_type: str
    target_id: str
    reason: str
    details: str | None
    status: str
    resolution_note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime

    @classmethod
    def build(cls, r: Report) -> ReportOut:
        return cls(
            id=r.id, reporter_id=r.reporter_id, target_type=r.target_type.value, target_id=r.target_id,
            reason=r.reason.value, details=r.details, status=r.status.value,
            resolution_note=r.resolution_note,
            resolved_by=r.resolved_by, resolved_at=r.resolved_at, created_at=r.created_at,
        )


class ReportPage(BaseModel):
    items: list[ReportOut]
    next_cursor: str | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["actioned", "dismissed"]
    note: str | None = Field(None, max_length=2000)
    remove_content: bool = Field(False, description="Remove the reported comment (comment reports only).")


class ResolveOut(BaseModel):
    report: ReportOut
    closed: int = Field(description="Open reports on the same target closed by this decision.")


# --- reading -------------------------------------------------------------------------------------
class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percentage: float = Field(ge=0, le=100)
    seconds: int = Field(0, ge=0, le=3600, description="Reading time since the last update.")


class ProgressOut(BaseModel):
    chapter_id: str
    story_id: str
    percentage: float
    seconds: int
    last_read_at: datetime


class HistoryItem(ProgressOut):
    chapter_number: int
    chapter_title: str
    story_title: str


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None


class LibraryItem(BaseModel):
    story: StoryOut
    added_at: datetime


class LibraryPage(BaseModel):
    items: list[LibraryItem]
    next_cursor: str | None


class BookmarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: float | None = Field(None, ge=0, le=100, description="Where in the chapter, in percent.")
    note: str | None = Field(None, max_length=500)


class BookmarkOut(BaseModel):
    chapter_id: str
    chapter_number: int
    chapter_title: str
    story_id: str
    story_title: str
    position: float | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class BookmarkPage(BaseModel):
    items: list[BookmarkOut]
    next_cursor: str | None


class UserSummary(UserRef):
    role: str


class UserList(BaseModel):
    items: list[UserSummary]
