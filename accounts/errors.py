"""One error root for accounts.

Every failure accounts reports is an :class:`AccountsError` with a stable ``code`` (the string the HTTP
envelope carries) and JSON-safe ``details``; no HTTP status is named here. ``api/http/errors.py`` maps
each code to a status once, so the rules of registration and login stay free of the web framework.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AccountsError(Exception):
    code: ClassVar[str] = "ACCOUNTS_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class AlreadyRegistered(AccountsError):
    """The email or username belongs to another account; ``details.field`` says which."""

    code = "CONFLICT"


class NotAuthenticated(AccountsError):
    """Wrong credentials, or a refresh token that is unknown, used, revoked or expired. One code for all
    of them, so a client cannot tell a missing account from a wrong password."""

    code = "UNAUTHORIZED"


class LoginThrottled(AccountsError):
    """Too many failed logins for the account or the client in the current window.

    ``retry_after`` (seconds until the window ends) is also in ``details.retry_after_seconds``; the HTTP
    layer sends it as ``Retry-After``."""

    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, *, retry_after: int, scope: str) -> None:
        super().__init__(message, details={"retry_after_seconds": retry_after, "scope": scope})
        self.retry_after = retry_after
