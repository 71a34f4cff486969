"""``GET /health``: each dependency reported on its own, so an operator sees which one is down.

Anyone may ask whether the service is up and which dependency is not; what each dependency reports
(data-dir paths, the anchoring account and its balance, error text) is for admins only: it maps the
deployment for an attacker and names the account worth draining.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accounts.credentials import TokenError
from accounts.models import Role, User
from api.http.deps import ContainerDep
from api.wiring import Container

router = APIRouter(tags=["health"])
_bearer = HTTPBearer(auto_error=False)


def _probe(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        details = check() or {}
    except Exception as e:
        return {
            "status": "down",
            "error": f"{type(e).__name__}: {e}"[:300],
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
    return {**details, "status": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _is_admin(container: Container, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """Whether the caller may see details. Never raises: health answers even with a bad token or a
    database that is down (then the signed token's role decides, as no account row can be read)."""
    if credentials is None:
        return False
    try:
        claims = container.tokens.decode_access(credentials.credentials)
    except TokenError:
        return False
    try:
        with container.session_factory() as session:
            user = session.get(User, claims.user_id)
            return user is not None and user.is_active and user.role == Role.admin
    except Exception:
        return claims.role == Role.admin.value


@router.get("/health")
async def health(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> JSONResponse:
    checks = {
        name: await run_in_threadpool(_probe, check) for name, check in container.health_checks().items()
    }
    down = [name for name, result in checks.items() if result["status"] != "up"]
    overall = "ok" if not down else ("down" if "database" in down else "degraded")
    if not await run_in_threadpool(_is_admin, container, credentials):
        checks = {name: {"status": result["status"]} for name, result in checks.items()}
    body = {"status": overall, "dependencies": checks, "down": down}
    return JSONResponse(body, status_code=503 if overall == "down" else 200)
