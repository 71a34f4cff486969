"""Helpers for tests that race real requests: a database of the module's own (a schema on PostgreSQL, a
file on SQLite) where racers commit for real, an app on it, and a starting gun for threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_DATABASE_URL, make_settings, own_schema_engine
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.db import make_engine
from api.http.app import create_app
from api.migrate import upgrade
from api.wiring import Container


def own_database(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Engine]:
    """A migrated database that only this module writes to, dropped afterwards, so committed racers
    never leave rows behind for the tests that count rows in the shared one."""
    if not TEST_DATABASE_URL:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    with own_schema_engine(name) as engine:
        upgrade(engine)
        yield engine


def live_app(  # type: ignore[no-untyped-def]
    engine: Engine, data_dir: Path, chain, tsa, **settings: object
) -> Iterator[tuple[Container, TestClient]]:
    """The app on ``engine`` itself (no test savepoint): each request commits in its own connection."""
    container = Container(make_settings(data_dir, **settings), engine=engine)
    container.chain = chain
    container.timestamper = tsa
    with TestClient(create_app(container=container), raise_server_exceptions=False) as client:
        yield container, client


def race(n: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(i)`` in ``n`` threads released at once; each racer's result (or exception) is data."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as e:  # the outcome is what the test asserts on
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results
