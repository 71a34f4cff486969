"""speech: a story's narrator and each chapter's audio (job and files in one row)

Revision ID: 0010_speech
Revises: 0009_translation
Create Date: 2026-12-01 04:04:15

See ``ai/speech/models.py`` for why the job and its result share the ``chapter_audio`` row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0010_speech"
down_revision = "0009_translation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_narrations",
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("voice", sa.String(length=64), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("updated_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_story_narrations_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_story_narrations")),
    )
    op.create_table(
        "chapter_audio",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("chapter_id", sa.String(length=36), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "ready",
                "failed",
                "cancelled",
                name="audiostatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("voice", sa.String(length=64), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("chapter_revision", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=36), nullable=True),
        sa.Column("lease_until", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("spoken_revision", sa.Integer(), nullable=True),
        sa.Column("spoken_voice", sa.String(length=64), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("sentences", sa.Integer(), nullable=True),
        sa.Column("loudness_lufs", sa.Float(), nullable=True),
        sa.Column("opus_key", sa.String(length=200), nullable=True),
        sa.Column("opus_bytes", sa.Integer(), nullable=True),
        sa.Column("opus_sha256", sa.String(length=64), nullable=True),
        sa.Column("mp3_key", sa.String(length=200), nullable=True),
        sa.Column("mp3_bytes", sa.Integer(), nullable=True),
        sa.Column("mp3_sha256", sa.String(length=64), nullable=True),
        sa.Column("sync_key", sa.String(length=200), nullable=True),
        sa.Column("finished_at", registry.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_chapter_audio_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_chapter_audio_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_chapter_audio_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapter_audio")),
    )
    with op.batch_alter_table("chapter_audio", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chapter_audio_chapter_id"), ["chapter_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_chapter_audio_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_chapter_audio_story_id"), ["story_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chapter_audio", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapter_audio_story_id"))
        batch_op.drop_index(batch_op.f("ix_chapter_audio_status"))
        batch_op.drop_index(batch_op.f("ix_chapter_audio_chapter_id"))

    op.drop_table("chapter_audio")
    op.drop_table("story_narrations")
