"""``legato serve`` and ``legato db upgrade``."""

from __future__ import annotations

import typer
import uvicorn

from api.cli.base import app, err, open_container
from api.logging import configure_logging
from api.migrate import upgrade
from api.settings import Settings

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Run the HTTP API (and the background worker) with migrations applied first."""
    from api.app import create_app
    from api.container import Container

    settings = Settings()
    configure_logging(settings.log_level)
    container = Container(settings)
    upgrade(container.engine)
    # proxy_headers=False: uvicorn would otherwise let any client on a trusted address (127.0.0.1 by
    # default) rewrite its own address with X-Forwarded-For; the app reads that header itself, only
    # from LEGATO_TRUSTED_PROXIES (api.security.client_address).
    uvicorn.run(create_app(settings, container=container), host=host, port=port, log_config=None,
                access_log=False,  # the request-id middleware logs one structured line per request
                proxy_headers=False)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply Alembic migrations up to REVISION."""
    with open_container(migrate=False) as container:
        upgrade(container.engine, revision)
        err.print(f"database at {revision} ({container.engine.dialect.name})")


