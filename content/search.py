"""Full-text search over published stories' titles, tags and descriptions.

The index is the table ``fts_stories``, kept current by database triggers written in the content
migration, so every writer (HTTP, CLI import, a SQL console) keeps it right:

* PostgreSQL: ``fts_stories(story_id, document tsvector)`` with a GIN index; the document weights the
  title A, tags B and description C under the ``english`` configuration; ranked by ``ts_rank_cd``.
* SQLite: an FTS5 table ``fts_stories(story_id UNINDEXED, title, tags, description)`` with the Porter
  stemmer; ranked by ``bm25`` with weights title 10, tags 5, description 2.

Chapter text is never indexed: it is encrypted at rest, and an index of it would be plaintext.

Scripts written without spaces between words (Chinese, Japanese, Thai…) defeat a word index: the title
``最后的商队`` is one "word", so ``商队`` would only find whole titles. A query word in such a script is
therefore matched as a substring of the title, tags and description instead, through the substring
index of migration 0006 (SQLite: FTS5 ``trigram`` table ``fts_stories_grams``; PostgreSQL:
``fts_stories.plain`` with a ``pg_trgm`` index).

The query is reduced to its words (letters and digits), all required, the last one as a prefix, so user
input can never reach either engine's query syntax (a substring word holds only letters of its script,
so it carries no ``LIKE`` wildcard either). Only stories with a published chapter are found, as in the
public story list. Results are paged by an opaque offset cursor: ranked order has no stable key to seek
from.
"""

from __future__ import annotations

import re

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from content.models.stories import Story
from content.pagination import MAX_OFFSET, Page, cursor_offset, encode_cursor

MAX_TERMS = 12
_TERM = re.compile(r"\w+", re.UNICODE)
# Scripts without spaces between words: Thai, Lao, Myanmar, Khmer, CJK radicals to Yi, Hangul, CJK
# compatibility ideographs, half-width forms, and the supplementary ideograph planes.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0003ffff]"
)


def terms(query: str) -> list[str]:
    return [t.lower() for t in _TERM.findall(query)][:MAX_TERMS]


def split_terms(words: list[str]) -> tuple[list[str], list[str]]:
    """(words for the word index, runs of unspaced scripts matched as substrings). A mixed token such
    as ``商队2`` is split into its two parts."""
    indexed: list[str] = []
    grams: list[str] = []
    for word in words:
        for part in re.findall(f"{_UNSPACED.pattern}+|[^{_UNSPACED.pattern[1:-1]}]+", word):
            (grams if _UNSPACED.match(part) else indexed).append(part)
    return indexed, grams


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

_SQLITE_GRAMS_ONLY = """
SELECT s.id FROM stories s
WHERE s.status != 'draft' {filters}
ORDER BY s.published_at DESC, s.id
LIMIT :limit OFFSET :offset
"""

_POSTGRES = """
SELECT s.id FROM fts_stories f JOIN stories s ON s.id = f.story_id,
     to_tsquery('english', :tsq) AS q
WHERE f.document @@ q AND s.status != 'draft' {filters}
ORDER BY ts_rank_cd(f.document, q) DESC, s.published_at DESC, s.id
LIMIT :limit OFFSET :offset
"""

_POSTGRES_GRAMS_ONLY = """
SELECT s.id FROM fts_stories f JOIN stories s ON s.id = f.story_id
WHERE s.status != 'draft' {filters}
ORDER BY s.published_at DESC, s.id
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
    # Like the public story list: a story with nothing published has nothing to read yet.
    filters = (" AND EXISTS (SELECT 1 FROM chapters c WHERE c.story_id = s.id"
               " AND c.status = 'published')")
    postgres = session.get_bind().dialect.name == "postgresql"
    words, grams = split_terms(words)
    for n, gram in enumerate(grams):
        # Only the parameter's name is formatted in; the user's text is bound. SQLite's trigram index
        # answers LIKE from three characters on and finds nothing below that, so shorter words (商队)
        # are looked for with instr() over the same table instead.
        params[f"g{n}"] = f"%{gram}%" if postgres or len(gram) >= 3 else gram
        match = f"f.plain LIKE :g{n}" if postgres else (
            f"body LIKE :g{n}" if len(gram) >= 3 else f"instr(body, :g{n}) > 0")
        filters += f" AND {match}" if postgres else \
            f" AND s.id IN (SELECT story_id FROM fts_stories_grams WHERE {match})"  # noqa: S608
    if genre:
        filters += " AND lower(s.genre) = :genre"
        params["genre"] = genre.lower()
    if language:
        filters += " AND lower(s.language) = :language"
        params["language"] = language.lower()
    if not words:
        sql = _POSTGRES_GRAMS_ONLY if postgres else _SQLITE_GRAMS_ONLY
    elif postgres:
        sql, params["tsq"] = _POSTGRES, _pg_tsquery(words)
    else:
        sql, params["match"] = _SQLITE, _sqlite_match(words)
    ids = list(session.scalars(text(sql.format(filters=filters)), params))
    more = len(ids) > limit and offset + limit <= MAX_OFFSET
    ids = ids[:limit]
    by_id = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(ids)))} if ids else {}
    stories = [by_id[i] for i in ids if i in by_id]
    return Page(stories, encode_cursor({"o": offset + limit}) if more else None)
