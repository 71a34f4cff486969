"""The reader: ``/s/{story_id}/{number}`` and what a reader does there (unlock, comment, tip, progress).

Whether the text is on the page is decided by ``access.can_read_chapter``, the JSON API's own rule; a
page that carries the text says so in ``X-Legato-Offline: 1``, and only such a page may be kept by the
"Save for offline" button and the service worker. The text itself is never logged.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.web import i18n
from api.web.core import (
    Chapter,
    CommentIn,
    ProgressIn,
    Role,
    Story,
    User,
    access,
    community,
    error_status,
    reading,
    texts,
)
from api.web.pages import PageRoute, Posted, Web, WebDep, field

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Number = Annotated[int, Path(ge=1, le=1_000_000)]
NOTICES = {
    "unlocked": "Chapter unlocked.",
    "funds": "Not enough coins. Buy coins in your library, then unlock.",
    "tipped": "Thank you! Your tip was sent.",
    "tip-failed": "The tip could not be sent.",
    "commented": "Comment posted.",
    "comment-failed": "The comment could not be posted.",
}


def find_chapter(web: Web, story_id: str, number: int) -> tuple[Chapter, Story]:
    """The chapter by its number, if this person may see it (a 404 page otherwise, as the API says)."""
    chapter_id = web.db.scalar(select(Chapter.id).where(Chapter.story_id == story_id[:64],
                                                        Chapter.number == number))
    if chapter_id is None:
        raise HTTPException(404)
    return access.visible_chapter(web.db, chapter_id, web.user)


def _neighbour(web: Web, story: Story, number: int, step: int) -> int | None:
    order = Chapter.number.asc() if step > 0 else Chapter.number.desc()
    cmp = Chapter.number > number if step > 0 else Chapter.number < number
    q = select(Chapter).where(Chapter.story_id == story.id, cmp).order_by(order).limit(5)
    for c in web.db.scalars(q):
        if access.chapter_visible(web.user, story, c):
            return c.number
    return None


def paragraphs(text: str) -> list[str]:
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n")]
    return [b for b in blocks if b]


@router.get("/s/{story_id}/{number}")
def reader_page(story_id: str, number: Number, web: WebDep, notice: str | None = None) -> Response:
    chapter, story = find_chapter(web, story_id, number)
    readable = access.can_read_chapter(web.db, web.container.read_grants, web.user, chapter)
    text = texts.chapter_text(web.container.content_cipher, chapter) if readable else None
    coins = None
    if web.user is not None and not readable:
        coins = web.container.coins.wallet(web.db, web.user.id, limit=1).coins
    grants = web.container.read_grants
    page = (community.list_comments(web.db, grants, web.user, chapter, cursor=None, limit=20)
            if readable else None)
    authors = community.comment_authors(web.db, page.items) if page else {}
    author = web.db.get(User, story.author_id)
    text_lang = (story.language or "").split("-")[0].lower()
    response = web.render(
        "reader.html", story=story, chapter=chapter, author=author, readable=readable,
        paragraphs=paragraphs(text) if text is not None else [], coins=coins,
        comments=page.items if page else [], comment_authors=authors,
        prev_number=_neighbour(web, story, number, -1), next_number=_neighbour(web, story, number, 1),
        text_lang=text_lang or None, text_rtl=bool(text_lang) and i18n.is_rtl(text_lang),
        notice=web._(NOTICES[notice]) if notice in NOTICES else None,
        tip_key=secrets.token_hex(16), can_tip=bool(web.user and author and author.role == Role.writer
                                                     and author.id != web.user.id))
    if readable:
        response.headers["X-Legato-Offline"] = "1"
    return response


def _back(story: Story, chapter: Chapter, notice: str) -> str:
    return f"/s/{story.id}/{chapter.number}?notice={notice}"


@router.post("/s/{story_id}/{number}/unlock")
def unlock(story_id: str, number: Number, web: WebDep) -> Response:
    """Pay the chapter's price once, exactly as ``POST /chapters/{id}/unlock`` (subscribers read the
    catalog without paying)."""
    if web.user is None:
        return web.login_first()
    chapter, story = find_chapter(web, story_id, number)
    if access.can_read_chapter(web.db, web.container.read_grants, web.user, chapter):
        return web.redirect(f"/s/{story.id}/{chapter.number}")
    try:
        web.container.unlocks.unlock(web.db, reader_id=web.user.id, writer_id=story.author_id,
                                     chapter_id=chapter.id, price_coins=chapter.price_coins)
    except Exception as e:
        known = error_status(e)
        if known is not None and known[1] == "INSUFFICIENT_FUNDS":
            return web.redirect(_back(story, chapter, "funds"))
        raise
    return web.redirect(_back(story, chapter, "unlocked"))


@router.post("/s/{story_id}/{number}/comments")
def comment(story_id: str, number: Number, request: Request, data: Posted, web: WebDep) -> Response:
    if web.user is None:
        return web.login_first()
    chapter, story = find_chapter(web, story_id, number)
    try:
        body = CommentIn(body=field(data, "body", max_chars=5000).strip(),
                         parent_id=field(data, "parent_id", max_chars=36) or None)
    except ValidationError:
        return web.redirect(_back(story, chapter, "comment-failed"))
    community.add_comment(web.db, web.container.read_grants, web.user, chapter, story, body=body.body,
                          parent_id=body.parent_id)
    return web.redirect(_back(story, chapter, "commented") + "#comments")


@router.post("/s/{story_id}/{number}/tip")
def tip(story_id: str, number: Number, request: Request, data: Posted, web: WebDep) -> Response:
    if web.user is None:
        return web.login_first()
    chapter, story = find_chapter(web, story_id, number)
    coins = field(data, "coins", max_chars=7)
    writer = web.db.get(User, story.author_id)
    if not coins.isdigit() or not 0 < int(coins) <= 1_000_000 or writer is None or writer.role != Role.writer:
        return web.redirect(_back(story, chapter, "tip-failed"))
    key = field(data, "idempotency_key", max_chars=64) or None
    try:
        web.container.tips.tip(web.db, tipper_id=web.user.id, writer_id=writer.id, coins=int(coins),
                               message=field(data, "message", max_chars=500) or None, idempotency_key=key)
    except Exception as e:
        if error_status(e) is None:
            raise
        return web.redirect(_back(story, chapter, "funds" if error_status(e)[1] == "INSUFFICIENT_FUNDS"
                                  else "tip-failed"))
    return web.redirect(_back(story, chapter, "tipped"))


@router.post("/s/{story_id}/{number}/progress")
def progress(story_id: str, number: Number, request: Request, data: Posted, web: WebDep) -> Response:
    """Sent by the page's script (also later, once a phone that read offline is back online)."""
    if web.user is None:
        return Response(status_code=401)
    try:
        body = ProgressIn(percentage=float(field(data, "percentage", max_chars=10) or "0"),
                          seconds=int(field(data, "seconds", max_chars=10) or "0"))
    except (ValueError, ValidationError):
        return Response(status_code=422)
    chapter, story = find_chapter(web, story_id, number)
    if not access.can_read_chapter(web.db, web.container.read_grants, web.user, chapter):
        return Response(status_code=403)
    reading.record_progress(web.db, web.user, chapter, story, percentage=body.percentage,
                            seconds=body.seconds)
    return Response(status_code=204)
