"""What the gateway knows about the request being served, for code below the HTTP layer that must not see
the request itself: its id (every log line carries it) and its base URL (where links in a certificate PDF,
the trust document or a checkout should point when no public URL is configured).

Context variables, set by the HTTP middleware and read by the logging formatter and the wiring, so neither
imports ``api.http``.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
request_base_url: ContextVar[str | None] = ContextVar("legato_base_url", default=None)
_fallback_base_url = ["http://127.0.0.1:8000"]


def set_fallback_base_url(url: str) -> None:
    """The base for links made outside a request (worker, CLI): ``legato serve`` sets its own address."""
    _fallback_base_url[0] = url.rstrip("/")


def current_base_url() -> str:
    """The base URL of the request being served, or the server's own address outside a request."""
    return request_base_url.get() or _fallback_base_url[0]
