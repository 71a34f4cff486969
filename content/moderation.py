"""Reports and the admin moderation queue.

Anyone signed in can report a story, a chapter, a comment or a user they can see. Reporting the same
target again while the first report is open returns that report rather than stacking duplicates. An
admin resolves a report as ``actioned`` or ``dismissed``; the decision closes every open report on the
same target, so the queue does not ask twice about one thing. Resolving a comment report with
``remove_content`` removes the comment (marked as removed by a moderator).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from content.access import visible_chapter, visible_story
from content.community import remove_comment, visible_comment
from content.errors import InvalidRequest, InvalidStateTransition, NotFound
from content.models.community import Comment, Report, ReportReason, ReportStatus, ReportTarget
from content.pagination import Page, keyset_page
from content.social import get_user


def _check_target(session: Session, reporter: User, target_type: ReportTarget, target_id: str) -> None:
    if target_type == ReportTarget.story:
        visible_story(session, target_id, reporter)
    elif target_type == ReportTarget.chapter:
        visible_chapter(session, target_id, reporter)
    elif target_type == ReportTarget.comment:
        visible_comment(session, target_id, reporter)
    else:
        get_user(session, target_id)
        if target_id == reporter.id:
            raise InvalidRequest("You cannot report yourself.", details={"target_id": target_id})


def create_report(
    session: Session, reporter: User, *, target_type: ReportTarget, target_id: str, reason: ReportReason,
    details: str | None,
) -> tuple[Report, bool]:
    """Returns the report and whether it is new."""
    _check_target(session, reporter, target_type, target_id)
    existing = _open_report(session, reporter, target_type, target_id)
    if existing is not None:
        return existing, False
    report = Report(reporter_id=reporter.id, target_type=target_type, target_id=target_id, reason=reason,
                    details=details)
    # Racing reports all pass the check above; the unique partial index on open reports lets one in and
    # the others get that one, as a repeated report does.
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        existing = _open_report(session, reporter, target_type, target_id)
        if existing is None:
            raise
        return existing, False
    return report, True


def _open_report(
    session: Session, reporter: User, target_type: ReportTarget, target_id: str
) -> Report | None:
    return session.scalars(select(Report).where(
        Report.reporter_id == reporter.id, Report.target_type == target_type, Report.target_id == target_id,
        Report.status == ReportStatus.open,
    )).first()


def list_reports(
    session: Session, *, status: ReportStatus | None, target_type: ReportTarget | None, cursor: str | None,
    limit: int,
) -> Page[Report]:
    """Oldest first: the queue is worked in the order users raised things."""
    q = select(Report)
    if status is not None:
        q = q.where(Report.status == status)
    if target_type is not None:
        q = q.where(Report.target_type == target_type)
    return keyset_page(session, q, time_col=Report.created_at, id_col=Report.id, cursor=cursor, limit=limit,
                       key=lambda r: (r.created_at, r.id), newest_first=False)


def get_report(session: Session, report_id: str) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound("No such report.", details={"report_id": report_id})
    return report


def resolve(
    session: Session, admin: User, report: Report, *, status: ReportStatus, note: str | None,
    remove_content: bool,
) -> int:
    """Close the report and every other open one on its target; returns how many were closed."""
    if report.status != ReportStatus.open:
        raise InvalidStateTransition("The report is already resolved.",
                                     details={"report_id": report.id, "status": report.status.value})
    if status == ReportStatus.open:
        raise InvalidRequest("Resolve as actioned or dismissed.", details={"status": status.value})
    if remove_content:
        if report.target_type != ReportTarget.comment or status != ReportStatus.actioned:
            raise InvalidRequest("Only an actioned comment report can remove content.",
                             details={"target_type": report.target_type.value})
        comment = session.get(Comment, report.target_id)
        if comment is not None and comment.deleted_at is None:
            remove_comment(comment, by_moderator=True)
    now = datetime.now(UTC)
    closed = session.execute(
        update(Report).where(
            Report.target_type == report.target_type, Report.target_id == report.target_id,
            Report.status == ReportStatus.open,
        ).values(status=status, resolution_note=note, resolved_by=admin.id, resolved_at=now)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    session.refresh(report)
    return int(closed.rowcount or 0)
