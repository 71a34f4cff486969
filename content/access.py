"""Who may see, edit and read what: the one place the content rules live.

* A story's author and admins edit it and its chapters; anyone else gets 403 on a story they can see.
* A draft story, and a chapter that is not published, do not exist (404) for anyone but its editors,
  so probing ids reveals nothing about unpublished work.
* Reading a chapter's text is decided by :func:`can_read_chapter` alone.

Paid chapters open to a reader who unlocked them with coins, or who holds an active subscription while
the story is in the subscription catalog (``Story.in_subscription``, on unless its writer takes it out).
Unlocks and subscriptions belong to the marketplace, a sibling of content, so content only declares the
two questions (:class:`ReadGrants`); the gateway builds the answers (``api/read_grants.py``) and the
callers pass them in, as they pass the content cipher. Nothing is installed globally, so no code path can
forget the grants and nothing has to be reset between tests.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Role, User
from content.errors import ChapterLocked, Forbidden, NotFound
from content.models.reading import Block
from content.models.stories import Chapter, ChapterStatus, Story, StoryStatus


class ReadGrants(Protocol):
    """The marketplace's answers content needs to decide who reads a paid chapter."""

    def has_unlocked(self, session: Session, reader_id: str, chapter_id: str) -> bool:
        """Whether the reader paid coins for the chapter."""
        ...

    def is_subscribed(self, session: Session, user_id: str) -> bool:
        """Whether the user holds a subscription active now."""
        ...


def reads_by_subscription(session: Session, grants: ReadGrants, user: User | None, story: Story) -> bool:
    return user is not None and story.in_subscription and grants.is_subscribed(session, user.id)


def is_admin(user: User | None) -> bool:
    return user is not None and user.role == Role.admin


def can_edit_story(user: User | None, story: Story) -> bool:
    return user is not None and (user.id == story.author_id or user.role == Role.admin)


def story_visible(user: User | None, story: Story) -> bool:
    return story.status != StoryStatus.draft or can_edit_story(user, story)


def chapter_visible(user: User | None, story: Story, chapter: Chapter) -> bool:
    if can_edit_story(user, story):
        return True
    return story.status != StoryStatus.draft and chapter.status == ChapterStatus.published


def visible_story(session: Session, story_id: str, user: User | None) -> Story:
    story = session.get(Story, story_id)
    if story is None or not story_visible(user, story):
        raise NotFound("No such story.", details={"story_id": story_id})
    return story


def editable_story(session: Session, story_id: str, user: User | None, *, for_update: bool = False) -> Story:
    story = visible_story(session, story_id, user)
    if not can_edit_story(user, story):
        raise Forbidden("Only the story's author can change it.", details={"story_id": story_id})
    if for_update:
        # Serializes chapter numbering and status changes per story on PostgreSQL.
        session.execute(select(Story.id).where(Story.id == story.id).with_for_update())
    return story


def visible_chapter(session: Session, chapter_id: str, user: User | None) -> tuple[Chapter, Story]:
    chapter = session.get(Chapter, chapter_id)
    story = session.get(Story, chapter.story_id) if chapter is not None else None
    if chapter is None or story is None or not chapter_visible(user, story, chapter):
        raise NotFound("No such chapter.", details={"chapter_id": chapter_id})
    return chapter, story


def story_chapter(
    session: Session, story_id: str, chapter_id: str, user: User | None
) -> tuple[Chapter, Story]:
    """A visible chapter addressed under its story (``/stories/{story_id}/chapters/{chapter_id}``): under
    any other story it does not exist."""
    chapter, story = visible_chapter(session, chapter_id, user)
    if story.id != story_id:
        raise NotFound("No such chapter in this story.",
                       details={"story_id": story_id, "chapter_id": chapter_id})
    return chapter, story


def editable_chapter(session: Session, chapter_id: str, user: User | None) -> tuple[Chapter, Story]:
    chapter, story = visible_chapter(session, chapter_id, user)
    if not can_edit_story(user, story):
        raise Forbidden("Only the story's author can change its chapters.",
                        details={"chapter_id": chapter_id})
    return chapter, story


def can_read_chapter(session: Session, grants: ReadGrants, user: User | None, chapter: Chapter) -> bool:
    """True when ``user`` may read the chapter's text: its author or an admin always; anyone else only
    once it is published, and then for free chapters, after unlocking it with coins, or while
    subscribed when the story is in the subscription catalog."""
    story = session.get(Story, chapter.story_id)
    if story is None:
        return False
    if can_edit_story(user, story):
        return True
    if chapter.status != ChapterStatus.published or story.status == StoryStatus.draft:
        return False
    if chapter.price_coins <= 0:
        return True
    if user is None:
        return False
    return (grants.has_unlocked(session, user.id, chapter.id)
            or reads_by_subscription(session, grants, user, story))


def require_readable(
    session: Session, grants: ReadGrants, user: User | None, chapter: Chapter, message: str
) -> None:
    """Refuse (``CHAPTER_LOCKED``, saying ``message``) whoever :func:`can_read_chapter` turns away."""
    if not can_read_chapter(session, grants, user, chapter):
        raise ChapterLocked(message, details={"chapter_id": chapter.id})


def is_blocked_by(session: Session, *, blocker_id: str, user_id: str) -> bool:
    return session.get(Block, (blocker_id, user_id)) is not None
