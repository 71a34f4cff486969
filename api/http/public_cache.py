"""Published free chapters as an anonymous reader gets them: ETags, cache headers and a short-lived
in-process copy of the response.

The copy is what lets one process serve a popular chapter at close to the speed of a static file:
:class:`PublicChapterMiddleware` answers from it in front of routing and dependencies, as a caching
proxy would (``GET /stories/{id}/chapters/{id}`` without ``Authorization`` only). It is
kept only for what is public anyway, answered with ``Cache-Control: public, max-age=N`` (so any proxy or
CDN may keep it as long), and it is dropped as soon as this process writes to ``chapters`` or ``stories``
(edits, publishing, takedowns); a write by another process is seen within ``N`` seconds, the same bound
the header promises to every cache in between. Paid, locked, unpublished and signed-in responses are
never kept and carry ``Cache-Control: private, no-cache``: the browser may keep them for revalidation
with the ETag, no shared cache may.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Receive, Scope, Send

PRIVATE = "private, no-cache"
_TOUCHES_CONTENT = re.compile(
    r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(?:chapters|stories)\"?\b", re.IGNORECASE
)


def etag_of(body: bytes) -> str:
    """A strong validator of the exact bytes sent: 128 bits of SHA-256, URL-safe base64, quoted."""
    return '"' + base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:16]).decode().rstrip("=") + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag, compared weakly (a ``W/`` prefix is ignored)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match[:4096].split(","))


@dataclass(frozen=True)
class Cached:
    story_id: str
    body: bytes
    etag: str
    expires: float


class PublicChapterCache:
    """A bounded LRU of rendered public chapter responses, each kept ``max_age`` seconds at most."""

    def __init__(self, max_age: float, max_entries: int = 512) -> None:
        self.max_age, self.max_entries = max_age, max_entries
        self._items: OrderedDict[str, Cached] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def enabled(self) -> bool:
        return self.max_age > 0

    @property
    def cache_control(self) -> str:
        return f"public, max-age={int(self.max_age)}"

    def get(self, chapter_id: str) -> Cached | None:
        with self._lock:
            item = self._items.get(chapter_id)
            if item is None:
                return None
            if item.expires <= time.monotonic():
                del self._items[chapter_id]
                return None
            self._items.move_to_end(chapter_id)
            return item

    def generation(self) -> int:
        """Read before loading from the database; :meth:`put` refuses a load that a write overtook."""
        return self._generation

    def put(self, chapter_id: str, story_id: str, body: bytes, *, generation: int) -> Cached:
        item = Cached(story_id, body, etag_of(body), time.monotonic() + self.max_age)
        with self._lock:
            if self.enabled and generation == self._generation:
                self._items[chapter_id] = item
                self._items.move_to_end(chapter_id)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
        return item

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._items.clear()

    def watch(self, engine: Engine) -> None:
        """Drop every copy when this process writes to chapters or stories through ``engine``."""
        caches = _watched.get(engine)
        if caches is None:
            caches = _watched[engine] = weakref.WeakSet()
            _install(engine, caches)
        caches.add(self)


_CHAPTER_PATH = re.compile(r"^/stories/([^/]{1,100})/chapters/([^/]{1,100})$")


class PublicChapterMiddleware:
    """Serves anonymous chapter reads that :class:`PublicChapterCache` holds; everything else passes."""

    def __init__(self, app: ASGIApp, *, cache: PublicChapterCache) -> None:
        self.app, self.cache = app, cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and self.cache.enabled:
            m = _CHAPTER_PATH.match(scope["path"])
            if m is not None:
                headers = dict(scope["headers"])
                hit = None if b"authorization" in headers else self.cache.get(m.group(2))
                if hit is not None and hit.story_id == m.group(1):
                    await self._send(scope, send, hit, headers.get(b"if-none-match"))
                    return
        await self.app(scope, receive, send)

    async def _send(self, scope: Scope, send: Send, hit: Cached, if_none_match: bytes | None) -> None:
        fresh = matches(if_none_match.decode("latin-1") if if_none_match else None, hit.etag)
        headers = [(b"etag", hit.etag.encode()), (b"cache-control", self.cache.cache_control.encode()),
                   (b"vary", b"Authorization")]
        if not fresh:
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(hit.body)).encode())]
        await send({"type": "http.response.start", "status": 304 if fresh else 200, "headers": headers})
        body = b"" if fresh or scope["method"] == "HEAD" else hit.body
        await send({"type": "http.response.body", "body": body})


# One set of listeners per engine however many apps (tests build one per test) share it.
_watched: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[PublicChapterCache]] = weakref.WeakKeyDictionary()


def _install(engine: Engine, caches: weakref.WeakSet[PublicChapterCache]) -> None:
    """Clear at the statement (so the writer's own next read is fresh) and again at commit (so a read
    that raced the write and cached the old row does not outlive it)."""

    def clear_all() -> None:
        for cache in list(caches):
            cache.clear()

    @event.listens_for(engine, "before_cursor_execute")
    def _on_write(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if _TOUCHES_CONTENT.match(statement):
            conn.info["legato_content_written"] = True
            clear_all()

    @event.listens_for(engine, "commit")
    def _on_commit(conn):  # type: ignore[no-untyped-def]
        if conn.info.pop("legato_content_written", False):
            clear_all()

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):  # type: ignore[no-untyped-def]
        conn.info.pop("legato_content_written", None)
