"""The web pages' one doorway into the rest of Legato.

Pages call the same domain services the JSON routers call (through the :class:`Container`), never the
JSON API over HTTP. Every name the pages need from outside ``api/web`` is imported here and only here,
so a move of the modules underneath (the architecture issue) is one file to fix, not twenty.
"""

from __future__ import annotations

from typing import Any

from accounts.credentials import TokenError
from accounts.errors import AccountsError, AlreadyRegistered, LoginThrottled, NotAuthenticated
from accounts.models import Role, User
from api.client_ip import client_address
from api.db import ReaderWrote
from api.http.deps import ContainerDep, SessionDep
from api.http.errors import STATUS_BY_CODE, ApiError, BadRequest, Forbidden, NotFound, Unauthorized
from api.http.inputguard import JsonRefused, check_json_bytes
from api.http.schemas.accounts import LANGUAGE_PATTERN, USERNAME_PATTERN, ProfileIn, RegisterIn
from api.http.schemas.community import CommentIn, ProgressIn
from api.wiring import Container
from content import access, chapters, community, reading, search, social, stories, texts
from content.errors import ContentError
from content.models.reading import Follow, LibraryEntry, ReadingProgress
from content.models.stories import Chapter, ChapterStatus, Story, StoryStatus
from content.pagination import MAX_LIMIT
from marketplace.errors import MarketplaceError
from registry.certificate_verify import Report
from registry.errors import RegistryError

__all__ = [
    "LANGUAGE_PATTERN",
    "MAX_LIMIT",
    "USERNAME_PATTERN",
    "AlreadyRegistered",
    "ApiError",
    "BadRequest",
    "Chapter",
    "ChapterStatus",
    "CommentIn",
    "Container",
    "ContainerDep",
    "Follow",
    "Forbidden",
    "JsonRefused",
    "LibraryEntry",
    "LoginThrottled",
    "NotAuthenticated",
    "NotFound",
    "ProfileIn",
    "ProgressIn",
    "ReaderWrote",
    "ReadingProgress",
    "RegisterIn",
    "Report",
    "Role",
    "SessionDep",
    "Story",
    "StoryStatus",
    "TokenError",
    "Unauthorized",
    "User",
    "access",
    "chapters",
    "check_json_bytes",
    "client_address",
    "community",
    "error_status",
    "reading",
    "search",
    "social",
    "stories",
    "texts",
]


def error_status(exc: BaseException) -> tuple[int, str, str, dict[str, Any]] | None:
    """(status, code, message, details) of an error a client caused, as the JSON API would answer it;
    None for a server fault. Kept here because where statuses live moves with the architecture."""
    if isinstance(exc, JsonRefused):
        return 400, exc.code, exc.message, exc.details
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message, exc.details
    code = getattr(exc, "code", None)
    mapped = isinstance(code, str) and code in STATUS_BY_CODE
    if isinstance(exc, RegistryError | MarketplaceError | AccountsError | ContentError) or mapped:
        status = STATUS_BY_CODE.get(str(code), 500)
        if status >= 500:
            return None
        return status, str(code), str(getattr(exc, "message", "")), dict(getattr(exc, "details", {}) or {})
    return None
