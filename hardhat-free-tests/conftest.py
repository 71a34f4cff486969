"""Shared fixtures: a migrated database (PostgreSQL when ``LEGATO_TEST_DATABASE_URL`` is set, else a
SQLite file), one savepoint per test, a container and an ASGI client bound to that savepoint.

Test file basenames are unique across the tree (pytest's default import mode needs that).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine
from api.http.app import create_app
from api.migrate import upgrade
from api.settings import Settings
from api.wiring import Container
from registry.chain.embedded import memory_chain
from registry.chain.web3_chain import Web3Chain
from registry.timestamp import EmbeddedTSA

TEST_DATABASE_URL = os.environ.get("LEGATO_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("LEGATO_TEST_REDIS_URL")

# Never let a developer's own LEGATO_* settings leak into the suite.
for _name in list(os.environ):
    if _name.startswith("LEGATO_") and not _name.startswith("LEGATO_TEST_"):
        del os.environ[_name]


def _postgres_schema() -> str:
    """One schema per checkout and pytest-xdist worker, so parallel workers, and suites of two
    checkouts run at once against the same test database, never drop each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    checkout = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:8]
    return f"legato_test_{checkout}_{worker}"


def _reset_postgres(engine: Engine, schema: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


def _use_schema(engine: Engine, schema: str) -> None:
    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        with dbapi_conn.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}"')
        dbapi_conn.commit()  # outside any transaction SQLAlchemy will roll back


@contextmanager
def own_schema_engine(name: str) -> Iterator[Engine]:
    """A PostgreSQL engine on a fresh schema of its own (unmigrated; dropped afterwards), for tests whose
    writers commit for real or that run migrations step by step."""
    assert TEST_DATABASE_URL
    schema = f"{_postgres_schema()}_{name}"
    engine = make_engine(TEST_DATABASE_URL)
    _use_schema(engine, schema)
    _reset_postgres(engine, schema)
    try:
        yield engine
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'legato-test.db'}"


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """The schema is built by the real migrations, so every run also tests the Alembic history."""
    engine = make_engine(db_url)
    if engine.dialect.name == "postgresql":
        schema = _postgres_schema()
        _use_schema(engine, schema)  # before the first connection, so every pooled one has it
        _reset_postgres(engine, schema)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        if outer.is_active:
            outer.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit into a savepoint of the test's outer transaction, rolled back after it."""
    return sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Key material and embedded services reused across tests (creating a CA or deploying contracts
    for every test would dominate the run); per-test state lives in the database savepoint."""
    return tmp_path_factory.mktemp("legato-data")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 8,
        "run_worker": False,
        "jwt_secret": "test-secret-not-for-production-0123456789",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(shared_data_dir: Path) -> Settings:
    return make_settings(shared_data_dir)


@pytest.fixture(scope="session")
def test_chain() -> Iterator[Web3Chain]:
    """One in-memory EVM for the session (same ``Web3Chain`` adapter as production); contracts are
    deployed once. Tests that need persistence across restarts open their own embedded chain."""
    chain = memory_chain()
    yield chain
    chain.close()


@pytest.fixture(scope="session")
def test_tsa(shared_data_dir: Path) -> EmbeddedTSA:
    return EmbeddedTSA(shared_data_dir)


@pytest.fixture
def container_factory(
    engine: Engine,
    session_factory: sessionmaker[Session],
    test_chain: Web3Chain,
    test_tsa: EmbeddedTSA,
) -> Callable[..., Container]:
    """Containers for tests that need other settings: bound to the test's savepoint (unless another
    engine is given) and to the session's chain and TSA, so no test opens a second embedded chain."""

    def make(settings: Settings, *, engine_: Engine | None = None) -> Container:
        c = Container(settings, engine=engine_ or engine)
        if engine_ is None:
            c.session_factory = session_factory
        c.chain = test_chain
        c.timestamper = test_tsa
        return c

    return make


@pytest.fixture
def container(settings: Settings, container_factory: Callable[..., Container]) -> Container:
    return container_factory(settings)


@pytest.fixture
def app(container: Container):  # type: ignore[no-untyped-def]
    return create_app(container=container)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
