"""Reader pages: filled in by the reader commit."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.web.pages import PageRoute, WebDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def discover(web: WebDep) -> Response:
    return web.render("discover.html", new=[], popular=[], completed=[], genres=[], langs=[])


@router.get("/offline")
def offline(web: WebDep) -> Response:
    return web.render("offline.html")
