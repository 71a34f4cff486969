"""Comments (threaded one level) and star ratings.

A chapter's comments follow its read access: reading or writing a locked chapter's thread needs the right
to read the chapter (comments quote and discuss its text), and commenting is refused when the story's
author has blocked the commenter, or, for a reply, when the author of the parent comment has. A deleted
comment that still has replies stays in the thread as a placeholder with no body, so the replies keep
their context. Pinned comments come first; only the story's author (or an
admin) pins, and only top-level comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from content.access import ReadGrants, can_edit_story, is_blocked_by, require_readable, visible_chapter
from content.errors import Blocked, CommentDepthExceeded, Forbidden, InvalidStateTransition, NotFound
from content.models.community import Comment, Rating
from content.models.stories import Chapter, Story
from content.pagination import Page, cursor_id, cursor_time, decode_cursor, encode_cursor, page_of
from content.social import blocked_ids


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)


def visible_comment(session: Session, comment_id: str, user: User | None) -> tuple[Comment, Chapter, Story]:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound("No such comment.", details={"comment_id": comment_id})
    chapter, story = visible_chapter(session, comment.chapter_id, user)
    return comment, chapter, story


def add_comment(
    session: Session, grants: ReadGrants, user: User, chapter: Chapter, story: Story, *, body: str,
    parent_id: str | None,
) -> Comment:
    require_readable(session, grants, user, chapter, "Unlock the chapter to join its discussion.")
    if is_blocked_by(session, blocker_id=story.author_id, user_id=user.id):
        raise Blocked("The author of this story has blocked you.", details={"story_id": story.id})
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.chapter_id != chapter.id or parent.deleted_at is not None:
            raise NotFound("No such comment to reply to on this chapter.", details={"parent_id": parent_id})
        if parent.parent_id is not None:
            raise CommentDepthExceeded(
                "Replies are one level deep: reply to the top-level comment instead.",
                details={"parent_id": parent_id, "top_level_id": parent.parent_id},
            )
        if is_blocked_by(session, blocker_id=parent.author_id, user_id=user.id):
            raise Blocked("The author of that comment has blocked you.", details={"parent_id": parent_id})
    comment = Comment(
        chapter_id=chapter.id, story_id=story.id, author_id=user.id, parent_id=parent_id, body=body
    )
    session.add(comment)
    session.flush()
    return comment


def list_comments(
    session: Session, grants: ReadGrants, viewer: User | None, chapter: Chapter, *, cursor: str | None,
    limit: int,
) -> Page[Thread]:
    """Top-level comments, pinned first then newest first, each with its replies oldest first. Refused
    (``CHAPTER_LOCKED``) to whoever cannot read the chapter."""
    require_readable(session, grants, viewer, chapter, "Unlock the chapter to read its discussion.")
    hidden = blocked_ids(session, viewer.id) if viewer is not None else set()
    reply = aliased(Comment)
    live_reply = exists().where(reply.parent_id == Comment.id, reply.deleted_at.is_(None))
    if hidden:
        live_reply = live_reply.where(reply.author_id.not_in(hidden))
    q = select(Comment).where(
        Comment.chapter_id == chapter.id, Comment.parent_id.is_(None),
        or_(Comment.deleted_at.is_(None), live_reply),
    )
    if hidden:
        q = q.where(Comment.author_id.not_in(hidden))
    after = decode_cursor(cursor, "p", "t", "id")
    if after is not None:
        t, cid = cursor_time(after, "t"), cursor_id(after, "id")
        older = or_(Comment.created_at < t, and_(Comment.created_at == t, Comment.id < cid))
        if after["p"]:
            q = q.where(or_(Comment.is_pinned == false(), and_(Comment.is_pinned == true(), older)))
        else:
            q = q.where(Comment.is_pinned == false(), older)
    tops = list(session.scalars(
        q.order_by(Comment.is_pinned.desc(), Comment.created_at.desc(), Comment.id.desc()).limit(limit + 1)
    ))
    page = page_of(
        tops, limit, lambda c: encode_cursor({"p": int(c.is_pinned), "t": c.created_at, "id": c.id})
    )
    threads = {c.id: Thread(c) for c in page.items}
    if threads:
        rq = select(Comment).where(Comment.parent_id.in_(threads), Comment.deleted_at.is_(None))
        if hidden:
            rq = rq.where(Comment.author_id.not_in(hidden))
        for r in session.scalars(rq.order_by(Comment.created_at, Comment.id)):
            threads[r.parent_id].replies.append(r)  # type: ignore[index]
    return Page(list(threads.values()), page.next_cursor)


def replies_of(session: Session, viewer: User | None, comment: Comment) -> list[Comment]:
    """A top-level comment's live replies, oldest first, less those of users the viewer blocked."""
    if comment.parent_id is not None:
        return []
    q = select(Comment).where(Comment.parent_id == comment.id, Comment.deleted_at.is_(None))
    hidden = blocked_ids(session, viewer.id) if viewer is not None else set()
    if hidden:
        q = q.where(Comment.author_id.not_in(hidden))
    return list(session.scalars(q.order_by(Comment.created_at, Comment.id)))


def edit_comment(comment: Comment, user: User, body: str) -> Comment:
    if comment.author_id != user.id:
        raise Forbidden("Only its author can edit a comment.", details={"comment_id": comment.id})
    comment.body = body
    comment.edited_at = datetime.now(UTC)
    return comment


def delete_comment(comment: Comment, story: Story, user: User) -> None:
    """The comment's author, the story's author (moderating their own page) or an admin may delete."""
    if comment.author_id != user.id and not can_edit_story(user, story):
        raise Forbidden("You cannot delete this comment.", details={"comment_id": comment.id})
    remove_comment(comment, by_moderator=False)


def remove_comment(comment: Comment, *, by_moderator: bool) -> None:
    comment.body = None
    comment.deleted_at = datetime.now(UTC)
    comment.is_pinned = False
    comment.pinned_at = None
    comment.removed_by_moderator = by_moderator


def set_pinned(comment: Comment, story: Story, user: User, pinned: bool) -> Comment:
    if not can_edit_story(user, story):
        raise Forbidden("Only the story's author pins comments.", details={"comment_id": comment.id})
    if comment.parent_id is not None:
        raise InvalidStateTransition("Only top-level comments can be pinned.",
                                     details={"comment_id": comment.id})
    comment.is_pinned = pinned
    comment.pinned_at = datetime.now(UTC) if pinned else None
    return comment


def comment_authors(session: Session, threads: list[Thread]) -> dict[str, User]:
    ids = {t.comment.author_id for t in threads} | {r.author_id for t in threads for r in t.replies}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


# --- ratings -------------------------------------------------------------------------------------
def rate(session: Session, user: User, story: Story, stars: int) -> Rating:
    """One rating per user and story; rating again replaces it. Authors do not rate their own stories."""
    if user.id == story.author_id:
        raise Forbidden("Authors cannot rate their own stories.", details={"story_id": story.id})
    rating = session.get(Rating, (user.id, story.id))
    if rating is None:
        try:
            with session.begin_nested():
                rating = Rating(user_id=user.id, story_id=story.id, stars=stars)
                session.add(rating)
                session.flush()
            return rating
        except IntegrityError:
            rating = session.get(Rating, (user.id, story.id))
            assert rating is not None
    rating.stars = stars
    rating.updated_at = datetime.now(UTC)
    session.flush()
    return rating


def unrate(session: Session, user: User, story: Story) -> bool:
    rating = session.get(Rating, (user.id, story.id))
    if rating is None:
        return False
    session.delete(rating)
    session.flush()
    return True


def own_rating(session: Session, user: User | None, story: Story) -> int | None:
    if user is None:
        return None
    rating = session.get(Rating, (user.id, story.id))
    return rating.stars if rating is not None else None

