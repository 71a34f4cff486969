"""Embedded gateways for running Legato without a Stripe account.

:class:`LocalTestGateway` is a payment gateway whose "hosted page" is a local confirm URL. Confirming
does not credit anything directly: it builds the ``checkout.session.completed`` event Stripe would send,
signs it with the webhook secret exactly as Stripe does, and hands it to the same webhook handler. So the
local path exercises signature checking, exactly-once processing and the ledger postings of production.

:class:`LocalPayoutGateway` records payouts in memory and can be told to refuse, lose (ambiguous
failure) or hold (settle later) the next one, which is what the payout tests and demos need.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from marketplace.errors import GatewayDeclined, InvalidRequest, PaymentGatewayError
from marketplace.money.gateways.protocol import (
    GatewayCheckout,
    GatewayPayout,
    GatewayRefund,
    SignedEvent,
    public_base,
)


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value: ``t=<unix>,v1=HMAC-SHA256(secret, "<t>.<payload>")``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _stable_id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


class LocalTestGateway:
    name = "local"

    def __init__(self, *, public_url: str | Callable[[], str], webhook_secret: str) -> None:
        self._public_url = public_url
        self._secret = webhook_secret

    def create_checkout(
        self, *, checkout_id: str, amount_cents: int, currency: str, description: str,
        customer_ref: str, success_url: str, cancel_url: str, metadata: Mapping[str, str],
    ) -> GatewayCheckout:
        return GatewayCheckout(
            session_id=_stable_id("cs_local_", checkout_id),
            url=f"{public_base(self._public_url)}/payments/test-gateway/checkouts/{checkout_id}/confirm",
        )

    def completion_event(
        self, *, session_id: str, checkout_id: str, amount_cents: int, currency: str,
        customer_ref: str, metadata: Mapping[str, str],
    ) -> SignedEvent:
        """The signed ``checkout.session.completed`` Stripe would deliver for a paid session. Ids are
        derived from the session, so confirming twice delivers the same event twice (and it is
        processed once)."""
        session_obj = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount_cents,
            "amount_total": amount_cents,
            "client_reference_id": checkout_id,
            "currency": currency.lower(),
            "customer": None,
            "livemode": False,
            "metadata": dict(metadata),
            "mode": "payment",
            "payment_intent": _stable_id("pi_local_", session_id),
            "payment_status": "paid",
            "status": "complete",
        }
        return self._event("checkout.session.completed", session_obj, _stable_id("evt_local_", session_id))

    def refund(
        self, *, payment_intent: str, amount_cents: int, idempotency_key: str,
        charge_amount_cents: int, refunded_before_cents: int, currency: str,
    ) -> GatewayRefund:
        if amount_cents <= 0 or refunded_before_cents + amount_cents > charge_amount_cents:
            raise GatewayDeclined("Refund amount exceeds what remains of the charge.",
                                  details={"remaining_cents": charge_amount_cents - refunded_before_cents})
        refunded = refunded_before_cents + amount_cents
        charge = {
            "id": _stable_id("ch_local_", payment_intent),
            "object": "charge",
            "amount": charge_amount_cents,
            "amount_captured": charge_amount_cents,
            "amount_refunded": refunded,
            "currency": currency.lower(),
            "paid": True,
            "payment_intent": payment_intent,
            "refunded": refunded == charge_amount_cents,
            "status": "succeeded",
        }
        event = self._event("charge.refunded", charge, _stable_id("evt_local_", idempotency_key))
        return GatewayRefund(refund_id=_stable_id("re_local_", idempotency_key), status="succeeded",
                             events=(event,))

    def _event(self, type_: str, obj: dict[str, Any], event_id: str) -> SignedEvent:
        event = {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "type": type_,
        }
        payload = json.dumps(event, separators=(",", ":")).encode()
        return SignedEvent(payload=payload, signature=sign_payload(payload, self._secret))


@dataclass
class _Planned:
    outcome: Literal["decline", "lose", "hold"]
    reason: str


class LocalPayoutGateway:
    """Payouts that go nowhere but are recorded; ``sent`` lists each accepted one once per key."""

    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[_Planned] = []
        self._by_key: dict[str, GatewayPayout] = {}
        self.sent: list[dict[str, Any]] = []

    def decline_next(self, reason: str = "account closed") -> None:
        """The next payout is refused outright (the gateway answered no)."""
        with self._lock:
            self._planned.append(_Planned("decline", reason))

    def lose_next(self, reason: str = "timeout") -> None:
        """The next payout call fails without an answer: the outcome is unknown to the caller, though
        the gateway did not pay (a retry with the same key then goes through)."""
        with self._lock:
            self._planned.append(_Planned("lose", reason))

    def hold_next(self) -> None:
        """The next payout is accepted as ``pending``; its outcome is reported later."""
        with self._lock:
            self._planned.append(_Planned("hold", ""))

    def validate_destination(self, destination: str) -> None:
        if not destination or len(destination) > 255:
            raise InvalidRequest("A payout destination of 1-255 characters is required.")

    def default_destination(self, user_id: str) -> str | None:
        return f"local:{user_id}"

    def send(
        self, *, payout_id: str, destination: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> GatewayPayout:
        with self._lock:
            if idempotency_key in self._by_key:
                return self._by_key[idempotency_key]
            plan = self._planned.pop(0) if self._planned else None
            if plan is not None and plan.outcome == "decline":
                raise GatewayDeclined(f"Payout refused: {plan.reason}.", details={"payout_id": payout_id})
            if plan is not None and plan.outcome == "lose":
                raise PaymentGatewayError(f"No answer from the payout gateway ({plan.reason}).",
                                          details={"payout_id": payout_id})
            result = GatewayPayout(
                gateway_ref=_stable_id("tr_local_", idempotency_key),
                status="pending" if plan is not None and plan.outcome == "hold" else "paid",
            )
            self._by_key[idempotency_key] = result
            self.sent.append({"payout_id": payout_id, "destination": destination,
                              "amount_cents": amount_cents, "currency": currency,
                              "gateway_ref": result.gateway_ref})
            return result
