"""One error root for the marketplace (money and licensing), each subclass with a stable ``code``.

No HTTP here: the gateway maps each code to a status once (``api/http/errors.py``, ``STATUS_BY_CODE``),
and a test fails on a code it does not map. Only subclasses are raised, never the root itself.
"""

from __future__ import annotations

from typing import Any, ClassVar


class MarketplaceError(Exception):
    code: ClassVar[str] = "MARKETPLACE_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class NotFound(MarketplaceError):
    code = "NOT_FOUND"


class InsufficientFunds(MarketplaceError):
    code = "INSUFFICIENT_FUNDS"


class InvalidTransition(MarketplaceError):
    """An offer or agreement was asked to move to a state its state machine does not allow."""

    code = "INVALID_STATE_TRANSITION"


class InvalidRequest(MarketplaceError):
    code = "INVALID_REQUEST"


class Conflict(MarketplaceError):
    code = "CONFLICT"


class Forbidden(MarketplaceError):
    code = "FORBIDDEN"


class PaymentGatewayError(MarketplaceError):
    code = "PAYMENT_GATEWAY_ERROR"


class InvalidWebhook(MarketplaceError):
    code = "INVALID_WEBHOOK_SIGNATURE"


class GatewayDeclined(PaymentGatewayError):
    """The gateway answered and refused (a 4xx): nothing happened there, so the money can be returned.
    A plain :class:`PaymentGatewayError` means the outcome is unknown (timeout, 5xx) and must be retried
    with the same idempotency key before anything is undone."""


# --- licensing -----------------------------------------------------------------------------------


class LicenseOverlap(MarketplaceError):
    """The terms collide with a license already agreed or granted on the same work and medium (the
    ``LicenseRegistry`` rule: an exclusive grant may overlap no other grant, a non-exclusive one no
    exclusive grant)."""

    code = "LICENSE_OVERLAP"


class WorkDisputed(MarketplaceError):
    """The work is under an upheld dispute: it cannot be listed, licensed or paid out."""

    code = "WORK_DISPUTED"


class WorkNotRegistered(MarketplaceError):
    """A story can be listed only when it has published chapters and each has an issued certificate."""

    code = "WORK_NOT_REGISTERED"


class ListingClosed(MarketplaceError):
    code = "LISTING_CLOSED"


class LicenseTermInPast(MarketplaceError):
    """Offered or countered terms whose whole period has already ended: nothing left to license."""

    code = "LICENSE_TERM_IN_PAST"


class LicenseTermEnded(MarketplaceError):
    """The terms on the table ended while they waited for an answer: they can no longer be accepted."""

    code = "LICENSE_TERM_ENDED"
