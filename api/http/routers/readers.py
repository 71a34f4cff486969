"""A reader's own things under ``/me`` (library, bookmarks, history, follows, blocks) and
``/users/{id}/follow|block``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from accounts.models import User
from api.http.deps import CurrentUser, SessionDep
from api.http.routers.stories import stories_out, story_out
from api.http.schemas.community import (
    BookmarkOut,
    BookmarkPage,
    HistoryItem,
    HistoryPage,
    LibraryItem,
    LibraryPage,
    UserList,
    UserSummary,
)
from content import access, reading, social
from content.pagination import MAX_LIMIT

router = APIRouter(tags=["readers"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _users(users: list[User]) -> UserList:
    return UserList(items=[
        UserSummary(id=u.id, username=u.username, display_name=u.display_name, role=u.role.value)
        for u in users
    ])


@router.get("/me/library", response_model=LibraryPage)
def get_library(
    user: CurrentUser, session: SessionDep, cursor: str | None = None, limit: Limit = 20
) -> object:
    page = reading.library(session, user, cursor=cursor, limit=limit)
    outs = stories_out(session, [story for _, story in page.items])
    items = [
        LibraryItem(story=o, added_at=entry.added_at) for (entry, _), o in zip(page.items, outs, strict=True)
    ]
    return LibraryPage(items=items, next_cursor=page.next_cursor)


@router.put("/me/library/{story_id}", response_model=LibraryItem)
def add_to_library(story_id: str, user: CurrentUser, session: SessionDep) -> object:
    story = access.visible_story(session, story_id, user)
    entry = reading.add_to_library(session, user, story)
    return LibraryItem(story=story_out(session, story, user), added_at=entry.added_at)


@router.delete("/me/library/{story_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_from_library(story_id: str, user: CurrentUser, session: SessionDep) -> Response:
    reading.remove_from_library(session, user, story_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/bookmarks", response_model=BookmarkPage)
def get_bookmarks(
    user: CurrentUser, session: SessionDep, cursor: str | None = None, limit: Limit = 20
) -> object:
    page = reading.bookmarks(session, user, cursor=cursor, limit=limit)
    items = [
        BookmarkOut(chapter_id=c.id, chapter_number=c.number, chapter_title=c.title, story_id=s.id,
                    story_title=s.title, position=b.position, note=b.note, created_at=b.created_at,
                    updated_at=b.updated_at)
        for b, c, s in page.items
    ]
    return BookmarkPage(items=items, next_cursor=page.next_cursor)


@router.get("/me/history", response_model=HistoryPage)
def get_history(
    user: CurrentUser, session: SessionDep, cursor: str | None = None, limit: Limit = 20
) -> object:
    """Chapters the caller read, most recent first, with how far and how long."""
    page = reading.history(session, user, cursor=cursor, limit=limit)
    items = [
        HistoryItem(chapter_id=c.id, story_id=s.id, percentage=p.percentage, seconds=p.seconds,
                    last_read_at=p.last_read_at, chapter_number=c.number, chapter_title=c.title,
                    story_title=s.title)
        for p, c, s in page.items
    ]
    return HistoryPage(items=items, next_cursor=page.next_cursor)


@router.get("/me/following", response_model=UserList)
def get_following(user: CurrentUser, session: SessionDep) -> object:
    return _users(social.following(session, user))


@router.get("/me/followers", response_model=UserList)
def get_followers(user: CurrentUser, session: SessionDep) -> object:
    return _users(social.followers(session, user))


@router.get("/me/blocks", response_model=UserList)
def get_blocks(user: CurrentUser, session: SessionDep) -> object:
    return _users(social.blocked_users(session, user))


@router.put("/users/{user_id}/follow", status_code=status.HTTP_204_NO_CONTENT)
def follow(user_id: str, user: CurrentUser, session: SessionDep) -> Response:
    social.follow(session, user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/users/{user_id}/follow", status_code=status.HTTP_204_NO_CONTENT)
def unfollow(user_id: str, user: CurrentUser, session: SessionDep) -> Response:
    social.unfollow(session, user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/users/{user_id}/block", status_code=status.HTTP_204_NO_CONTENT)
def block(user_id: str, user: CurrentUser, session: SessionDep) -> Response:
    social.block(session, user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/users/{user_id}/block", status_code=status.HTTP_204_NO_CONTENT)
def unblock(user_id: str, user: CurrentUser, session: SessionDep) -> Response:
    social.unblock(session, user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
