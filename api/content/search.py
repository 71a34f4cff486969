"""Full-text search over published stories' titles, tags and descriptions.

The index is the table ``fts_stories``, kept current by database triggers written in the content
migration, so every writer (HTTP, CLI import, a SQL console) keeps it right:

* PostgreSQL: ``fts_stories(story_id, document tsvector)`` with a GIN index; the document weights the
  title A, tags B and description C under the ``english`` configuration; ranked by ``ts_rank_cd``.
* SQLite: an FTS5 table ``fts_stories(story_id UNINDEXED, title, tags, description)`` with the Porter
  stemmer; ranked by ``bm25`` with weights title 10, tags 5, description 2.

Chapter text is never indexed: it is encrypted at rest, and an index of it would be plaintext.

The query is reduced to its words (letters and digits), all required, the last one as a prefix, so user
input can never reach either engine's query syntax. Results are paged by an opaque offset cursor: ranked
order has no stable key to seek from.
"""

from __future__ import annotations

import re

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.content.pagination import MAX_OFFSET, Page, cursor_offset, encode_cursor
from api.models.content import Story

MAX_TERMS = 12
_TERM = re.compile(r"\w+", re.UNICODE)


def terms(query: str) -> list[str]:
    return [t.lower() for t in _TERM.findall(query)][:MAX_TERMS]


def _sqlite_match(words: list[str]) -> str:
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _pg_tsquery(words: list[str]) -> str:
    return " & ".join([*words[:-1], words[-1] + ":*"])


_SQLITE = """
SELECT s.id FROM fts_stories JOIN stories s ON s.id = fts_stories.story_id
WHERE fts_stories MATCH :match AND s.status != 'draft' {filters}
ORDER BY bm25(fts_stories, 0.0, 10.0, 5.0, 2.0), s.published_at DESC, s.id
LIMIT :limit OFFSET :offset
"""

_POSTGRES = """
SELECT s.id FROM fts_stories f JOIN stories s ON s.id = f.story_id,
     to_tsquery('english', :tsq) AS q
WHERE f.document @@ q AND s.status != 'draft' {filters}
ORDER BY ts_rank_cd(f.document, q) DESC, s.published_at DESC, s.id
LIMIT :limit OFFSET :offset
"""


def search_stories(
    session: Session, query: str, *, genre: str | None = None, language: str | None = None,
    cursor: str | None = None, limit: int = 20,
) -> Page[Story]:
    words = terms(query)
    if not words:
        return Page([], None)
    offset = cursor_offset(cursor)
    params: dict[str, object] = {"limit": limit + 1, "offset": offset}
    filters = ""
    if genre:
        filters += " AND lower(s.genre) = :genre"
        params["genre"] = genre.lower()
    if language:
        filters += " AND lower(s.language) = :language"
        params["language"] = language.lower()
    if session.get_bind().dialect.name == "postgresql":
        sql, params["tsq"] = _POSTGRES, _pg_tsquery(words)
    else:
        sql, params["match"] = _SQLITE, _sqlite_match(words)
    ids = list(session.scalars(text(sql.format(filters=filters)), params))
    more = len(ids) > limit and offset + limit <= MAX_OFFSET
    ids = ids[:limit]
    by_id = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(ids)))} if ids else {}
    stories = [by_id[i] for i in ids if i in by_id]
    return Page(stories, encode_cursor({"o": offset + limit}) if more else None)
