"""Engine and sessions. One engine per app; one session per request, committed by the route's caller.

On SQLite a transaction is a *writer* (``BEGIN IMMEDIATE``, the default everywhere) or, for a request
that declared itself a reader (``reader_transactions``), a deferred *reader* that takes no lock. A reader
that tries to write raises :class:`ReaderWrote` before the statement runs, so the caller can start over as
a writer (``api.http.concurrency`` does that for GET requests).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Connections beyond the request gate: the in-process worker, background tasks, /health.
POOL_RESERVE = 5
_WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})


class ReaderWrote(Exception):
    """A reader transaction on SQLite was about to write; the unit of work must run again as a writer."""


@dataclass
class TransactionMode:
    """Shared (by reference) between the request and the threads that run its session."""

    reader: bool = False
    wrote: bool = False


_mode: ContextVar[TransactionMode | None] = ContextVar("legato_transaction_mode", default=None)


def use_transaction_mode(mode: TransactionMode) -> None:
    """Declare the mode of the transactions the current context (and threads started from it) begin."""
    _mode.set(mode)


def make_engine(url: str, *, echo: bool = False, pool_size: int = 20, pool_timeout: float = 30.0) -> Engine:
    """``pool_size`` is the number of concurrent request sessions; :data:`POOL_RESERVE` more connections
    are kept for the worker and background work, and a little overflow absorbs bursts of those."""
    pool = {"pool_size": pool_size + POOL_RESERVE, "max_overflow": 10, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # pysqlite's own transaction handling delays BEGIN and breaks SAVEPOINT; hand it to
            # SQLAlchemy instead (the documented recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
            # writes fails with "database is locked" when another writer got in between, and
            # busy_timeout cannot help it. Writers queue instead; SQLite has one writer anyway.
            # Declared readers begin deferred and, in WAL mode, never wait for anyone.
            mode = _mode.get()
            if mode is not None and mode.reader:
                conn.info["legato_reader"] = mode
                conn.exec_driver_sql("BEGIN")
            else:
                conn.info.pop("legato_reader", None)
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "before_cursor_execute")
        def _reader_guard(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
            mode = conn.info.get("legato_reader")
            if mode is not None and (statement.lstrip()[:8].split() or [""])[0].upper() in _WRITE_VERBS:
                mode.wrote = True
                raise ReaderWrote("a reader transaction tried to write")

        for name in ("commit", "rollback"):
            event.listen(engine, name, lambda conn: conn.info.pop("legato_reader", None))

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True, **pool)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work outside a request (CLI, worker): commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
