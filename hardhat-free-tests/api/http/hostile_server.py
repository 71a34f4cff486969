"""A real ``uvicorn`` server for the hostile-input tests, run as a subprocess:
``python hostile_server.py PORT DATA_DIR``.

Built like ``legato serve`` (migrations, then ``create_app``) with web3 imported, so py_ecc has raised
the recursion limit exactly as in production, plus one test-only route that raises: the injected fault
whose 500 must leave the keep-alive connection usable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
import web3  # noqa: F401  (what raised the recursion limit to 100,000 in production)
from fastapi import APIRouter

from api.http.app import create_app
from api.migrate import upgrade
from api.settings import Settings
from api.wiring import Container


def main(port: int, data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir, run_worker=False, argon2_time_cost=1, argon2_memory_cost_kib=8,
        jwt_secret="test-secret-not-for-production-0123456789",
    )
    container = Container(settings)
    upgrade(container.engine)
    app = create_app(settings, container=container)
    fault = APIRouter()

    @fault.get("/__test/fault")
    def _fault() -> None:
        raise RuntimeError("injected fault")

    app.include_router(fault)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
