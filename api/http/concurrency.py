"""How requests share the thread pool and the database pool without starving each other.

Three mechanisms, all about one failure seen under load (issue 9): a sync route holds a pooled
connection while it waits for a worker thread, and the threads wait for pooled connections, so at some
concurrency every request times out at once.

* :class:`DbGate` admits at most ``db_pool_size`` requests into a database session at a time. The wait
  happens on the event loop (no thread, no connection held), so a connection is only ever taken by a
  request that can run to the end; the pool is sized above the gate for the worker and background
  tasks. A request that cannot enter within ``db_queue_timeout_seconds`` gets 503 ``SERVER_BUSY`` with
  ``Retry-After`` instead of hanging.
* Read requests (GET, HEAD) on SQLite run in a deferred transaction, which takes no lock, so readers never
  queue behind the single writer. Should such a request write after all, its first write raises
  :class:`~api.db.ReaderWrote`; :class:`ReaderRetryMiddleware` then runs the request again as a writer
  (``BEGIN IMMEDIATE``) before any byte of the response was sent. Upgrading the deferred transaction in
  place is not an option: SQLite answers "database is locked" at once, without waiting, when another
  writer got in between.
* The request's own base URL is kept for links (checkout URLs) when ``LEGATO_PUBLIC_URL`` is unset.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import ReaderWrote
from api.http.errors import ServerBusy
from api.request_context import request_base_url

T = TypeVar("T")

READ_METHODS = frozenset({"GET", "HEAD"})
READER_SCOPE_KEY = "legato.reader"

def _scope_base_url(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")


class DbGate:
    """An admission limit on concurrent database sessions, waited for on the event loop.

    One asyncio semaphore per event loop: the test client and ``legato serve`` each run their own loop,
    and an asyncio primitive must not be shared between loops.
    """

    def __init__(self, size: int, timeout: float) -> None:
        self.size, self.timeout = size, timeout
        self._sems: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _sem(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._sems.get(loop)
        if sem is None:
            sem = self._sems[loop] = asyncio.Semaphore(self.size)
        return sem

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        sem = self._sem()
        try:
            await asyncio.wait_for(sem.acquire(), self.timeout)
        except TimeoutError:
            raise ServerBusy(
                "The server is busy; try again shortly.", details={"retry_after_seconds": 1},
                headers={"Retry-After": "1"},
            ) from None
        try:
            yield
        finally:
            sem.release()


async def in_own_thread(fn: Callable[[], T]) -> T:
    """Run a short blocking call (commit, close) on a thread without queueing for the shared pool: a
    request that holds a connection must be able to give it back even when every pool thread is busy.
    Shielded, so a client that goes away cannot leave a transaction half-closed."""
    with anyio.CancelScope(shield=True):
        return await anyio.to_thread.run_sync(fn, limiter=anyio.CapacityLimiter(1))


class ReaderRetryMiddleware:
    """Marks GET and HEAD requests as readers and reruns one as a writer when it writes after all.

    It also records the request's base URL for :func:`api.request_context.current_base_url`. The request
    body (rare on a GET) is kept so the second run receives it again.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_base_url.set(_scope_base_url(scope))
        try:
            if scope["method"] not in READ_METHODS:
                await self.app(scope, receive, send)
                return
            await self._read_then_write(scope, receive, send)
        finally:
            request_base_url.reset(token)

    async def _read_then_write(self, scope: Scope, receive: Receive, send: Send) -> None:
        received: list[Message] = []
        started = False

        async def recording_receive() -> Message:
            message = await receive()
            received.append(message)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app({**scope, READER_SCOPE_KEY: True}, recording_receive, watching_send)
            return
        except ReaderWrote:
            if started:
                raise
        replay = iter(received)

        async def replaying_receive() -> Message:
            return next(replay, None) or await receive()

        await self.app({**scope, READER_SCOPE_KEY: False}, replaying_receive, send)
