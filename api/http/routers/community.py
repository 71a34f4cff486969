"""Comments by id, reports, and the admin moderation queue."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from accounts.models import User
from api.http.deps import AdminUser, CurrentUser, SessionDep
from api.http.schemas.community import (
    CommentEdit,
    CommentOut,
    ReportIn,
    ReportOut,
    ReportPage,
    ResolveIn,
    ResolveOut,
)
from content import community, moderation
from content.models.community import Comment, ReportReason, ReportStatus, ReportTarget
from content.pagination import MAX_LIMIT

router = APIRouter(tags=["community"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _comment_out(session: Session, comment: Comment, viewer: User | None = None) -> CommentOut:
    """The comment as a thread shows it: a top-level comment carries its replies."""
    replies = community.replies_of(session, viewer, comment)
    authors = community.comment_authors(session, [community.Thread(comment, replies)])
    return CommentOut.build(comment, authors.get(comment.author_id),
                            [CommentOut.build(r, authors.get(r.author_id)) for r in replies])


@router.put("/comments/{comment_id}", response_model=CommentOut, tags=["comments"])
def edit_comment(comment_id: str, body: CommentEdit, user: CurrentUser, session: SessionDep) -> object:
    comment, _, _ = community.visible_comment(session, comment_id, user)
    community.edit_comment(comment, user, body.body)
    session.flush()
    return _comment_out(session, comment, user)


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["comments"])
def delete_comment(comment_id: str, user: CurrentUser, session: SessionDep) -> Response:
    comment, _, story = community.visible_comment(session, comment_id, user)
    community.delete_comment(comment, story, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/comments/{comment_id}/pin", response_model=CommentOut, tags=["comments"])
def pin_comment(comment_id: str, user: CurrentUser, session: SessionDep) -> object:
    comment, _, story = community.visible_comment(session, comment_id, user)
    community.set_pinned(comment, story, user, True)
    session.flush()
    return _comment_out(session, comment, user)


@router.delete("/comments/{comment_id}/pin", response_model=CommentOut, tags=["comments"])
def unpin_comment(comment_id: str, user: CurrentUser, session: SessionDep) -> object:
    comment, _, story = community.visible_comment(session, comment_id, user)
    community.set_pinned(comment, story, user, False)
    session.flush()
    return _comment_out(session, comment, user)


@router.post("/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut, tags=["moderation"])
def create_report(body: ReportIn, user: CurrentUser, session: SessionDep, response: Response) -> object:
    """Report a story, chapter, comment or user. Repeating an open report returns it with 200."""
    report, created = moderation.create_report(
        session, user, target_type=ReportTarget(body.target_type), target_id=body.target_id,
        reason=ReportReason(body.reason), details=body.details,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return ReportOut.build(report)


@router.get("/admin/reports", response_model=ReportPage, tags=["moderation"])
def list_reports(
    _: AdminUser, session: SessionDep, status: Literal["open", "actioned", "dismissed"] | None = "open",
    target_type: Literal["story", "chapter", "comment", "user"] | None = None, cursor: str | None = None,
    limit: Limit = 50,
) -> object:
    """The moderation queue, oldest first; ``status`` defaults to open reports."""
    page = moderation.list_reports(
        session, status=ReportStatus(status) if status else None,
        target_type=ReportTarget(target_type) if target_type else None, cursor=cursor, limit=limit,
    )
    return ReportPage(items=[ReportOut.build(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/admin/reports/{report_id}/resolve", response_model=ResolveOut, tags=["moderation"])
def resolve_report(report_id: str, body: ResolveIn, admin: AdminUser, session: SessionDep) -> object:
    report = moderation.get_report(session, report_id)
    closed = moderation.resolve(
        session, admin, report, status=ReportStatus(body.status), note=body.note,
        remove_content=body.remove_content,
    )
    return ResolveOut(report=ReportOut.build(report), closed=closed)
