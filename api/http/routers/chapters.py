"""``/chapters/{id}``: edits, publishing, scheduling, versions, and what a reader does with a chapter
(progress, bookmark, comments)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.http.deps import ContainerDep, CurrentUser, OptionalUser, SessionDep
from api.http.schemas.bounds import VersionNumber
from api.http.schemas.community import (
    BookmarkIn,
    BookmarkOut,
    CommentIn,
    CommentOut,
    CommentPage,
    ProgressIn,
    ProgressOut,
)
from api.http.schemas.content import (
    ChapterOut,
    ChapterUpdate,
    ScheduleIn,
    UnlockOut,
    VersionList,
    VersionOut,
    VersionTextOut,
)
from content import access, chapters, community, publishing, reading
from content.pagination import MAX_LIMIT
from content.texts import chapter_text, version_text

router = APIRouter(prefix="/chapters", tags=["chapters"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.put("/{chapter_id}", response_model=ChapterOut)
def update_chapter(
    chapter_id: str, body: ChapterUpdate, user: CurrentUser, session: SessionDep, container: ContainerDep,
) -> object:
    """Edit title, price or text. New text on a published chapter is registered and becomes a new
    version; a registry refusal (409 ``PLAGIARISM_SUSPECTED``) leaves the chapter unchanged."""
    chapter, story = access.editable_chapter(session, chapter_id, user)
    needs_registry = body.content is not None and chapter.status.value == "published"
    chapters.update_chapter(
        session, container.content_cipher, chapter, story, actor=user,
        registry=container.registry if needs_registry else None,
        title=body.title, content=body.content, price_coins=body.price_coins,
    )
    text = chapter_text(container.content_cipher, chapter)
    return ChapterOut.with_content(chapter, text, editor=True)


@router.post("/{chapter_id}/publish", response_model=ChapterOut)
def publish_chapter(
    chapter_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    """Register the text with the registry and publish; the chapter then carries its certificate id."""
    chapter, story = access.editable_chapter(session, chapter_id, user)
    publishing.publish(
        session, container.content_cipher, container.registry, chapter, story, actor_id=user.id
    )
    text = chapter_text(container.content_cipher, chapter)
    return ChapterOut.with_content(chapter, text, editor=True)


@router.post("/{chapter_id}/schedule", response_model=ChapterOut)
def schedule_chapter(
    chapter_id: str, body: ScheduleIn, user: CurrentUser, session: SessionDep, container: ContainerDep,
) -> object:
    chapter, _ = access.editable_chapter(session, chapter_id, user)
    publishing.schedule(chapter, body.publish_at)
    session.flush()
    text = chapter_text(container.content_cipher, chapter)
    return ChapterOut.with_content(chapter, text, editor=True)


@router.delete("/{chapter_id}/schedule", response_model=ChapterOut)
def unschedule_chapter(
    chapter_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    chapter, _ = access.editable_chapter(session, chapter_id, user)
    publishing.unschedule(chapter)
    session.flush()
    text = chapter_text(container.content_cipher, chapter)
    return ChapterOut.with_content(chapter, text, editor=True)


@router.get("/{chapter_id}/versions", response_model=VersionList)
def list_versions(chapter_id: str, session: SessionDep, user: OptionalUser) -> object:
    """Every registered text of the chapter with its SHA-256 and certificate: public proof data."""
    chapter, _ = access.visible_chapter(session, chapter_id, user)
    return VersionList(items=[VersionOut.model_validate(v) for v in chapters.list_versions(session, chapter)])


@router.get("/{chapter_id}/versions/{version}", response_model=VersionTextOut)
def get_version(
    chapter_id: str, version: VersionNumber, user: CurrentUser, session: SessionDep, container: ContainerDep,
) -> object:
    """An earlier text, for its author (and admins) only: readers see the current text."""
    chapter, story = access.visible_chapter(session, chapter_id, user)
    row = chapters.earlier_version(session, chapter, story, user, version)
    return VersionTextOut.build(row, version_text(container.content_cipher, row))


# --- reader actions ------------------------------------------------------------------------------
@router.post("/{chapter_id}/unlock", response_model=UnlockOut)
def unlock_chapter(
    chapter_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    """Pay the chapter's price in coins once (70% to the writer) and get its text. Unlocking again
    charges nothing; a wallet that cannot pay is 402 ``INSUFFICIENT_FUNDS``. A subscriber reading a
    catalog story gets the text without being charged."""
    chapter, story = access.visible_chapter(session, chapter_id, user)
    if chapter.price_coins > 0 and access.reads_by_subscription(session, container.read_grants, user, story):
        text = chapter_text(container.content_cipher, chapter)
        return UnlockOut(chapter_id=chapter.id, price_coins=0, charged=False,
                         chapter=ChapterOut.with_content(chapter, text, editor=False))
    result = container.unlocks.unlock(
        session, reader_id=user.id, writer_id=story.author_id, chapter_id=chapter.id,
        price_coins=chapter.price_coins,
    )
    text = chapter_text(container.content_cipher, chapter)
    return UnlockOut(
        chapter_id=chapter.id, price_coins=result.unlock.price_coins, charged=result.charged,
        chapter=ChapterOut.with_content(chapter, text, editor=access.can_edit_story(user, story)),
    )


@router.put("/{chapter_id}/progress", response_model=ProgressOut)
def put_progress(
    chapter_id: str, body: ProgressIn, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    """Keeps the furthest percentage and adds ``seconds`` to the reading time (also counted per day)."""
    chapter, story = access.visible_chapter(session, chapter_id, user)
    access.require_readable(session, container.read_grants, user, chapter, "Unlock the chapter to read it.")
    p = reading.record_progress(
        session, user, chapter, story, percentage=body.percentage, seconds=body.seconds
    )
    return ProgressOut(chapter_id=p.chapter_id, story_id=p.story_id, percentage=p.percentage,
                       seconds=p.seconds, last_read_at=p.last_read_at)


@router.put("/{chapter_id}/bookmark", response_model=BookmarkOut)
def put_bookmark(chapter_id: str, body: BookmarkIn, user: CurrentUser, session: SessionDep) -> object:
    chapter, story = access.visible_chapter(session, chapter_id, user)
    mark = reading.set_bookmark(session, user, chapter, position=body.position, note=body.note)
    return BookmarkOut(
        chapter_id=chapter.id, chapter_number=chapter.number, chapter_title=chapter.title, story_id=story.id,
        story_title=story.title, position=mark.position, note=mark.note, created_at=mark.created_at,
        updated_at=mark.updated_at,
    )


@router.delete("/{chapter_id}/bookmark", status_code=status.HTTP_204_NO_CONTENT)
def delete_bookmark(chapter_id: str, user: CurrentUser, session: SessionDep) -> Response:
    access.visible_chapter(session, chapter_id, user)
    reading.remove_bookmark(session, user, chapter_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{chapter_id}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentOut)
def add_comment(
    chapter_id: str, body: CommentIn, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    chapter, story = access.visible_chapter(session, chapter_id, user)
    comment = community.add_comment(session, container.read_grants, user, chapter, story, body=body.body,
                                    parent_id=body.parent_id)
    return CommentOut.build(comment, user)


@router.get("/{chapter_id}/comments", response_model=CommentPage)
def list_comments(
    chapter_id: str, session: SessionDep, user: OptionalUser, container: ContainerDep,
    cursor: str | None = None, limit: Limit = 20,
) -> object:
    """Top-level comments, pinned first then newest, with replies; users the caller blocked are hidden."""
    chapter, _ = access.visible_chapter(session, chapter_id, user)
    page = community.list_comments(session, container.read_grants, user, chapter, cursor=cursor, limit=limit)
    authors = community.comment_authors(session, page.items)
    items = [
        CommentOut.build(t.comment, authors.get(t.comment.author_id),
                         [CommentOut.build(r, authors.get(r.author_id)) for r in t.replies])
        for t in page.items
    ]
    return CommentPage(items=items, next_cursor=page.next_cursor)
