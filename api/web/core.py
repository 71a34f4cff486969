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
from api.http.errors import (
    STATUS_BY_CODE,
    ApiError,
    BadRequest,
    DomainError,
    Forbidden,
    NotFound,
    Unauthorized,
    domain_headers,
)
from api.http.inputguard import JsonRefused, check_json_bytes
from api.http.schemas.accounts import LANGUAGE_PATTERN, USERNAME_PATTERN, ProfileIn, RegisterIn
from api.http.schemas.community import CommentIn, ProgressIn
from api.http.schemas.content import MAX_CHAPTER_CHARS, MAX_PRICE_COINS, StoryIn, StoryUpdate
from api.http.schemas.marketplace import ListingIn, TermsIn
from api.wiring import Container
from api.works import SORTS as LISTING_SORTS
from api.works import browse_listings, metrics_for, ownership
from content import (
    access,
    chapters,
    community,
    importer,
    moderation,
    publishing,
    reading,
    search,
    social,
    stories,
    texts,
)
from content.models.community import ReportStatus, ReportTarget
from content.models.reading import Follow, LibraryEntry, ReadingProgress
from content.models.stories import Chapter, ChapterStatus, ChapterVersion, Story, StoryStatus
from content.pagination import MAX_LIMIT
from marketplace.licensing.catalog import public_work
from marketplace.licensing.disputes import Ruling
from marketplace.licensing.models import AgreementStatus, DisputeStatus, LicenseListing, OfferStatus
from marketplace.licensing.offers import LIVE, Action, answerer
from marketplace.licensing.terms import Actor
from registry.certificate_verify import Report

__all__ = [
    "LANGUAGE_PATTERN",
    "MAX_LIMIT",
    "USERNAME_PATTERN",
    "AccountsError",
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
    "domain_headers",
    "error_status",
    "reading",
    "search",
    "social",
    "stories",
    "texts",
]
# Part 2 (the writer dashboard, the studio, admin and the wallet): the same services the JSON routers call.
__all__ += [  # kept apart from part 1's list, so the two grow without colliding
    "LISTING_SORTS", "LIVE", "MAX_CHAPTER_CHARS", "MAX_PRICE_COINS", "Action", "Actor", "AgreementStatus",
    "ChapterVersion", "DisputeStatus", "LicenseListing", "ListingIn", "OfferStatus", "ReportStatus",
    "ReportTarget", "Ruling", "StoryIn", "StoryUpdate", "TermsIn", "actor_of", "answerer",
    "browse_listings", "importer", "metrics_for", "moderation", "ownership", "public_work", "publishing",
    "texts",
]


def actor_of(user: User) -> Actor:
    """The marketplace's view of a signed-in user, built exactly as the JSON marketplace router builds it."""
    return Actor(id=user.id, is_admin=user.role == Role.admin)


def error_status(exc: BaseException) -> tuple[int, str, str, dict[str, Any]] | None:
    """(status, code, message, details) of an error a client caused, as the JSON API would answer it;
    None for a server fault. Kept here because where statuses live moves with the architecture."""
    if isinstance(exc, JsonRefused):
        return 400, exc.code, exc.message, exc.details
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message, exc.details
    code = getattr(exc, "code", None)
    mapped = isinstance(code, str) and code in STATUS_BY_CODE
    if isinstance(exc, DomainError) or mapped:
        status = STATUS_BY_CODE.get(str(code), 500)
        if status >= 500:
            return None
        return status, str(code), str(getattr(exc, "message", "")), dict(getattr(exc, "details", {}) or {})
    return None
