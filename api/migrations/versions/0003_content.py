"""content: stories, chapters (encrypted text) and versions, reading, community, and the story search index

The search index ``fts_stories`` is not a model: it is kept by triggers, so every writer keeps it current.
PostgreSQL gets a tsvector table with a GIN index (title A, tags B, description C, ``english``);
SQLite an FTS5 table with the Porter stemmer. Chapter text is never indexed (it is encrypted at rest).

Revision ID: 0003_content
Revises: 0002_ledger
Create Date: 2026-11-22 00:23:36.122481
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0003_content"
down_revision = "0002_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.String(length=36), nullable=False),
        sa.Column("blocked_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocked_id"], ["users.id"], name=op.f("fk_blocks_blocked_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["blocker_id"], ["users.id"], name=op.f("fk_blocks_blocker_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_blocks")),
    )
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocks_blocked_id"), ["blocked_id"], unique=False)

    op.create_table(
        "follows",
        sa.Column("follower_id", sa.String(length=36), nullable=False),
        sa.Column("followee_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["followee_id"], ["users.id"], name=op.f("fk_follows_followee_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"], ["users.id"], name=op.f("fk_follows_follower_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_follows")),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_followee_id"), ["followee_id"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reporter_id", sa.String(length=36), nullable=False),
        sa.Column(
            "target_type",
            sa.Enum("story", "chapter", "comment", "user", name="reporttarget", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "spam",
                "harassment",
                "hate",
                "sexual_content",
                "violence",
                "plagiarism",
                "other",
                name="reportreason",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "actioned", "dismissed", name="reportstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=36), nullable=True),
        sa.Column("resolved_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_reports_reporter_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_reports_resolved_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index("ix_reports_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index("ix_reports_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "stories",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("genre", sa.String(length=50), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("cover_image_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "content_rating",
            sa.Enum("everyone", "teen", "mature", name="contentrating", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "ongoing", "completed", "hiatus", name="storystatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_stories_author_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.create_index("ix_stories_author_created", ["author_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_stories_genre"), ["genre"], unique=False)
        batch_op.create_index(batch_op.f("ix_stories_language"), ["language"], unique=False)
        batch_op.create_index("ix_stories_status_created", ["status", "created_at", "id"], unique=False)

    op.create_table(
        "chapters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "scheduled",
                "published",
                "publish_failed",
                name="chapterstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("price_coins", sa.Integer(), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("publish_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("publish_error", sa.Text(), nullable=True),
        sa.Column("publish_attempts", sa.Integer(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.String(length=36), nullable=True),
        sa.Column("certificate_id", sa.String(length=36), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_chapters_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapters")),
        sa.UniqueConstraint("story_id", "number", name="uq_chapters_story_number"),
    )
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chapters_certificate_id"), ["certificate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chapters_key_id"), ["key_id"], unique=False)
        batch_op.create_index("ix_chapters_status_publish_at", ["status", "publish_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_chapters_story_id"), ["story_id"], unique=False)

    op.create_table(
        "library_entries",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("added_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_library_entries_story_id_stories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_library_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "story_id", name=op.f("pk_library_entries")),
    )
    op.create_table(
        "ratings",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_ratings_stars_range")),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_ratings_story_id_stories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ratings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "story_id", name=op.f("pk_ratings")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_story_id"), ["story_id"], unique=False)

    op.create_table(
        "story_tags",
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_tags_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("story_id", "tag", name=op.f("pk_story_tags")),
    )
    with op.batch_alter_table("story_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "bookmarks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("chapter_id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Float(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"], ["chapters.id"], name=op.f("fk_bookmarks_chapter_id_chapters"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_bookmarks_story_id_stories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bookmarks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmarks")),
        sa.UniqueConstraint("user_id", "chapter_id", name="uq_bookmarks_user_chapter"),
    )
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookmarks_user_id"), ["user_id"], unique=False)

    op.create_table(
        "chapter_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("chapter_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("registration_id", sa.String(length=36), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("work_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_chapter_versions_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_chapter_versions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapter_versions")),
        sa.UniqueConstraint("chapter_id", "version", name="uq_chapter_versions_chapter_version"),
    )
    with op.batch_alter_table("chapter_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chapter_versions_chapter_id"), ["chapter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chapter_versions_key_id"), ["key_id"], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("chapter_id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("is_pinned", sa.Boolean(), nullable=False),
        sa.Column("pinned_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("edited_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by_moderator", sa.Boolean(), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_comments_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["chapter_id"], ["chapters.id"], name=op.f("fk_comments_chapter_id_chapters"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["comments.id"], name=op.f("fk_comments_parent_id_comments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_comments_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            "ix_comments_chapter_parent_created", ["chapter_id", "parent_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_comments_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_story_id"), ["story_id"], unique=False)

    op.create_table(
        "reading_days",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reader_id", sa.String(length=36), nullable=False),
        sa.Column("writer_id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("chapter_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_reading_days_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["users.id"], name=op.f("fk_reading_days_reader_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_reading_days_story_id_stories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["writer_id"], ["users.id"], name=op.f("fk_reading_days_writer_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_days")),
        sa.UniqueConstraint("reader_id", "chapter_id", "day", name="uq_reading_days_reader_chapter_day"),
    )
    with op.batch_alter_table("reading_days", schema=None) as batch_op:
        batch_op.create_index("ix_reading_days_day_reader", ["day", "reader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_days_writer_id"), ["writer_id"], unique=False)

    op.create_table(
        "reading_progress",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reader_id", sa.String(length=36), nullable=False),
        sa.Column("chapter_id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("percentage", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("first_read_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_read_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_reading_progress_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["users.id"], name=op.f("fk_reading_progress_reader_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_reading_progress_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_progress")),
        sa.UniqueConstraint("reader_id", "chapter_id", name="uq_reading_progress_reader_chapter"),
    )
    with op.batch_alter_table("reading_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reading_progress_chapter_id"), ["chapter_id"], unique=False)
        batch_op.create_index("ix_reading_progress_reader_last", ["reader_id", "last_read_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_progress_story_id"), ["story_id"], unique=False)
    _create_search_index()


def downgrade() -> None:
    _drop_search_index()
    with op.batch_alter_table("reading_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_progress_story_id"))
        batch_op.drop_index("ix_reading_progress_reader_last")
        batch_op.drop_index(batch_op.f("ix_reading_progress_chapter_id"))

    op.drop_table("reading_progress")
    with op.batch_alter_table("reading_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_days_writer_id"))
        batch_op.drop_index("ix_reading_days_day_reader")

    op.drop_table("reading_days")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_story_id"))
        batch_op.drop_index(batch_op.f("ix_comments_parent_id"))
        batch_op.drop_index("ix_comments_chapter_parent_created")
        batch_op.drop_index(batch_op.f("ix_comments_author_id"))

    op.drop_table("comments")
    with op.batch_alter_table("chapter_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapter_versions_key_id"))
        batch_op.drop_index(batch_op.f("ix_chapter_versions_chapter_id"))

    op.drop_table("chapter_versions")
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookmarks_user_id"))

    op.drop_table("bookmarks")
    with op.batch_alter_table("story_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_tags_tag"))

    op.drop_table("story_tags")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_story_id"))

    op.drop_table("ratings")
    op.drop_table("library_entries")
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapters_story_id"))
        batch_op.drop_index("ix_chapters_status_publish_at")
        batch_op.drop_index(batch_op.f("ix_chapters_key_id"))
        batch_op.drop_index(batch_op.f("ix_chapters_certificate_id"))

    op.drop_table("chapters")

    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index("ix_stories_status_created")
        batch_op.drop_index(batch_op.f("ix_stories_language"))
        batch_op.drop_index(batch_op.f("ix_stories_genre"))
        batch_op.drop_index("ix_stories_author_created")

    op.drop_table("stories")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_target")
        batch_op.drop_index("ix_reports_status_created")
        batch_op.drop_index(batch_op.f("ix_reports_reporter_id"))

    op.drop_table("reports")

    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follows_followee_id"))

    op.drop_table("follows")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocks_blocked_id"))

    op.drop_table("blocks")


_SQLITE_UP = [
    "CREATE VIRTUAL TABLE fts_stories USING fts5("
    "story_id UNINDEXED, title, tags, description, tokenize = 'porter unicode61 remove_diacritics 2')",
    "INSERT INTO fts_stories (story_id, title, tags, description) "
    "SELECT s.id, s.title, (SELECT coalesce(group_concat(t.tag, ' '), '') FROM story_tags t "
    "WHERE t.story_id = s.id), coalesce(s.description, '') FROM stories s",
    "CREATE TRIGGER fts_stories_ai AFTER INSERT ON stories BEGIN "
    "INSERT INTO fts_stories (story_id, title, tags, description) VALUES (NEW.id, NEW.title, "
    "(SELECT coalesce(group_concat(tag, ' '), '') FROM story_tags WHERE story_id = NEW.id), "
    "coalesce(NEW.description, '')); END",
    "CREATE TRIGGER fts_stories_au AFTER UPDATE OF title, description ON stories BEGIN "
    "UPDATE fts_stories SET title = NEW.title, description = coalesce(NEW.description, '') "
    "WHERE story_id = NEW.id; END",
    "CREATE TRIGGER fts_stories_ad AFTER DELETE ON stories BEGIN "
    "DELETE FROM fts_stories WHERE story_id = OLD.id; END",
    "CREATE TRIGGER fts_story_tags_ai AFTER INSERT ON story_tags BEGIN "
    "UPDATE fts_stories SET tags = (SELECT coalesce(group_concat(tag, ' '), '') FROM story_tags "
    "WHERE story_id = NEW.story_id) WHERE story_id = NEW.story_id; END",
    "CREATE TRIGGER fts_story_tags_ad AFTER DELETE ON story_tags BEGIN "
    "UPDATE fts_stories SET tags = (SELECT coalesce(group_concat(tag, ' '), '') FROM story_tags "
    "WHERE story_id = OLD.story_id) WHERE story_id = OLD.story_id; END",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS fts_story_tags_ad",
    "DROP TRIGGER IF EXISTS fts_story_tags_ai",
    "DROP TRIGGER IF EXISTS fts_stories_ad",
    "DROP TRIGGER IF EXISTS fts_stories_au",
    "DROP TRIGGER IF EXISTS fts_stories_ai",
    "DROP TABLE IF EXISTS fts_stories",
]

_PG_UP = [
    "CREATE TABLE fts_stories ("
    "story_id VARCHAR(36) PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE, document TSVECTOR NOT NULL)",
    "CREATE INDEX fts_stories_document ON fts_stories USING GIN (document)",
    """CREATE FUNCTION fts_stories_refresh(sid VARCHAR) RETURNS void LANGUAGE sql AS $$
        INSERT INTO fts_stories (story_id, document)
        SELECT s.id,
               setweight(to_tsvector('english', s.title), 'A')
               || setweight(to_tsvector('english', coalesce(
                    (SELECT string_agg(t.tag, ' ') FROM story_tags t WHERE t.story_id = s.id), '')), 'B')
               || setweight(to_tsvector('english', coalesce(s.description, '')), 'C')
        FROM stories s WHERE s.id = sid
        ON CONFLICT (story_id) DO UPDATE SET document = EXCLUDED.document
    $$""",
    """CREATE FUNCTION fts_stories_on_story() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM fts_stories_refresh(NEW.id); RETURN NULL; END
    $$""",
    """CREATE FUNCTION fts_stories_on_tag() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN PERFORM fts_stories_refresh(OLD.story_id); END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM fts_stories_refresh(NEW.story_id); END IF;
            RETURN NULL;
        END
    $$""",
    "CREATE TRIGGER fts_stories_story AFTER INSERT OR UPDATE OF title, description ON stories "
    "FOR EACH ROW EXECUTE FUNCTION fts_stories_on_story()",
    "CREATE TRIGGER fts_stories_tag AFTER INSERT OR UPDATE OR DELETE ON story_tags "
    "FOR EACH ROW EXECUTE FUNCTION fts_stories_on_tag()",
    "SELECT fts_stories_refresh(id) FROM stories",
]
_PG_DOWN = [
    "DROP TRIGGER IF EXISTS fts_stories_tag ON story_tags",
    "DROP TRIGGER IF EXISTS fts_stories_story ON stories",
    "DROP FUNCTION IF EXISTS fts_stories_on_tag()",
    "DROP FUNCTION IF EXISTS fts_stories_on_story()",
    "DROP FUNCTION IF EXISTS fts_stories_refresh(VARCHAR)",
    "DROP TABLE IF EXISTS fts_stories",
]


def _create_search_index() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _PG_UP if dialect == "postgresql" else _SQLITE_UP:
        op.execute(statement)


def _drop_search_index() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _PG_DOWN if dialect == "postgresql" else _SQLITE_DOWN:
        op.execute(statement)
