"""product: stories' subscription-catalog flag; substring search for scripts written without spaces

Revision ID: 0008_product
Revises: 0007_fingerprint
Create Date: 2026-12-01 01:40:00

* ``stories.in_subscription`` (default true): active subscribers read the story's paid chapters.
* Search for CJK and other unspaced scripts: the word index (0003) sees ``最后的商队`` as one word, so
  ``商队`` never matched. Next to it, a substring index of the same text:

  - SQLite: FTS5 table ``fts_stories_grams`` with the ``trigram`` tokenizer, kept by triggers like
    ``fts_stories``; ``LIKE '%…%'`` on it uses the trigram index (from three characters on).
  - PostgreSQL: column ``fts_stories.plain`` (lower-cased title, tags, description) filled by the same
    refresh function, with a ``pg_trgm`` GIN index when the extension can be had (created in
    ``pg_catalog`` so every schema sees its operator class); without it the same query scans.
"""

# ruff: noqa: S608 — fixed DDL assembled from constants; no input reaches it.
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_product"
down_revision = "0007_fingerprint"
branch_labels = None
depends_on = None

_SQLITE_BODY = ("{p}.title || ' ' || (SELECT coalesce(group_concat(t.tag, ' '), '') FROM story_tags t "
                "WHERE t.story_id = {p}.id) || ' ' || coalesce({p}.description, '')")
_SQLITE_TAGS_BODY = (
    "(SELECT s.title || ' ' || (SELECT coalesce(group_concat(t.tag, ' '), '') FROM story_tags t "
    "WHERE t.story_id = s.id) || ' ' || coalesce(s.description, '') FROM stories s WHERE s.id = {sid})"
)
_SQLITE_UP = [
    "CREATE VIRTUAL TABLE fts_stories_grams USING fts5(story_id UNINDEXED, body, tokenize = 'trigram')",
    f"INSERT INTO fts_stories_grams (story_id, body) SELECT s.id, {_SQLITE_BODY.format(p='s')} FROM stories s",
    "CREATE TRIGGER fts_stories_grams_ai AFTER INSERT ON stories BEGIN "
    f"INSERT INTO fts_stories_grams (story_id, body) VALUES (NEW.id, {_SQLITE_BODY.format(p='NEW')}); END",
    "CREATE TRIGGER fts_stories_grams_au AFTER UPDATE OF title, description ON stories BEGIN "
    f"UPDATE fts_stories_grams SET body = {_SQLITE_BODY.format(p='NEW')} WHERE story_id = NEW.id; END",
    "CREATE TRIGGER fts_stories_grams_ad AFTER DELETE ON stories BEGIN "
    "DELETE FROM fts_stories_grams WHERE story_id = OLD.id; END",
    "CREATE TRIGGER fts_story_tags_grams_ai AFTER INSERT ON story_tags BEGIN "
    f"UPDATE fts_stories_grams SET body = {_SQLITE_TAGS_BODY.format(sid='NEW.story_id')} "
    "WHERE story_id = NEW.story_id; END",
    "CREATE TRIGGER fts_story_tags_grams_ad AFTER DELETE ON story_tags BEGIN "
    f"UPDATE fts_stories_grams SET body = {_SQLITE_TAGS_BODY.format(sid='OLD.story_id')} "
    "WHERE story_id = OLD.story_id; END",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS fts_story_tags_grams_ad",
    "DROP TRIGGER IF EXISTS fts_story_tags_grams_ai",
    "DROP TRIGGER IF EXISTS fts_stories_grams_ad",
    "DROP TRIGGER IF EXISTS fts_stories_grams_au",
    "DROP TRIGGER IF EXISTS fts_stories_grams_ai",
    "DROP TABLE IF EXISTS fts_stories_grams",
]

_PG_REFRESH = """CREATE OR REPLACE FUNCTION fts_stories_refresh(sid VARCHAR) RETURNS void LANGUAGE sql AS $$
    INSERT INTO fts_stories (story_id, document{plain_col})
    SELECT s.id,
           setweight(to_tsvector('english', s.title), 'A')
           || setweight(to_tsvector('english', coalesce(
                (SELECT string_agg(t.tag, ' ') FROM story_tags t WHERE t.story_id = s.id), '')), 'B')
           || setweight(to_tsvector('english', coalesce(s.description, '')), 'C')
           {plain_val}
    FROM stories s WHERE s.id = sid
    ON CONFLICT (story_id) DO UPDATE SET document = EXCLUDED.document{plain_set}
$$"""
_PG_PLAIN = (", lower(s.title || ' ' || coalesce((SELECT string_agg(t.tag, ' ') FROM story_tags t "
             "WHERE t.story_id = s.id), '') || ' ' || coalesce(s.description, ''))")
_PG_TRGM_INDEX = """DO $$
DECLARE ext_schema text;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NULL THEN
        BEGIN
            CREATE EXTENSION pg_trgm WITH SCHEMA pg_catalog;
            ext_schema := 'pg_catalog';
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm is not available: substring search runs without an index';
        END;
    END IF;
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX fts_stories_plain ON fts_stories USING GIN (plain %I.gin_trgm_ops)',
                       ext_schema);
    END IF;
END $$"""


def upgrade() -> None:
    # Not batch mode: rebuilding ``stories`` on SQLite would drop the search triggers of 0003.
    op.add_column("stories", sa.Column("in_subscription", sa.Boolean(), server_default=sa.true(), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE fts_stories ADD COLUMN plain TEXT NOT NULL DEFAULT ''")
        op.execute(_PG_REFRESH.format(plain_col=", plain", plain_val=_PG_PLAIN,
                                      plain_set=", plain = EXCLUDED.plain"))
        op.execute("SELECT fts_stories_refresh(id) FROM stories")
        op.execute(_PG_TRGM_INDEX)
    else:
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS fts_stories_plain")
        op.execute(_PG_REFRESH.format(plain_col="", plain_val="", plain_set=""))
        op.execute("ALTER TABLE fts_stories DROP COLUMN IF EXISTS plain")
    else:
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    # Not batch mode: rebuilding ``stories`` on SQLite would drop the search triggers of 0003.
    op.execute("ALTER TABLE stories DROP COLUMN in_subscription")
