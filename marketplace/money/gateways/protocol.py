"""The two money ports, :class:`PaymentGateway` and :class:`PayoutGateway`, and the values they return.

One module per adapter beside this one: ``stripe_gateway`` (Stripe Checkout and Connect) and ``local``
(the embedded default). The wiring picks one of each (``api/wiring.py``, from the settings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class SignedEvent:
    """A webhook delivery as it arrives over HTTP: the raw body and its ``Stripe-Signature`` header."""

    payload: bytes
    signature: str


@dataclass(frozen=True)
class GatewayCheckout:
    session_id: str
    url: str


@dataclass(frozen=True)
class GatewayRefund:
    refund_id: str
    status: str
    # The local gateway has no webhook sender of its own: it hands back the events Stripe would send
    # (``charge.refunded``) for the caller to run through the webhook path. Stripe leaves this empty.
    events: tuple[SignedEvent, ...] = ()


@dataclass(frozen=True)
class GatewayPayout:
    gateway_ref: str
    status: Literal["paid", "pending"]


class PaymentGateway(Protocol):
    name: str

    def create_checkout(
        self, *, checkout_id: str, amount_cents: int, currency: str, description: str,
        customer_ref: str, success_url: str, cancel_url: str, metadata: Mapping[str, str],
    ) -> GatewayCheckout:
        """Open a hosted payment page for exactly this amount; the checkout id is the idempotency key."""
        ...

    def refund(
        self, *, payment_intent: str, amount_cents: int, idempotency_key: str,
        charge_amount_cents: int, refunded_before_cents: int, currency: str,
    ) -> GatewayRefund:
        """Refund part or all of a payment. The ledger is not touched here: the reversal happens when
        the gateway's ``charge.refunded`` event arrives, the one path for refunds made anywhere."""
        ...


class PayoutGateway(Protocol):
    name: str

    def send(
        self, *, payout_id: str, destination: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> GatewayPayout:
        """Pay ``amount_cents`` to ``destination``. Raises ``GatewayDeclined`` when refused outright, and
        ``PaymentGatewayError`` when the outcome is unknown."""
        ...

    def validate_destination(self, destination: str) -> None:
        """Raise ``InvalidRequest`` for a destination this gateway cannot pay."""
        ...

    def default_destination(self, user_id: str) -> str | None:
        """Where to pay a writer who has not set a destination (``None``: they must set one)."""
        ...


def public_base(url: str | Callable[[], str]) -> str:
    """The base for links the platform hands out: a fixed URL, or a callable the wiring gives when the
    base depends on the request (no public URL configured)."""
    return (url() if callable(url) else url).rstrip("/")
