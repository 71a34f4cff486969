"""``/docs`` (Swagger UI) and ``/redoc``, served with their scripts from this server.

FastAPI's defaults load the scripts from a CDN, so the pages are blank offline and every visit tells a
third party who reads the API docs. The assets come from the ``fastapi-offline`` distribution (a PyPI
package, installed like any dependency) and are served under ``/docs-assets``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Legato API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        # Swagger UI otherwise sends the spec to validator.swagger.io for its badge.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="Legato API",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


def install_docs(app: FastAPI) -> None:
    """Call with ``docs_url=None, redoc_url=None`` on the app, so these pages replace FastAPI's."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
