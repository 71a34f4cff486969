"""Static files, the service worker and the web app manifest.

Asset URLs carry a hash of the file (``/static/app.css?v=…``), so a browser keeps them for a year
(``immutable``) and a changed file is a new URL; the service worker is served from ``/sw.js`` (so its
scope is the whole site) with the same list of URLs baked in, and a new list means a new worker.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
SHELL_FILES = ("app.css", "app.js", "icons/icon-192.png")

router = APIRouter(include_in_schema=False)


@cache
def _digest(name: str) -> str:
    path = (STATIC / name).resolve()
    if STATIC.resolve() not in path.parents or not path.is_file():
        return "0"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={_digest(name)}"


class CachedStatic(StaticFiles):
    """Starlette's static files, with a year of caching for versioned URLs and a short one otherwise."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        versioned = b"v=" in scope.get("query_string", b"")
        if response.status_code == 200:
            response.headers["Cache-Control"] = ("public, max-age=31536000, immutable" if versioned
                                                 else "public, max-age=3600")
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@cache
def _service_worker() -> bytes:
    assets = [static_url(name) for name in SHELL_FILES] + ["/offline", "/manifest.webmanifest"]
    version = hashlib.sha256("".join(assets).encode() + (STATIC / "sw.js").read_bytes()).hexdigest()[:12]
    source = (STATIC / "sw.js").read_text()
    return source.replace("__VERSION__", version).replace("__ASSETS__", json.dumps(assets)).encode()


@router.get("/sw.js")
def service_worker() -> Response:
    return Response(_service_worker(), media_type="text/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": "/", "X-Content-Type-Options": "nosniff"})


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    return Response((STATIC / "manifest.webmanifest").read_bytes(), media_type="application/manifest+json",
                    headers={"Cache-Control": "public, max-age=3600"})
