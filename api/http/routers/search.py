"""``GET /search``: full-text search over published stories."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.http.deps import SessionDep
from api.http.routers.stories import stories_out
from api.http.schemas.content import StoryPage
from content import search
from content.pagination import MAX_LIMIT

router = APIRouter(tags=["search"])


@router.get("/search", response_model=StoryPage)
def search_stories(
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Words to find.")],
    genre: str | None = None, language: str | None = None, cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> object:
    """Best matches first (title weighs most, then tags, then description); drafts never appear."""
    page = search.search_stories(session, q, genre=genre, language=language, cursor=cursor, limit=limit)
    return StoryPage(items=stories_out(session, page.items), next_cursor=page.next_cursor)
