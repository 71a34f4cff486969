"""races: grant claims, one open report per reporter and target, usernames unique ignoring case, atomic
login buckets

Revision ID: 0006_races
Revises: 0005_licensing
Create Date: 2026-12-01 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import registry.db

revision = "0006_races"
down_revision = "0005_licensing"
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("license_agreements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grant_claim", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("grant_claimed_until", registry.db.UTCDateTime(timezone=True),
                                      nullable=True))

    # Duplicates raced in before the index existed: keep the oldest open report of each reporter and
    # target, dismiss the rest, so the unique index can be built.
    op.execute(sa.text(
        "UPDATE reports SET status = 'dismissed', resolution_note = 'duplicate open report' "
        "WHERE status = 'open' AND EXISTS (SELECT 1 FROM reports AS older WHERE older.status = 'open' "
        "AND older.reporter_id = reports.reporter_id AND older.target_type = reports.target_type "
        "AND older.target_id = reports.target_id AND (older.created_at < reports.created_at "
        "OR (older.created_at = reports.created_at AND older.id < reports.id)))"))
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("uq_reports_open_per_reporter", ["reporter_id", "target_type", "target_id"],
                              unique=True, postgresql_where=_OPEN, sqlite_where=_OPEN)

    clashes = op.get_bind().execute(sa.text(
        "SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1")).scalars().all()
    if clashes:
        raise RuntimeError("usernames that differ only in case must be renamed before this migration: "
                           + ", ".join(clashes))
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)

    op.create_table(
        "login_buckets",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_buckets")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_key_at")
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("created_at", registry.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_key_at", ["key", "created_at"], unique=False)
    op.drop_table("login_buckets")
    op.drop_index("uq_users_username_lower", table_name="users")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("uq_reports_open_per_reporter")
    with op.batch_alter_table("license_agreements", schema=None) as batch_op:
        batch_op.drop_column("grant_claimed_until")
        batch_op.drop_column("grant_claim")
