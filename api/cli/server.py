"""``legato serve`` and ``legato db upgrade``."""

from __future__ import annotations

import typer
import uvicorn

from api.cli.base import app, cli_settings, err, open_container
from api.logging import configure_logging
from api.migrate import upgrade

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Run the HTTP API (and the background worker) with migrations applied first.

    On SIGTERM the server stops accepting, gives in-flight requests ``LEGATO_SHUTDOWN_GRACE_SECONDS``
    (then cancels them), stops the worker between two jobs and exits; uvicorn then re-raises the
    signal, so a thread stuck in a blocking call cannot hold the process.
    """
    from api.http.app import create_app
    from api.request_context import set_fallback_base_url
    from api.wiring import Container

    settings = cli_settings()
    configure_logging(settings.log_level)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (compared, not bound)
    set_fallback_base_url(f"http://{shown_host}:{port}")
    container = Container(settings)
    upgrade(container.engine)
    # proxy_headers=False: uvicorn would otherwise let any client on a trusted address (127.0.0.1 by
    # default) rewrite its own address with X-Forwarded-For; the app reads that header itself, only
    # from LEGATO_TRUSTED_PROXIES (api/client_ip.py).
    uvicorn.run(create_app(settings, container=container), host=host, port=port, log_config=None,
                access_log=False,  # the request-id middleware logs one structured line per request
                proxy_headers=False,
                timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply Alembic migrations up to REVISION."""
    with open_container(migrate=False) as container:
        upgrade(container.engine, revision)
        err.print(f"database at {revision} ({container.engine.dialect.name})")


