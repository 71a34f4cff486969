"""``/write``: the writer's dashboard — stories, chapters, the editor, publishing, schedules, versions and
manuscript import.

Every handler makes the call the JSON router for the same action makes (``api/http/routers/stories.py``
and ``chapters.py``): ``access.editable_story`` / ``editable_chapter`` decide who may change what, the
schemas bound every value, and publishing goes through the registry, so a page publishes exactly what
``POST /chapters/{id}/publish`` would and shows the certificate it produced.

The editor takes Markdown. The preview is rendered on the server by markdown-it with raw HTML turned
off (so a chapter cannot smuggle markup into the page) and its link checker on (no ``javascript:``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from api.web.core import (
    MAX_CHAPTER_CHARS,
    MAX_PRICE_COINS,
    ChapterStatus,
    StoryIn,
    StoryUpdate,
    access,
    chapters,
    importer,
    publishing,
    stories,
    texts,
)
from api.web.gate import gate, long_text, me, number, render, schema
from api.web.pages import PageRoute, Web, WebDep, field, form

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STATUSES = ("draft", "ongoing", "completed", "hiatus")
RATINGS = ("everyone", "teen", "mature")
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def render_markdown(text: str) -> Markup:
    """Chapter Markdown as safe HTML: raw HTML in the text is shown as text, never interpreted."""
    return Markup(_markdown.render(text[:MAX_CHAPTER_CHARS]))  # noqa: S704 (markdown-it escapes, html off)


def _story_values(data: FormData) -> dict[str, object]:
    values: dict[str, object] = {
        "description": field(data, "description", max_chars=10_000),
        "genre": field(data, "genre", max_chars=50).strip() or None,
        "language": field(data, "language", max_chars=35).strip() or None,
        "content_rating": field(data, "content_rating", max_chars=20) or None,
        "tags": [t for t in (s.strip() for s in field(data, "tags", max_chars=1000).split(",")) if t][:20],
    }
    status = field(data, "status", max_chars=20)
    if status:
        values["status"] = status
    return values


# --- the dashboard and stories ---------------------------------------------------------------------
@router.get("/write")
def dashboard(web: WebDep) -> Response:
    if (stop := gate(web, "writer")) is not None:
        return stop
    user = me(web)
    page = stories.list_stories(web.db, user, author=user.id, limit=100)
    mine = [s for s in page.items if s.author_id == user.id]
    stats = stories.stats_for(web.db, [s.id for s in mine])
    return render(web, "write.html", stories=mine, stats=stats, statuses=STATUSES, ratings=RATINGS)


@router.post("/write/stories")
async def create_story(request: Request, web: WebDep) -> Response:
    if (stop := gate(web, "writer")) is not None:
        return stop
    data = await form(request)
    body = schema(StoryIn, title=field(data, "title", max_chars=300).strip(), **_story_values(data))
    story = stories.create_story(web.db, me(web), {"title": body.title, **body.values()})
    return web.redirect(f"/write/s/{story.id}")


@router.get("/write/s/{story_id}")
def story_page(story_id: str, web: WebDep, imported: int = -1) -> Response:
    if (stop := gate(web)) is not None:
        return stop
    story = access.editable_story(web.db, story_id, me(web))
    items = chapters.list_chapters(web.db, story, include_unpublished=True)
    return render(web, "write_story.html", story=story, chapters=items, statuses=STATUSES, ratings=RATINGS,
                  tags=", ".join(t.tag for t in story.tag_rows), imported=imported)


@router.post("/write/s/{story_id}")
async def update_story(story_id: str, request: Request, web: WebDep) -> Response:
    if (stop := gate(web)) is not None:
        return stop
    data = await form(request)
    story = access.editable_story(web.db, story_id, me(web), for_update=True)
    body = schema(StoryUpdate, title=field(data, "title", max_chars=300).strip(), **_story_values(data))
    stories.update_story(web.db, story, body.values())
    return web.redirect(f"/write/s/{story.id}")


@router.post("/write/s/{story_id}/chapters")
async def create_chapter(story_id: str, request: Request, web: WebDep) -> Response:
    if (stop := gate(web)) is not None:
        return stop
    data = await form(request)
    story = access.editable_story(web.db, story_id, me(web), for_update=True)
    title = field(data, "title", max_chars=300).strip() or web._("Untitled chapter")
    content = long_text(data, "content", max_chars=MAX_CHAPTER_CHARS) or title
    chapter = chapters.create_chapter(web.db, web.container.content_cipher, story, title=title,
                                      content=content, price_coins=0)
    return web.redirect(f"/write/c/{chapter.id}")


@router.post("/write/s/{story_id}/import")
async def import_manuscript(story_id: str, request: Request, web: WebDep) -> Response:
    """As ``POST /stories/{id}/import``: split the file into draft chapters (nothing is published)."""
    if (stop := gate(web)) is not None:
        return stop
    data = await form(request)
    access.editable_story(web.db, story_id, me(web))
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(400, "Choose a .md, .docx or .epub file to import.")
    web.db.commit()  # parsing a big book takes a while: hold no lock meanwhile (as the JSON route does)
    raw = await upload.read(importer.MAX_MANUSCRIPT_BYTES + 1)
    parsed = importer.parse_manuscript(upload.filename, raw,
                                       max_chapter_chars=web.container.settings.max_text_chars)
    story = access.editable_story(web.db, story_id, me(web), for_update=True)
    result = importer.import_chapters(web.db, web.container.content_cipher, story, parsed)
    return web.redirect(f"/write/s/{story.id}?imported={len(result.created)}")


# --- the chapter editor ----------------------------------------------------------------------------
def _editor(web: Web, chapter_id: str, *, status: int = 200, preview: Markup | None = None,
            draft: dict[str, str] | None = None, notice: str = "") -> HTMLResponse:
    chapter, story = access.editable_chapter(web.db, chapter_id, me(web))
    text = texts.chapter_text(web.container.content_cipher, chapter)
    return render(web, "write_chapter.html", status, story=story, chapter=chapter,
                  text=draft["content"] if draft else text, title=draft["title"] if draft else chapter.title,
                  versions=chapters.list_versions(web.db, chapter), preview=preview, notice=notice,
                  published=chapter.status == ChapterStatus.published, max_chars=MAX_CHAPTER_CHARS)


@router.get("/write/c/{chapter_id}")
def editor(chapter_id: str, web: WebDep, done: str = "") -> Response:
    if (stop := gate(web)) is not None:
        return stop
    return _editor(web, chapter_id, notice=done[:20])


@router.post("/write/c/{chapter_id}")
async def save_chapter(chapter_id: str, request: Request, web: WebDep) -> Response:
    """Save (a draft's text is replaced; a published chapter's new text is registered first and becomes
    a new version, exactly as ``PUT /chapters/{id}``), or show the preview without saving."""
    if (stop := gate(web)) is not None:
        return stop
    data = await form(request)
    chapter, story = access.editable_chapter(web.db, chapter_id, me(web))
    title = field(data, "title", max_chars=300).strip()
    content = long_text(data, "content", max_chars=MAX_CHAPTER_CHARS)
    if field(data, "action", max_chars=20) == "preview":
        return _editor(web, chapter_id, preview=render_markdown(content),
                       draft={"title": title, "content": content})
    if not title or not content.strip():
        raise HTTPException(422, "A chapter needs a title and some text.")
    price = number(data, "price_coins", default=chapter.price_coins, maximum=MAX_PRICE_COINS)
    published = chapter.status == ChapterStatus.published
    chapters.update_chapter(web.db, web.container.content_cipher, chapter, story, actor=me(web),
                            registry=web.container.registry if published else None,
                            title=title, content=content, price_coins=price)
    return web.redirect(f"/write/c/{chapter.id}?done=saved")


@router.post("/write/c/{chapter_id}/autosave")
async def autosave(chapter_id: str, request: Request, web: WebDep) -> Response:
    """The editor's script saves an unpublished draft as the writer types (a published chapter's text
    changes only by an explicit save, since each change is a registration)."""
    if web.user is None:
        raise HTTPException(401, "Please sign in.")
    data = await form(request)
    chapter, story = access.editable_chapter(web.db, chapter_id, web.user)
    if chapter.status == ChapterStatus.published:
        raise HTTPException(409, "A published chapter is saved with the Save button.")
    content = long_text(data, "content", max_chars=MAX_CHAPTER_CHARS)
    title = field(data, "title", max_chars=300).strip() or None
    chapters.update_chapter(web.db, web.container.content_cipher, chapter, story, actor=web.user,
                            registry=None, title=title, content=content if content.strip() else None)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.post("/write/preview")
async def preview(request: Request, web: WebDep) -> Response:
    """The editor's live preview: the Markdown rendered as it will be read (a fragment)."""
    if web.user is None:
        raise HTTPException(401, "Please sign in.")
    data = await form(request)
    return HTMLResponse(str(render_markdown(long_text(data, "content", max_chars=MAX_CHAPTER_CHARS))))


@router.post("/write/c/{chapter_id}/publish")
def publish(chapter_id: str, web: WebDep) -> Response:
    """Register the text and publish; the editor then shows the certificate and its verification link."""
    if (stop := gate(web)) is not None:
        return stop
    chapter, story = access.editable_chapter(web.db, chapter_id, me(web))
    publishing.publish(web.db, web.container.content_cipher, web.container.registry, chapter, story,
                       actor_id=me(web).id)
    return web.redirect(f"/write/c/{chapter.id}?done=published")


@router.post("/write/c/{chapter_id}/schedule")
async def schedule(chapter_id: str, request: Request, web: WebDep) -> Response:
    if (stop := gate(web)) is not None:
        return stop
    data = await form(request)
    chapter, _ = access.editable_chapter(web.db, chapter_id, me(web))
    if data.get("cancel") == "1":
        publishing.unschedule(chapter)
    else:
        raw = field(data, "publish_at", max_chars=30).strip()
        try:
            when = datetime.fromisoformat(raw)
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        except ValueError:
            raise HTTPException(422, "Give the publish time as a date and time (UTC).") from None
        publishing.schedule(chapter, when)
    web.db.flush()
    return web.redirect(f"/write/c/{chapter.id}?done=scheduled")


@router.get("/write/c/{chapter_id}/v/{version}")
def version_page(chapter_id: str, version: int, web: WebDep) -> Response:
    """An earlier registered text, for its author (and admins) only (``GET /chapters/{id}/versions/{n}``)."""
    if (stop := gate(web)) is not None:
        return stop
    chapter, story = access.editable_chapter(web.db, chapter_id, me(web))
    row = chapters.get_version(web.db, chapter, version) if 0 < version < 1_000_000 else None
    if row is None:
        raise HTTPException(404, "No such version.")
    text = texts.version_text(web.container.content_cipher, row)
    return render(web, "write_version.html", story=story, chapter=chapter, version=row,
                  html=render_markdown(text))
