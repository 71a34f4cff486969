"""``/verify`` and ``/verify/{certificate_id}``: filled in by the verify page commit."""

from __future__ import annotations

from fastapi import APIRouter

from api.web.pages import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
