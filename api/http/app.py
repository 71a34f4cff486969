"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from api.http.concurrency import DbGate, ReaderRetryMiddleware
from api.http.errors import install_error_handlers
from api.http.inputguard import restore_recursion_limit
from api.http.middleware import (
    BodySizeLimitMiddleware,
    InputGuardMiddleware,
    RequestIdMiddleware,
    UnhandledErrorMiddleware,
)
from api.http.public_cache import PublicChapterCache, PublicChapterMiddleware
from api.http.routers import (
    auth,
    chapters,
    community,
    health,
    ipfs,
    marketplace,
    payments,
    readers,
    registry,
    search,
    stories,
)
from api.http.routers.docs import install_docs
from api.settings import Settings
from api.web import install_web
from api.wiring import Container

log = logging.getLogger("legato.app")


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """Build the app. Tests pass a ``container`` bound to their own engine; ``legato serve`` passes
    only settings and the container is built (and closed) with the app's lifespan."""
    restore_recursion_limit()
    settings = settings or (container.settings if container else Settings())
    owns_container = container is None
    container = container or Container(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The thread pool is the event loop's; it exists only once the server runs.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threadpool_size
        container.log_adapters()
        container.start_background()
        try:
            yield
        finally:
            container.stop_background()
            if owns_container:
                container.close()

    app = FastAPI(
        title="Legato",
        version="0.1.0",
        summary="Open IP registry and storytelling API for serialized fiction.",
        lifespan=lifespan,
        docs_url=None,  # self-hosted by install_docs: no CDN
        redoc_url=None,
    )
    app.state.container = container
    app.state.db_gate = DbGate(settings.db_pool_size, settings.db_queue_timeout_seconds)
    app.state.public_chapters = PublicChapterCache(settings.public_chapter_max_age_seconds)
    app.state.public_chapters.watch(container.engine)
    install_error_handlers(app)
    install_docs(app)
    install_web(app)  # before the JSON routes: /search and /verify/{id} answer browsers with HTML
    for router in (
        health.router, auth.router, registry.router, ipfs.router, payments.router,
        stories.router, chapters.router, community.router, readers.router, search.router, marketplace.router,
    ):
        app.include_router(router)
    # Added innermost first. The reader retry sits innermost, where a reader's write surfaces before any
    # error handler; the size bound comes before the guard reads the body; the public chapter cache answers
    # before any of them; the last-resort 500 wraps everything but the request id, which must exist before
    # any envelope.
    app.add_middleware(ReaderRetryMiddleware)
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(PublicChapterMiddleware, cache=app.state.public_chapters)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    return app
