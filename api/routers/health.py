"""``GET /health``: each dependency reported on its own, so an operator sees which one is down."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import ContainerDep

router = APIRouter(tags=["health"])


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


@router.get("/health")
async def health(container: ContainerDep) -> JSONResponse:
    checks = {
        name: await run_in_threadpool(_probe, check) for name, check in container.health_checks().items()
    }
    down = [name for name, result in checks.items() if result["status"] != "up"]
    overall = "ok" if not down else ("down" if "database" in down else "degraded")
    body = {"status": overall, "dependencies": checks, "down": down}
    return JSONResponse(body, status_code=503 if overall == "down" else 200)
