"""Alembic environment: the engine comes from the caller (api.migrate), the metadata from all models."""

from __future__ import annotations

from alembic import context

import api.tables  # noqa: F401  (registers every table on the one metadata)
from registry.db import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Full-text search tables (``fts_*``) are made by hand in migrations and are not models."""
    return not (type_ == "table" and name and name.startswith("fts_"))


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
