"""Legato in the browser: server-rendered pages, a little JavaScript, offline reading.

``install_web(app)`` adds the pages, their static files, the service worker and the manifest to the
FastAPI app. Pages come before the JSON routes so that the two paths they share (``/search``,
``/verify/{id}``) can answer a browser with HTML; every other client falls through to the JSON API.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.web import pages
from api.web.assets import STATIC, CachedStatic, static_url
from api.web.assets import router as assets_router


def install_web(app: FastAPI) -> None:
    from api.web import routes_account, routes_chapter, routes_read, routes_verify

    pages.env.globals["static"] = static_url
    for router in (assets_router, routes_account.router, routes_read.router, routes_chapter.router,
                   routes_verify.router):
        app.include_router(router)
    _install_part2(app)
    app.mount("/static", CachedStatic(directory=STATIC), name="static")


def _install_part2(app: FastAPI) -> None:
    """The writer dashboard, the studio, admin and the wallet (with the gateway's way back)."""
    from api.web import routes_admin, routes_studio, routes_wallet, routes_write, routes_write_market

    for router in (routes_write.router, routes_write_market.router, routes_studio.router, routes_admin.router,
                   routes_wallet.router, routes_wallet.gateway_return, routes_wallet.gateway_confirm):
        app.include_router(router)
