"""The Alembic history is linear and produces exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import api.tables  # noqa: F401
from api.migrate import alembic_config
from registry.db import Base


def test_single_head(engine):
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1, heads


def test_migrated_schema_matches_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)

    # Full-text search tables and their indexes are created by hand in migrations and are not models;
    # ignore only those.
    def is_fts(entry: tuple) -> bool:
        obj = entry[1]
        table = getattr(obj, "table", obj)
        return entry[0] in ("remove_table", "remove_index") and str(getattr(table, "name", "")).startswith(
            "fts_"
        )

    diff = [d for d in diff if not is_fts(d)]
    assert diff == [], diff


def test_downgrade_then_upgrade_round_trips(tmp_path):
    from sqlalchemy import create_engine, inspect

    from api.migrate import upgrade

    engine = create_engine(f"sqlite:///{tmp_path}/rt.db")
    upgrade(engine)
    from alembic import command

    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "users" in inspect(engine).get_table_names()
