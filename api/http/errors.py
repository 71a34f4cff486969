"""The error envelope, and the one place domain errors become HTTP statuses.

Every error the API returns, from a failed login to an unknown route to a crash, has the shape::

    {"error": {"code", "message", "details", "timestamp", "request_id"}}
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from accounts.errors import AccountsError, LoginThrottled
from api.http.inputguard import JsonRefused
from api.request_context import request_id_var
from content.errors import ContentError
from marketplace.errors import MarketplaceError
from registry.errors import RegistryError

log = logging.getLogger("legato.api")


class ApiError(Exception):
    """An error raised by the API layer itself (auth, permissions, request shape)."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(
        self, message: str, *, details: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "BAD_REQUEST"


class Unauthorized(ApiError):
    status, code = 401, "UNAUTHORIZED"


class Forbidden(ApiError):
    status, code = 403, "FORBIDDEN"


class NotFound(ApiError):
    status, code = 404, "NOT_FOUND"


class Conflict(ApiError):
    status, code = 409, "CONFLICT"


class PayloadTooLarge(ApiError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class TooManyRequests(ApiError):
    status, code = 429, "TOO_MANY_REQUESTS"


class ClientClosedRequest(ApiError):
    """The client went away while its request waited for the database: nobody to answer, nothing done
    (nginx's 499, so the access log tells these apart from server faults)."""

    status, code = 499, "CLIENT_CLOSED_REQUEST"


class ServerBusy(ApiError):
    """Every database slot stayed taken for the queue timeout: shed load with a retry hint."""

    status, code = 503, "SERVER_BUSY"


# Domain error codes → HTTP status. A code missing here is a server fault (500), on purpose: every
# client-facing error must be mapped deliberately.
STATUS_BY_CODE: dict[str, int] = {
    # registry
    "INVALID_CONTENT_FORMAT": 400,
    "NOT_FOUND": 404,
    "PLAGIARISM_SUSPECTED": 409,
    "VERIFICATION_FAILED": 422,
    "INVALID_TIMESTAMP": 422,
    "INVALID_SIGNATURE": 422,
    "INVALID_PROOF": 422,
    "DEPENDENCY_UNAVAILABLE": 503,
    "TSA_UNAVAILABLE": 503,
    "CHAIN_UNAVAILABLE": 503,
    "IPFS_UNAVAILABLE": 503,
    "CHAIN_ERROR": 502,
    "LICENSE_OVERLAP": 409,
    "MALFORMED_TIMESTAMP_MESSAGE": 422,
    "INCOMPATIBLE_FINGERPRINT": 409,  # fingerprints of other parameters or another key cannot be compared
    "IPFS_BLOCK_CORRUPT": 503,  # quarantined; the store is repaired when the bytes are added again
    "CONFIGURATION_ERROR": 500,  # the deployment is misconfigured: a server fault, logged
    "REGISTRY_ERROR": 500,
    # marketplace
    "INSUFFICIENT_FUNDS": 402,
    "INVALID_STATE_TRANSITION": 409,
    "INVALID_REQUEST": 400,
    "CONFLICT": 409,
    "FORBIDDEN": 403,
    "PAYMENT_GATEWAY_ERROR": 502,
    "INVALID_WEBHOOK_SIGNATURE": 400,
    # licensing (LICENSE_OVERLAP above is shared with the chain's refusal)
    "WORK_DISPUTED": 409,
    "WORK_NOT_REGISTERED": 409,
    "LISTING_CLOSED": 409,
    "LICENSE_TERM_IN_PAST": 422,
    "LICENSE_TERM_ENDED": 409,
    # accounts (CONFLICT above: the email or username is taken)
    "UNAUTHORIZED": 401,
    "TOO_MANY_REQUESTS": 429,
    # content (NOT_FOUND, FORBIDDEN, CONFLICT and INVALID_STATE_TRANSITION above)
    "BAD_REQUEST": 400,
    "PAYLOAD_TOO_LARGE": 413,
    "CHAPTER_LOCKED": 403,
    "BLOCKED": 403,
    "COMMENT_DEPTH_EXCEEDED": 422,
    "INVALID_CURSOR": 400,
    "INVALID_PUBLISH_TIME": 422,
    "INVALID_MANUSCRIPT": 400,
    "UNSUPPORTED_MANUSCRIPT_FORMAT": 400,
    "MANUSCRIPT_ALREADY_IMPORTED": 409,
    "CONTENT_KEYRING_INVALID": 500,  # the server's key configuration, never the client's fault
    "CIPHERTEXT_INVALID": 500,  # a stored text that does not open: damaged row or lost key
}


def error_body(
    code: str, message: str, details: dict[str, Any] | None = None, *, request_id: str | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "request_id": request_id or request_id_var.get(),
        }
    }


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    request_id: str | None = None,
) -> JSONResponse:
    rid = request_id or request_id_var.get()
    body = error_body(code, message, details, request_id=rid)
    out_headers = dict(headers or {})
    if rid:
        out_headers["X-Request-ID"] = rid
    return JSONResponse(body, status_code=status, headers=out_headers)


_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "TOO_MANY_REQUESTS",
}


DomainError = RegistryError | AccountsError | ContentError | MarketplaceError


def domain_headers(exc: DomainError) -> dict[str, str]:
    """Headers a domain error implies: a throttled login says when to try again."""
    if isinstance(exc, LoginThrottled):
        return {"Retry-After": str(exc.retry_after)}
    return {}


def json_refused_status(exc: JsonRefused) -> int:
    return 422 if exc.code == "NUMBER_OUT_OF_RANGE" else 400


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RegistryError)
    @app.exception_handler(AccountsError)
    @app.exception_handler(ContentError)
    @app.exception_handler(MarketplaceError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = STATUS_BY_CODE.get(exc.code, 500)
        if status >= 500:
            log.error("domain error %s: %s", exc.code, exc.message, exc_info=exc)
        return envelope(status, exc.code, exc.message, exc.details, domain_headers(exc))

    @app.exception_handler(JsonRefused)
    async def _json_refused(_: Request, exc: JsonRefused) -> JSONResponse:
        # JSON inside a field (a certificate string) refused before parsing, as a body would be.
        return envelope(json_refused_status(exc), exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            entry = {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": err.get("msg"),
                "type": err.get("type"),
            }
            errors.append(entry)
        malformed = any(e["type"] == "json_invalid" for e in errors)
        if malformed:
            return envelope(400, "MALFORMED_JSON", "The request body is not valid JSON.", {"errors": errors})
        return envelope(422, "VALIDATION_ERROR", "The request is not valid.", {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
        if exc.status_code == 404 and message == "Not Found":
            message = "No such resource."
        return envelope(exc.status_code, code, message, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # This handler runs outside every middleware (Starlette's ServerErrorMiddleware), after the
        # request-id context has been reset, so the id is read from the request's state instead.
        rid = getattr(request.state, "request_id", None)
        log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
        return envelope(
            500,
            "INTERNAL_ERROR",
            "An internal error occurred. Quote the request id when reporting it.",
            request_id=rid,
        )
