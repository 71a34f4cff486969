"""The ``legato`` command. Each command group lives in its own module and registers on ``app``."""

from __future__ import annotations

from api.cli import content, money, registry, server, translation, trust, users
from api.cli.base import app


def main() -> None:
    app()

