"""What every page shares: the template environment, the request's context (user, language, CSRF
token), the page route class, and the error page.

``PageRoute`` is where the page rules are enforced once instead of in each handler: an unsafe method is
refused without a valid CSRF token; any error becomes the ``web`` error page (a client error with its
plain message, a server fault with only the request id, never a trace); every page response carries the
security headers (a strict Content-Security-Policy: no inline script, nothing from another origin).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.web import i18n, session
from api.web.core import Container, ContainerDep, ReaderWrote, SessionDep, User, error_status

log = logging.getLogger("legato.web")

TEMPLATES = Path(__file__).parent / "templates"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
MAX_FIELD_CHARS = 20_000

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True, auto_reload=False)


@dataclass
class Web:
    """One page request: who asks, in which language, and the tools to answer."""

    request: Request
    container: Container
    db: Session
    user: User | None
    tr: i18n.Translator

    def _(self, message: str, **values: object) -> str:
        return self.tr.gettext(message, **values)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = env.get_template(template).render(**self.context(), **values)
        return HTMLResponse(html, status_code=status)

    def context(self) -> dict[str, Any]:
        return {
            "user": self.user, "lang": self.tr.lang, "rtl": self.tr.rtl, "languages": i18n.languages(),
            "csrf": session.csrf_token(self.container, self.request), "path": self.request.url.path,
            **self.tr.functions(),
        }

    def redirect(self, url: str, status: int = 303) -> RedirectResponse:
        if not url.startswith("/") or url.startswith("//") or "\\" in url:
            url = "/"  # never an open redirect
        return RedirectResponse(url, status_code=status)

    def login_first(self) -> RedirectResponse:
        return self.redirect(f"/login?next={self.request.url.path}")


def translator(request: Request, user: User | None) -> i18n.Translator:
    lang = (i18n.supported(request.cookies.get(i18n.COOKIE))
            or i18n.supported(user.preferred_language if user else None)
            or i18n.from_accept_language(request.headers.get("accept-language"))
            or i18n.DEFAULT)
    return i18n.Translator(lang)


async def get_web(request: Request, container: ContainerDep, db: SessionDep) -> Web:
    if session.SESSION_COOKIE in request.cookies:
        user = await run_in_threadpool(session.current_user, container, db, request)
    else:
        user = None
    return Web(request, container, db, user, translator(request, user))


WebDep = Annotated[Web, Depends(get_web)]


async def form(request: Request) -> FormData:
    """The posted form (cached on the request, so the CSRF check and the handler read it once)."""
    return await request.form(max_files=4, max_fields=50, max_part_size=2 * 1024 * 1024)


# Handlers that post take the form through this dependency and are plain ``def``: the body is read on
# the event loop, the database work runs in the thread pool. (An ``async def`` handler doing database
# work would block the loop: on PostgreSQL one waiting row lock then stalls every request.)
Posted = Annotated[FormData, Depends(form)]


def field(data: FormData, name: str, *, max_chars: int = 1000) -> str:
    """A text field, bounded; a NUL (PostgreSQL cannot store it) or an oversize value is a 400 page."""
    value = data.get(name)
    if value is None or isinstance(value, UploadFile):
        return ""
    if "\x00" in value:
        raise HTTPException(400, "A field holds a NUL character.")
    if len(value) > min(max_chars, MAX_FIELD_CHARS):
        raise HTTPException(400, f"The field {name} is too long (at most {max_chars} characters).")
    return value


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    user = getattr(request.state, "web_user", None)
    tr = translator(request, user)
    rid = getattr(request.state, "request_id", None)
    try:
        html = env.get_template("error.html").render(
            user=None, lang=tr.lang, rtl=tr.rtl, languages=i18n.languages(), csrf="", path=request.url.path,
            status=status, message=message, request_id=rid, **tr.functions())
    except Exception:  # the error page itself must not fail
        log.exception("web: the error page failed")
        html = f"<!doctype html><title>{status}</title><p>Error {status}.</p>"
    return HTMLResponse(html, status_code=status)


def page_error(request: Request, exc: Exception) -> HTMLResponse:
    """Any exception of a page, as HTML. Client errors say what went wrong; server faults say only
    that something failed and which request id to quote (the trace goes to the log, not the page)."""
    if isinstance(exc, HTTPException):
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) else ""
        if status == 404:
            message = "This page does not exist."
        return _error_page(request, status, message)
    if isinstance(exc, RequestValidationError):
        return _error_page(request, 422, "Some of the values sent are not valid.")
    known = error_status(exc)
    if known is not None:
        status, _code, message, _details = known
        return _error_page(request, status, message)
    log.error("web: unhandled error on %s", request.url.path, exc_info=exc,
              extra={"request_id": getattr(request.state, "request_id", None)})
    return _error_page(request, 500, "")


class PageRoute(APIRoute):
    """A route that serves HTML to a browser (see the module docstring for what it enforces)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                if request.method not in SAFE_METHODS:
                    await _check_csrf(request)
                response = await inner(request)
            except ReaderWrote:
                raise  # the reader-retry middleware runs the request again as a writer
            except Exception as exc:
                response = page_error(request, exc)
            secure = session.is_secure(request)
            session.jar(request).apply(response, secure)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            if response.media_type == "text/html" or response.status_code in (301, 302, 303, 307):
                response.headers.setdefault("Cache-Control", "no-store")
                response.headers.setdefault("Vary", "Cookie, Accept-Language, Accept")
            return response

        return handler


async def _check_csrf(request: Request) -> None:
    container: Container = request.app.state.container
    submitted = request.headers.get(session.CSRF_HEADER)
    if submitted is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            submitted_value = (await form(request)).get(session.CSRF_FIELD)
            submitted = submitted_value if isinstance(submitted_value, str) else None
    if not session.csrf_ok(container, request, submitted):
        raise HTTPException(403, "This form has expired. Go back, reload the page and send it again.")


class HtmlOnlyRoute(PageRoute):
    """A page at a path the JSON API also serves (``/search``, ``/verify/{id}``): it answers only a
    client that asks for HTML first (a browser's navigation); any other client falls through to the
    JSON route registered after it."""

    def matches(self, scope: Any) -> tuple[Any, dict[str, Any]]:
        from starlette.routing import Match

        if not wants_html(dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")):
            return Match.NONE, {}
        return super().matches(scope)


def wants_html(accept: str) -> bool:
    """True when ``text/html`` is acceptable and ranks at least as high as JSON (``*/*`` alone, what
    curl and most API clients send, means JSON)."""
    best_html, best_json = 0.0, 0.0
    for item in accept[:1000].split(","):
        kind, _, params = item.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            name, _, val = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
        kind = kind.strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, q)
        elif kind in ("application/json", "*/*", "application/*"):
            best_json = max(best_json, q)
    return best_html > 0 and best_html >= best_json
