"""``/stories``: stories, their chapters, ratings and manuscript import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from sqlalchemy.orm import Session

from accounts.models import User
from api.http.deps import ContainerDep, CurrentUser, OptionalUser, SessionDep, WriterUser
from api.http.public_cache import PRIVATE, PublicChapterCache, etag_of, matches
from api.http.schemas.community import RatingIn, RatingOut
from api.http.schemas.content import (
    ChapterIn,
    ChapterList,
    ChapterOut,
    ChapterSummary,
    ImportOut,
    ImportSkipped,
    StoryIn,
    StoryOut,
    StoryPage,
    StoryStatusName,
    StoryUpdate,
)
from api.wiring import Container
from content import access, chapters, community, importer, stories
from content.models.stories import Story, StoryStatus
from content.pagination import MAX_LIMIT
from content.texts import chapter_text

router = APIRouter(tags=["stories"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def story_out(session: Session, story: Story, viewer: User | None) -> StoryOut:
    stats = stories.stats_for(session, [story.id])[story.id]
    author = session.get(User, story.author_id)
    return StoryOut.build(story, stats, author, community.own_rating(session, viewer, story))


def stories_out(session: Session, items: list[Story]) -> list[StoryOut]:
    stats = stories.stats_for(session, [s.id for s in items])
    authors = stories.authors_for(session, items)
    return [StoryOut.build(s, stats[s.id], authors.get(s.author_id)) for s in items]


@router.post("/stories", status_code=status.HTTP_201_CREATED, response_model=StoryOut)
def create_story(body: StoryIn, user: WriterUser, session: SessionDep) -> object:
    story = stories.create_story(session, user, {"title": body.title, **body.values()})
    return story_out(session, story, user)


@router.get("/stories", response_model=StoryPage)
def list_stories(
    session: SessionDep, user: OptionalUser, author: str | None = None, genre: str | None = None,
    tag: str | None = None, language: str | None = None, status: StoryStatusName | None = None,
    cursor: str | None = None, limit: Limit = 20,
) -> object:
    page = stories.list_stories(
        session, user, author=author, genre=genre, tag=tag, language=language,
        status=StoryStatus(status) if status else None, cursor=cursor, limit=limit,
    )
    return StoryPage(items=stories_out(session, page.items), next_cursor=page.next_cursor)


@router.get("/stories/{story_id}", response_model=StoryOut)
def get_story(story_id: str, session: SessionDep, user: OptionalUser) -> object:
    return story_out(session, access.visible_story(session, story_id, user), user)


@router.put("/stories/{story_id}", response_model=StoryOut)
def update_story(story_id: str, body: StoryUpdate, user: CurrentUser, session: SessionDep) -> object:
    story = access.editable_story(session, story_id, user, for_update=True)
    return story_out(session, stories.update_story(session, story, body.values()), user)


# --- ratings -------------------------------------------------------------------------------------
def _rating_out(session: Session, story: Story, stars: int | None) -> RatingOut:
    stats = stories.stats_for(session, [story.id])[story.id]
    return RatingOut(story_id=story.id, stars=stars, average=stats.rating_average, count=stats.rating_count)


@router.put("/stories/{story_id}/rating", response_model=RatingOut)
def rate_story(story_id: str, body: RatingIn, user: CurrentUser, session: SessionDep) -> object:
    story = access.visible_story(session, story_id, user)
    rating = community.rate(session, user, story, body.stars)
    return _rating_out(session, story, rating.stars)


@router.delete("/stories/{story_id}/rating", status_code=status.HTTP_204_NO_CONTENT)
def unrate_story(story_id: str, user: CurrentUser, session: SessionDep) -> Response:
    community.unrate(session, user, access.visible_story(session, story_id, user))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- chapters ------------------------------------------------------------------------------------
@router.post("/stories/{story_id}/chapters", status_code=status.HTTP_201_CREATED, response_model=ChapterOut)
def create_chapter(
    story_id: str, body: ChapterIn, user: CurrentUser, session: SessionDep, container: ContainerDep,
) -> object:
    story = access.editable_story(session, story_id, user, for_update=True)
    chapter = chapters.create_chapter(
        session, container.content_cipher, story, title=body.title, content=body.content,
        price_coins=body.price_coins,
    )
    return ChapterOut.with_content(chapter, body.content, editor=True)


@router.get("/stories/{story_id}/chapters", response_model=ChapterList)
def list_chapters(story_id: str, session: SessionDep, user: OptionalUser, container: ContainerDep) -> object:
    story = access.visible_story(session, story_id, user)
    editor = access.can_edit_story(user, story)
    items = chapters.list_chapters(session, story, include_unpublished=editor)
    grants = container.read_grants
    return ChapterList(items=[
        ChapterSummary.build(c, locked=not access.can_read_chapter(session, grants, user, c), editor=editor)
        for c in items
    ])


@router.get(
    "/stories/{story_id}/chapters/{chapter_id}", response_model=ChapterOut,
    responses={304: {"description": "The copy named in ``If-None-Match`` is current."}},
)
def get_chapter(
    story_id: str, chapter_id: str, request: Request, session: SessionDep, user: OptionalUser,
    container: ContainerDep,
) -> Response:
    """The chapter, with its text when the caller may read it. Every answer has an ``ETag`` (send it
    back in ``If-None-Match`` for a bodiless 304); a published free chapter read without a token is
    ``Cache-Control: public`` and kept for a few seconds, served from memory in front of the router
    (api/http/public_cache.py)."""
    cache: PublicChapterCache = request.app.state.public_chapters
    generation = cache.generation()
    body, public = _render_chapter(session, container, user, story_id, chapter_id)
    if public:
        return _conditional(request, body, cache.put(chapter_id, story_id, body, generation=generation).etag,
                            cache.cache_control)
    return _conditional(request, body, etag_of(body), PRIVATE)


def _render_chapter(
    session: Session, container: Container, user: User | None, story_id: str, chapter_id: str
) -> tuple[bytes, bool]:
    """The response body, and whether it is public (readable by anyone without a token)."""
    chapter, story = access.story_chapter(session, story_id, chapter_id, user)
    readable = access.can_read_chapter(session, container.read_grants, user, chapter)
    content = chapter_text(container.content_cipher, chapter) if readable else None
    out = ChapterOut.with_content(chapter, content, editor=access.can_edit_story(user, story))
    return out.model_dump_json().encode(), user is None and content is not None


def _conditional(request: Request, body: bytes, etag: str, cache_control: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Authorization"}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# --- import --------------------------------------------------------------------------------------
@router.post("/stories/{story_id}/import", status_code=status.HTTP_201_CREATED, response_model=ImportOut)
def import_manuscript(
    story_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep,
    file: Annotated[UploadFile, File(description="A .md, .docx or .epub manuscript.")],
) -> object:
    """Split a manuscript into draft chapters appended to the story (nothing is published). Chapters
    whose text the story already has are skipped and listed in ``skipped``; when that is all of them,
    409 ``MANUSCRIPT_ALREADY_IMPORTED``."""
    access.editable_story(session, story_id, user)
    # Parsing takes a while on a big book: end the transaction first so no lock is held meanwhile
    # (a SQLite transaction holds the database's write lock from its start).
    session.commit()
    data = file.file.read(importer.MAX_MANUSCRIPT_BYTES + 1)
    filename = file.filename or ""
    parsed = importer.parse_manuscript(filename, data, max_chapter_chars=container.settings.max_text_chars)
    story = access.editable_story(session, story_id, user, for_update=True)
    result = importer.import_chapters(session, container.content_cipher, story, parsed)
    return ImportOut(
        format=importer.detect_format(filename, data), count=len(result.created),
        chapters=[ChapterSummary.build(c, locked=False, editor=True) for c in result.created],
        skipped=[ImportSkipped(**s.__dict__) for s in result.skipped],
    )
