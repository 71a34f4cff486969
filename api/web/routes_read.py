"""Finding stories: ``/`` discover, ``/search``, ``/s/{story_id}``, ``/u/{username}``, ``/library``.

Every list goes through the content services' own visibility rules (``stories.list_stories``,
``search.search_stories``, ``access.visible_story``), so a page shows exactly what the JSON API would
show the same person: drafts only to their author, nothing of a story with nothing published.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import and_, exists, func, select
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from api.web.core import (
    Chapter,
    ChapterStatus,
    Follow,
    LibraryEntry,
    ReadingProgress,
    Story,
    StoryStatus,
    User,
    access,
    chapters,
    community,
    reading,
    search,
    social,
    stories,
)
from api.web.pages import HtmlOnlyRoute, PageRoute, Posted, Web, WebDep, field

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Short = Annotated[str | None, Query(max_length=50)]


def cards(web: Web, items: list[Story]) -> list[dict[str, object]]:
    """What a story card shows, with chapter counts and ratings fetched for the whole list at once."""
    stats = stories.stats_for(web.db, [s.id for s in items])
    authors = stories.authors_for(web.db, items)
    return [{"story": s, "stats": stats[s.id], "author": authors.get(s.author_id)} for s in items]


def _readable():  # type: ignore[no-untyped-def]
    """The public story list's rule: not a draft, and something published to read."""
    return and_(Story.status != StoryStatus.draft, exists().where(
        Chapter.story_id == Story.id, Chapter.status == ChapterStatus.published))


def _popular(web: Web, limit: int = 6) -> list[Story]:
    """Most readers first (distinct people with reading progress), then newest."""
    n = func.count(func.distinct(ReadingProgress.reader_id)).label("n")
    readers = select(ReadingProgress.story_id, n).group_by(ReadingProgress.story_id).subquery()
    q = (select(Story).join(readers, readers.c.story_id == Story.id).where(_readable())
         .order_by(readers.c.n.desc(), Story.created_at.desc()).limit(limit))
    return list(web.db.scalars(q))


def _facets(web: Web, column):  # type: ignore[no-untyped-def]
    q = (select(column, func.count()).where(_readable(), column.is_not(None))
         .group_by(column).order_by(func.count().desc()).limit(12))
    return [(value, n) for value, n in web.db.execute(q) if value]


@router.get("/")
def discover(web: WebDep, genre: Short = None, language: Short = None) -> Response:
    new = stories.list_stories(web.db, None, genre=genre, language=language, limit=8).items
    completed = stories.list_stories(web.db, None, status=StoryStatus.completed, genre=genre,
                                     language=language, limit=6).items
    popular = [] if genre or language else _popular(web)
    return web.render("discover.html", new=cards(web, new), popular=cards(web, popular),
                      completed=cards(web, completed), genres=_facets(web, Story.genre),
                      langs=_facets(web, Story.language), genre=genre, language=language)


def search_page(web: WebDep, q: Annotated[str, Query(max_length=200)] = "", genre: Short = None,
                language: Short = None, cursor: Annotated[str | None, Query(max_length=200)] = None,
                ) -> Response:
    found = search.search_stories(web.db, q, genre=genre, language=language, cursor=cursor, limit=20) \
        if q.strip() else None
    return web.render("search.html", q=q, results=cards(web, found.items) if found else None,
                      next_cursor=found.next_cursor if found else None, genre=genre, language=language)


# /search is also the JSON API's: a browser gets this page, other clients the JSON.
router.add_api_route("/search", search_page, methods=["GET"], route_class_override=HtmlOnlyRoute)


@router.get("/s/{story_id}")
def story_page(story_id: str, web: WebDep) -> Response:
    story = access.visible_story(web.db, story_id[:64], web.user)
    editor = access.can_edit_story(web.user, story)
    items = chapters.list_chapters(web.db, story, include_unpublished=editor)
    grants = web.container.read_grants
    rows = [{"chapter": c, "locked": not access.can_read_chapter(web.db, grants, web.user, c)} for c in items]
    author = web.db.get(User, story.author_id)
    saved = web.user is not None and web.db.get(LibraryEntry, (web.user.id, story.id)) is not None
    following = _follows(web, author)
    return web.render("story.html", story=story, stats=stories.stats_for(web.db, [story.id])[story.id],
                      author=author, chapters=rows, own_rating=community.own_rating(web.db, web.user, story),
                      saved=saved, following=following, tags=[t.tag for t in story.tag_rows])


@router.post("/s/{story_id}/library")
def save_story(story_id: str, request: Request, data: Posted, web: WebDep) -> Response:
    if web.user is None:
        return web.login_first()
    story = access.visible_story(web.db, story_id[:64], web.user)
    if data.get("action") == "remove":
        reading.remove_from_library(web.db, web.user, story.id)
    else:
        reading.add_to_library(web.db, web.user, story)
    return web.redirect(f"/s/{story.id}")


@router.post("/s/{story_id}/rating")
def rate_story(story_id: str, request: Request, data: Posted, web: WebDep) -> Response:
    if web.user is None:
        return web.login_first()
    stars = field(data, "stars", max_chars=2)
    if stars not in {"1", "2", "3", "4", "5"}:
        return web.redirect(f"/s/{story_id[:64]}")
    story = access.visible_story(web.db, story_id[:64], web.user)
    community.rate(web.db, web.user, story, int(stars))
    return web.redirect(f"/s/{story.id}")


def _follows(web: Web, person: User | None) -> bool:
    return (web.user is not None and person is not None
            and web.db.get(Follow, (web.user.id, person.id)) is not None)


@router.get("/u/{username}")
def author_page(username: str, web: WebDep) -> Response:
    person = web.db.scalar(select(User).where(func.lower(User.username) == username[:40].lower()))
    if person is None or not person.is_active:
        raise HTTPException(404)
    items = stories.list_stories(web.db, web.user, author=person.id, limit=50).items
    following = _follows(web, person)
    return web.render("author.html", person=person, stories=cards(web, items), following=following)


@router.post("/u/{username}/follow")
def follow(username: str, request: Request, data: Posted, web: WebDep) -> Response:
    if web.user is None:
        return web.login_first()
    person = web.db.scalar(select(User).where(func.lower(User.username) == username[:40].lower()))
    if person is None:
        return web.redirect("/")
    if data.get("action") == "unfollow":
        social.unfollow(web.db, web.user, person.id)
    else:
        social.follow(web.db, web.user, person.id)
    back = field(data, "next", max_chars=200)
    return web.redirect(back if back.startswith("/s/") else f"/u/{person.username}")


@router.get("/library")
def library_page(web: WebDep) -> Response:
    if web.user is None:
        return web.login_first()
    saved = [s for _, s in reading.library(web.db, web.user, cursor=None, limit=50).items]
    history = reading.history(web.db, web.user, cursor=None, limit=20).items
    marks = reading.bookmarks(web.db, web.user, cursor=None, limit=20).items
    wallet = web.container.coins.wallet(web.db, web.user.id, limit=1)
    return web.render("library.html", saved=cards(web, saved), history=history, bookmarks=marks,
                      coins=wallet.coins, packages=web.container.coins.packages())


@router.post("/library/coins")
def buy_coins(request: Request, data: Posted, web: WebDep) -> Response:
    """Start a coin checkout through the configured gateway (Stripe Checkout, or the embedded test
    gateway's confirm page) and send the browser there."""
    if web.user is None:
        return web.login_first()
    package_id = field(data, "package_id", max_chars=64)
    order = web.container.coins.order(package_id)
    checkout = web.container.payments.start_checkout(web.db, user_id=web.user.id, order=order)
    web.db.commit()  # the gateway's page must find the checkout
    url = checkout.checkout_url or "/library"
    if url.startswith(("http://", "https://", "/")):
        return RedirectResponse(url, status_code=303)
    return web.redirect("/library")


@router.get("/offline")
def offline(web: WebDep) -> Response:
    """What the service worker shows for a page it does not hold when there is no network."""
    return web.render("offline.html")
