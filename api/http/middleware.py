"""Pure ASGI middleware: request ids, the body size limit, input guards and the last-resort 500.

Pure ASGI rather than ``BaseHTTPMiddleware`` so streaming bodies and background tasks are untouched.
"""

from __future__ import annotations

import email.message
import json
import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.errors import error_body, json_refused_status
from api.http.inputguard import JsonRefused, check_json_bytes, nul_refused
from api.request_context import request_id_var

log = logging.getLogger("legato.access")
_errors_log = logging.getLogger("legato.api")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Gives every request an id (a client's ``X-Request-ID`` when sane), echoes it on every response
    and logs one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_ID.match(incoming) else "req_" + secrets.token_hex(8)
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413 in the error envelope, whether the client declared
    the length or streams it chunked.

    The body is read (up to the limit) before the app runs and then replayed to it: a limit hit in
    the middle of the app's own parsing would surface as a parse error instead of a 413.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await send_envelope(
            send, 413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {self.max_bytes} bytes.",
            {"max_bytes": self.max_bytes},
        )


async def send_envelope(
    send: Send, status: int, code: str, message: str, details: dict[str, object] | None = None
) -> None:
    """An error envelope sent straight from middleware, before (or instead of) the app."""
    body = json.dumps(error_body(code, message, details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_json(scope: Scope) -> bool:
    """What FastAPI would decode as JSON, parsed the way FastAPI parses it: no content type at all, or
    ``application/json`` / ``application/*+json``."""
    # The first header, as Starlette's ``request.headers.get`` reads it (``dict`` would keep the last,
    # and a second Content-Type could then hide a JSON body from the guard).
    value = next((v for k, v in scope["headers"] if k == b"content-type"), None)
    if not value:
        return True
    message = email.message.Message()
    message["content-type"] = value.decode("latin-1")
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class InputGuardMiddleware:
    """Refuses, before any parser runs: a NUL in the path or query (PostgreSQL cannot store or compare
    it), and a JSON body that nests too deep, carries an escaped NUL or an integer beyond ±2^53 (see
    ``api.http.inputguard``). Runs inside ``BodySizeLimitMiddleware``, so the body it reads is bounded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            refused = nul_refused()
            await send_envelope(send, 400, refused.code, refused.message, {"in": "path or query"})
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_json_bytes(body)
        except JsonRefused as e:
            await send_envelope(send, json_refused_status(e), e.code, e.message, e.details)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class UnhandledErrorMiddleware:
    """Turns an exception that escaped the app into the 500 envelope and swallows it.

    Starlette's outermost ``ServerErrorMiddleware`` sends its handler's 500 and then re-raises, so the
    server sees a failed request and drops the keep-alive connection: the client's next request on it
    fails too. Catching here, inside that middleware, ends the request cleanly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            _errors_log.error("unhandled error", exc_info=exc, extra={"request_id": request_id_var.get()})
            if not started:
                await send_envelope(
                    send, 500, "INTERNAL_ERROR",
                    "An internal error occurred. Quote the request id when reporting it.",
                )
