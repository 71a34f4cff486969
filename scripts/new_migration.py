"""Autogenerate the next Alembic revision from the models: ``python scripts/new_migration.py "message"``.

Upgrades a scratch SQLite database to head, diffs it against the models and writes
``api/migrations/versions/NNNN_<slug>.py``. Review the file before committing it.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from api.migrate import alembic_config, upgrade


def main() -> None:
    message = " ".join(sys.argv[1:]) or "change"
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        upgrade(engine)
        cfg = alembic_config(engine)
        heads = ScriptDirectory.from_config(cfg).get_heads()
        number = 1 + max((int(h.split("_")[0]) for h in heads if h[:4].isdigit()), default=0)
        slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
        rev_id = f"{number:04d}_{slug}"
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        print(Path("api/migrations/versions") / f"{rev_id}.py")


if __name__ == "__main__":
    main()
