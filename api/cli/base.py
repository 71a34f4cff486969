"""Shared pieces of the CLI: the typer app, settings, a container, stderr console."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from api.logging import configure_logging
from api.migrate import upgrade
from api.settings import Settings

if TYPE_CHECKING:
    from api.wiring import Container

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Legato: IP registry for storytellers.")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)  # results: one line each, greppable, never wrapped


@cache
def cli_settings() -> Settings:
    """The one ``Settings`` of this command: read from the environment (and ``.env``) once, so every part
    of a command sees the same values."""
    return Settings()


@app.callback()
def _each_invocation() -> None:
    # A new invocation reads the environment afresh: tests (and any embedding program) run many commands
    # in one process, each with its own LEGATO_ variables.
    cli_settings.cache_clear()


@contextmanager
def open_container(*, migrate: bool = True, log_level: str | None = None) -> Iterator[Container]:
    """A container on the local data dir (or ``LEGATO_DATABASE_URL``), migrated, closed on exit.
    Logs go to stderr so commands with ``--json`` keep stdout for their JSON alone."""
    from api.wiring import Container  # the whole platform loads only for commands that need it

    settings = cli_settings()
    quiet = "WARNING" if settings.log_level.upper() == "INFO" else settings.log_level
    configure_logging(log_level or quiet)
    container = Container(settings)
    try:
        if migrate:
            upgrade(container.engine)
        yield container
    finally:
        container.close()
