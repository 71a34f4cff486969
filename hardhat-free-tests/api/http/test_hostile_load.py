"""Load against a real server: uvicorn on a loopback port, a real engine that commits, real threads.

Issue 9 measured 500s from 45 concurrent ``GET /auth/profile`` on SQLite and from 100 concurrent unlocks
on PostgreSQL (pool timeouts, charges without a response), "database is locked" for readers while a
write was open, and a server that ignored SIGTERM. The server here runs with a small pool and thread
pool (4 database slots, 8 threads) so a few dozen clients are already far beyond both. The database is
the suite's (PostgreSQL when ``LEGATO_TEST_DATABASE_URL`` is set) in a schema or file of its own.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from conftest import TEST_DATABASE_URL, make_settings
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from accounts.models import User
from api.db import make_engine
from api.http.app import create_app
from api.http.deps import SessionDep
from api.migrate import upgrade
from marketplace.money.ledger import check_ledger
from marketplace.money.models import Unlock

CLIENTS = 64


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """A tiny keep-alive-free HTTP client (one connection per call), safe to use from many threads."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port, self.host = port, host

    def call(self, method: str, path: str, body: object = None, token: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            hdrs = {"Content-Type": "application/json", **(headers or {})}
            if token:
                hdrs["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
            return r.status, (json.loads(raw) if raw else {})
        finally:
            conn.close()

    def user(self, role: str = "reader") -> tuple[str, str]:
        name = "load" + secrets.token_hex(5)
        status, body = self.call("POST", "/auth/register", {
            "email": f"{name}@example.com", "username": name, "password": "correct horse", "role": role})
        assert status == 201, body
        status, body = self.call("POST", "/auth/login", {"email": name, "password": "correct horse"})
        assert status == 200, body
        return body["access_token"], name


def storm(n: int, fn) -> list:  # type: ignore[no-untyped-def]
    """``fn(i)`` in ``n`` threads released together; returns results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as e:  # the outcome of each client is the test's data
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return out


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of this module's own: a fresh PostgreSQL schema or a SQLite file."""
    if not TEST_DATABASE_URL:
        url = f"sqlite:///{tmp_path_factory.mktemp('load-db') / 'load.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    schema = "legato_load_" + secrets.token_hex(4)
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    url = f"{TEST_DATABASE_URL}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def live(live_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, object]]:
    """The real app on uvicorn in a thread, with 4 database slots and 8 threads."""
    settings = make_settings(tmp_path_factory.mktemp("load-data"), database_url=live_url, db_pool_size=4,
                             threadpool_size=8)
    app = create_app(settings)
    touched: list[str] = []

    @app.get("/_test/touch", include_in_schema=False)
    def touch(session: SessionDep) -> dict:
        """A GET that writes, like a read that records history: must work on SQLite as well."""
        touched.append("run")
        user = session.scalars(select(User).limit(1)).one()
        user.display_name = "touched " + secrets.token_hex(3)
        session.flush()
        return {"display_name": user.display_name}

    app.state.touched = touched
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield Api(port), app
    finally:
        server.should_exit = True
        thread.join(30)


def test_many_concurrent_profile_reads_all_answer(live):
    api, _ = live
    token, name = api.user()
    results = storm(CLIENTS, lambda _: api.call("GET", "/auth/profile", token=token))
    statuses = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    assert statuses == [200] * CLIENTS
    assert all(r[1]["username"] == name for r in results)


def test_concurrent_unlocks_charge_once_each_and_every_charge_is_answered(live):
    api, app = live
    writer, _ = api.user("writer")
    status, story = api.call("POST", "/stories", {"title": "Paid"}, writer)
    assert status == 201, story
    status, chapter = api.call("POST", f"/stories/{story['id']}/chapters",
                               {"title": "One", "content": "Words " * 200, "price_coins": 7}, writer)
    assert status == 201, chapter
    status, body = api.call("POST", f"/chapters/{chapter['id']}/publish", None, writer)
    assert status == 200, body
    readers = [api.user()[0] for _ in range(16)]
    for token in readers:  # coins bought through the local gateway at the URL the checkout gave
        status, checkout = api.call("POST", "/payments/checkout", {"package_id": "handful"}, token)
        assert status == 201, checkout
        url = checkout["checkout_url"]
        assert url.startswith(f"http://127.0.0.1:{api.port}/"), url
        status, body = api.call("POST", url.removeprefix(f"http://127.0.0.1:{api.port}"))
        assert status == 200, body
    per_reader = 4
    results = storm(len(readers) * per_reader, lambda i: api.call(
        "POST", f"/chapters/{chapter['id']}/unlock", token=readers[i // per_reader]))
    statuses = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    assert statuses == [200] * len(results)
    charged = [r[1]["charged"] for r in results]
    assert charged.count(True) == len(readers)
    for k in range(len(readers)):
        assert charged[k * per_reader:(k + 1) * per_reader].count(True) == 1
    container = app.state.container
    with Session(container.engine) as s:
        assert s.scalar(select(func.count()).select_from(Unlock)
                        .where(Unlock.chapter_id == chapter["id"])) == len(readers)
        assert check_ledger(s) == []


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite locking")
def test_sqlite_reads_go_on_while_a_writer_holds_the_lock(live, live_url):
    api, _ = live
    writer, _ = api.user("writer")
    status, story = api.call("POST", "/stories", {"title": "Locked"}, writer)
    assert status == 201
    lock = sqlite3.connect(live_url.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # the one writer SQLite allows, holding its lock
    try:
        results = storm(16, lambda i: api.call("GET", f"/stories/{story['id']}", token=writer)
                        if i % 2 else api.call("GET", "/auth/profile", token=writer))
        assert [r[0] if isinstance(r, tuple) else repr(r) for r in results] == [200] * 16
        assert lock.in_transaction  # they were answered while the write lock was still held
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_a_get_that_writes_is_rerun_as_a_writer(live):
    api, app = live
    api.user()
    app.state.touched.clear()
    results = storm(8, lambda _: api.call("GET", "/_test/touch"))
    assert [r[0] if isinstance(r, tuple) else repr(r) for r in results] == [200] * 8
    if app.state.container.engine.dialect.name == "sqlite":
        assert len(app.state.touched) == 16  # each began as a reader, wrote, and ran again as a writer


# --- a `legato serve` process ---------------------------------------------------------------------
@pytest.fixture
def serve(tmp_path: Path, live_url: str) -> Iterator[tuple[subprocess.Popen, Api]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    env.update(LEGATO_DATA_DIR=str(tmp_path / "data"), LEGATO_DATABASE_URL=live_url,
               LEGATO_LOG_LEVEL="WARNING", LEGATO_ARGON2_TIME_COST="1", LEGATO_ARGON2_MEMORY_COST_KIB="8",
               LEGATO_DB_POOL_SIZE="4", LEGATO_THREADPOOL_SIZE="8")
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = Api(port)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, "legato serve exited"
        try:
            if api.call("GET", "/health")[0] == 200:
                break
        except OSError:
            assert time.monotonic() < deadline, "legato serve did not come up"
            time.sleep(0.2)
    try:
        yield proc, api
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_checkout_urls_use_the_request_base_and_sigterm_under_load_exits(serve):
    proc, api = serve
    token, _ = api.user()
    status, checkout = api.call("POST", "/payments/checkout", {"package_id": "handful"}, token)
    assert status == 201, checkout
    assert checkout["checkout_url"].startswith(f"http://127.0.0.1:{api.port}/payments/"), checkout
    status, checkout = api.call("POST", "/payments/checkout", {"package_id": "handful"}, token,
                                headers={"Host": f"localhost:{api.port}"})
    assert checkout["checkout_url"].startswith(f"http://localhost:{api.port}/payments/"), checkout

    stop = threading.Event()

    def hammer(_: int) -> int:
        n = 0
        while not stop.is_set():
            try:
                api.call("GET", "/auth/profile", token=token)
                n += 1
            except OSError:
                return n
        return n

    clients = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(CLIENTS)]
    for c in clients:
        c.start()
    time.sleep(1.0)  # let the load build up before the signal
    proc.send_signal(signal.SIGTERM)
    try:
        # uvicorn re-raises the signal once it has shut down, so a clean stop reads as killed by SIGTERM
        assert proc.wait(timeout=10) in (0, -signal.SIGTERM)
    finally:
        stop.set()


def test_a_request_whose_client_left_while_queued_is_dropped_uncharged(session, container):
    """Through the ASGI app (savepoint-bound): one database slot, held; an unlock queues behind it and
    its client disconnects; once the slot frees, the unlock is not run."""
    import asyncio

    from factories import auth_headers, grant_coins, make_chapter, make_story, make_user

    from api.http.concurrency import DbGate

    author = make_user(session, container)
    chapter = make_chapter(session, container, make_story(session, container, author), published=True,
                           price_coins=5)
    reader = make_user(session, container, role="reader")
    grant_coins(session, reader.id, 50)
    session.commit()
    app = create_app(container=container)
    app.state.db_gate = DbGate(1, 30)
    token = auth_headers(container, reader)["Authorization"].encode()
    sent: list[dict] = []

    async def run() -> None:
        messages = [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]

        async def receive() -> dict:
            return messages.pop(0) if messages else await asyncio.Event().wait()  # type: ignore[return-value]

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": f"/chapters/{chapter.id}/unlock",
                 "raw_path": b"", "query_string": b"", "root_path": "", "scheme": "http",
                 "http_version": "1.1", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
                 "headers": [(b"host", b"t"), (b"authorization", token)], "asgi": {"version": "3.0"}}
        async with app.state.db_gate.slot():
            task = asyncio.create_task(app(scope, receive, send))
            await asyncio.sleep(0.2)  # the request is now queued for the slot; its client is gone
            assert not task.done()
        await asyncio.wait_for(task, 30)

    asyncio.run(run())
    assert sent[0]["status"] == 499
    assert session.scalar(select(func.count()).select_from(Unlock).where(Unlock.reader_id == reader.id)) == 0
