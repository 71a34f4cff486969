"""Checkouts and the gateway's webhooks: the one path by which outside money enters or leaves the ledger.

A checkout is opened for a :class:`CheckoutOrder` (coins, a subscription month, a license fee). What
paying it buys is decided by the order's *purpose* handler (:class:`CheckoutPurpose`), so this module knows
nothing of coins or licenses; it knows payments and their refunds and disputes.

Webhook rules (docs/money.md has the long form):

* Verified first: ``stripe.WebhookSignature.verify_header`` with the endpoint secret and a timestamp
  tolerance; anything else is ``INVALID_WEBHOOK_SIGNATURE``.
* Exactly once per event id: the :class:`WebhookEvent` row commits together with the event's effects, so
  a redelivery finds it and does nothing, and a failed handling leaves no row and is retried.
* Independent of order and of duplicates *across* events: credits are keyed on the checkout, not on
  the event, so ``completed`` and ``async_payment_succeeded`` for one payment credit once; refunds and
  disputes are stored as the latest state of each gateway object (cumulative ``amount_refunded``,
  dispute status that never leaves a final state) and the checkout is then *reconciled* to the total
  they imply. A refund that arrives before its completion is parked and applied when the completion lands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.errors import InvalidRequest, InvalidWebhook, NotFound
from marketplace.money.gateways.local import LocalTestGateway
from marketplace.money.gateways.protocol import PaymentGateway, SignedEvent, public_base
from marketplace.money.models import Checkout, CheckoutStatus, PaymentAdjustment, WebhookEvent
from registry.db import new_id, utcnow

log = logging.getLogger("legato.payments")

# Dispute statuses in which the disputed funds have been taken from us. Inquiries (``warning_*``) move
# no money; ``won`` gives it back; ``lost`` keeps it taken.
_DISPUTE_WITHDRAWN = {"needs_response", "under_review", "lost"}
_DISPUTE_FINAL = {"won", "lost", "warning_closed", "prevented"}
# Webhook fields land in String(255) columns and BIGINT cents: anything outside is not Stripe's.
_MAX_REF_CHARS = 255
_MAX_TYPE_CHARS = 100
_MAX_CENTS = 2**53


def _text(value: Any, max_chars: int) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= max_chars and "\x00" not in value:
        return value
    return None


def _ref(obj: Mapping[str, Any], key: str) -> str | None:
    """A Stripe id from an event object, or None when absent or not a sane id."""
    return _text(obj.get(key), _MAX_REF_CHARS)


def _cents(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return value if type(value) is int and 0 <= value <= _MAX_CENTS else None


def _parse_event(payload: bytes) -> tuple[str, str, dict[str, Any]]:
    """The event's id, type and ``data.object``, each checked for type and size: a signed body is
    still only as sane as whoever holds the secret, and a bad one must be a 400, not a 500."""
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as e:
        raise InvalidRequest("The webhook body is not a Stripe event.") from e
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    event_id = _text(event.get("id"), _MAX_REF_CHARS) if isinstance(event, dict) else None
    event_type = _text(event.get("type"), _MAX_TYPE_CHARS) if isinstance(event, dict) else None
    if event_id is None or event_type is None or not isinstance(obj, dict):
        raise InvalidRequest(
            "The webhook body is not a Stripe event (a string id and type, and an object in data.object).",
            details={"max_id_chars": _MAX_REF_CHARS},
        )
    return event_id, event_type, obj


@dataclass(frozen=True)
class CheckoutOrder:
    purpose: str
    reference: str
    description: str
    amount_cents: int
    currency: str = "USD"
    coins: int = 0
    attributes: Mapping[str, Any] = field(default_factory=dict)


class CheckoutPurpose(Protocol):
    """What a paid checkout buys. Both calls run inside the webhook's transaction and must be
    idempotent (ledger keys derived from the checkout), because an event may be handled again after a
    crash between the ledger write and the commit."""

    def on_paid(self, session: Session, checkout: Checkout) -> str: ...

    def on_reversal(self, session: Session, checkout: Checkout, *, target_cents: int, key: str) -> str:
        """Bring the effects of ``checkout`` in line with ``target_cents`` of it being refunded or
        disputed in total (more or less than ``checkout.reversed_cents``), using ledger key ``key``."""
        ...


class TransferEvents(Protocol):
    """The payout side's interest in gateway events (``transfer.reversed``)."""

    def on_transfer_reversed(self, session: Session, *, gateway_ref: str, amount_cents: int) -> str: ...


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    type: str
    duplicate: bool
    outcome: str


class Payments:
    def __init__(
        self, *, gateway: PaymentGateway, webhook_secret: str, webhook_tolerance_seconds: int,
        public_url: str | Callable[[], str], purposes: Mapping[str, CheckoutPurpose],
        transfer_events: TransferEvents | None = None,
    ) -> None:
        self.gateway = gateway
        self._secret = webhook_secret
        self._tolerance = webhook_tolerance_seconds
        self._public_url = public_url
        self._purposes = dict(purposes)
        self._transfer_events = transfer_events

    # --- checkouts -------------------------------------------------------------------------------
    def start_checkout(self, session: Session, *, user_id: str, order: CheckoutOrder) -> Checkout:
        if order.purpose not in self._purposes:
            raise InvalidRequest(f"No handler for checkout purpose {order.purpose!r}.")
        if type(order.amount_cents) is not int or order.amount_cents <= 0:
            raise InvalidRequest("A checkout needs a positive amount in cents.")
        checkout = Checkout(
            id=new_id(), user_id=user_id, purpose=order.purpose, reference=order.reference,
            description=order.description, amount_cents=order.amount_cents, currency=order.currency,
            coins=order.coins, gateway=self.gateway.name, attributes=dict(order.attributes),
        )
        # The row exists before the gateway call so the gateway's idempotency key (our id) is stable;
        # if the request then fails the session is simply never paid and expires at the gateway.
        result = self.gateway.create_checkout(
            checkout_id=checkout.id, amount_cents=order.amount_cents, currency=order.currency,
            description=order.description, customer_ref=user_id,
            success_url=f"{public_base(self._public_url)}/payments/checkouts/{checkout.id}?result=success",
            cancel_url=f"{public_base(self._public_url)}/payments/checkouts/{checkout.id}?result=cancel",
            metadata={"checkout_id": checkout.id, "purpose": order.purpose, "user_id": user_id},
        )
        checkout.gateway_session_id = result.session_id
        checkout.checkout_url = result.url
        session.add(checkout)
        session.flush()
        return checkout

    def get_checkout(self, session: Session, checkout_id: str, *, user_id: str | None = None) -> Checkout:
        checkout = session.get(Checkout, checkout_id)
        if checkout is None or (user_id is not None and checkout.user_id != user_id):
            raise NotFound("No such checkout.", details={"checkout_id": checkout_id})
        return checkout

    @property
    def is_local(self) -> bool:
        return isinstance(self.gateway, LocalTestGateway)

    def confirm_test_checkout(self, session: Session, checkout_id: str) -> WebhookOutcome:
        """The local gateway's "pay" button: deliver the signed completion event to the webhook path."""
        if not isinstance(self.gateway, LocalTestGateway):
            raise NotFound("The test gateway is not in use.")
        checkout = self.get_checkout(session, checkout_id)
        event = self.gateway.completion_event(
            session_id=checkout.gateway_session_id or "", checkout_id=checkout.id,
            amount_cents=checkout.amount_cents, currency=checkout.currency, customer_ref=checkout.user_id,
            metadata={"checkout_id": checkout.id, "purpose": checkout.purpose, "user_id": checkout.user_id},
        )
        return self.handle_webhook(session, event.payload, event.signature)

    def refund(self, session: Session, checkout_id: str, *, amount_cents: int | None = None,
               requested_by: str) -> list[WebhookOutcome]:
        """Ask the gateway to refund (all that remains by default). The ledger moves when the gateway's
        ``charge.refunded`` arrives; the local gateway returns that event and it is handled here."""
        checkout = self.get_checkout(session, checkout_id)
        if checkout.status != CheckoutStatus.paid or not checkout.payment_intent:
            raise InvalidRequest("Only a paid checkout can be refunded.", details={"status": checkout.status})
        before = self._refunded_cents(session, checkout.payment_intent)
        amount = checkout.amount_cents - before if amount_cents is None else amount_cents
        if type(amount) is not int or amount <= 0 or before + amount > checkout.amount_cents:
            raise InvalidRequest("Refund amount must be positive and within what was paid.",
                                 details={"refundable_cents": checkout.amount_cents - before})
        result = self.gateway.refund(
            payment_intent=checkout.payment_intent, amount_cents=amount,
            idempotency_key=f"legato-refund-{checkout.id}-{before}-{amount}",
            charge_amount_cents=checkout.amount_cents, refunded_before_cents=before,
            currency=checkout.currency,
        )
        log.info("refund %s requested by %s for checkout %s (%d cents)", result.refund_id, requested_by,
                 checkout.id, amount)
        return [self.deliver(session, e) for e in result.events]

    def deliver(self, session: Session, event: SignedEvent) -> WebhookOutcome:
        return self.handle_webhook(session, event.payload, event.signature)

    # --- webhooks --------------------------------------------------------------------------------
    def handle_webhook(self, session: Session, payload: bytes, signature: str | None) -> WebhookOutcome:
        try:
            stripe.WebhookSignature.verify_header(payload, signature, self._secret, self._tolerance)
        except stripe.SignatureVerificationError as e:
            raise InvalidWebhook("The webhook signature is not valid.", details={"reason": str(e)}) from e
        event_id, event_type, obj = _parse_event(payload)
        if session.get(WebhookEvent, event_id) is not None:
            return WebhookOutcome(event_id, event_type, duplicate=True, outcome="duplicate")
        record = WebhookEvent(id=event_id, type=event_type, outcome="processing")
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
        except IntegrityError:
            # A concurrent delivery of the same event committed first.
            return WebhookOutcome(event_id, event_type, duplicate=True, outcome="duplicate")
        handler = self._handlers().get(event_type)
        outcome = handler(session, obj) if handler else "ignored"
        record.outcome = outcome[:200]
        session.flush()
        log.info("webhook %s %s: %s", event_type, event_id, outcome)
        return WebhookOutcome(event_id, event_type, duplicate=False, outcome=outcome)

    def _handlers(self) -> dict[str, Callable[[Session, dict[str, Any]], str]]:
        return {
            "checkout.session.completed": self._on_session_paid,
            "checkout.session.async_payment_succeeded": self._on_session_paid,
            "checkout.session.async_payment_failed": self._on_session_closed(CheckoutStatus.failed),
            "checkout.session.expired": self._on_session_closed(CheckoutStatus.expired),
            "charge.refunded": self._on_charge_refunded,
            "charge.dispute.created": self._on_dispute,
            "charge.dispute.updated": self._on_dispute,
            "charge.dispute.closed": self._on_dispute,
            "charge.dispute.funds_withdrawn": self._on_dispute,
            "charge.dispute.funds_reinstated": self._on_dispute,
            "transfer.reversed": self._on_transfer_reversed,
        }

    def _checkout_for_session(self, session: Session, obj: dict[str, Any]) -> Checkout | None:
        metadata = obj.get("metadata")
        checkout_id = _ref(obj, "client_reference_id") or (
            _ref(metadata, "checkout_id") if isinstance(metadata, dict) else None)
        if checkout_id is None:
            return None
        checkout = session.scalars(
            select(Checkout).where(Checkout.id == checkout_id)
            .with_for_update().execution_options(populate_existing=True)
        ).first()
        if checkout is None or checkout.gateway_session_id != obj.get("id"):
            return None
        return checkout

    def _on_session_paid(self, session: Session, obj: dict[str, Any]) -> str:
        checkout = self._checkout_for_session(session, obj)
        if checkout is None:
            return "unknown_checkout"
        if obj.get("payment_status") != "paid":
            return "awaiting_payment"
        if obj.get("amount_total") != checkout.amount_cents or \
                str(obj.get("currency", "")).upper() != checkout.currency:
            log.error("checkout %s paid %.40r %.40r, expected %d %s", checkout.id, obj.get("amount_total"),
                      obj.get("currency"), checkout.amount_cents, checkout.currency)
            return "amount_mismatch"
        if checkout.status == CheckoutStatus.paid:
            return "already_paid"
        # A paid completion wins over an earlier expiry or failure: the customer's money was taken.
        checkout.status = CheckoutStatus.paid
        checkout.payment_intent = _ref(obj, "payment_intent") or f"nopi_{checkout.id}"
        checkout.paid_at = utcnow()
        session.flush()
        outcome = self._purposes[checkout.purpose].on_paid(session, checkout)
        return f"{outcome}; {self._reconcile(session, checkout)}"

    def _on_session_closed(self, status: CheckoutStatus) -> Callable[[Session, dict[str, Any]], str]:
        def handle(session: Session, obj: dict[str, Any]) -> str:
            checkout = self._checkout_for_session(session, obj)
            if checkout is None:
                return "unknown_checkout"
            if checkout.status != CheckoutStatus.open:
                return f"already_{checkout.status.value}"
            checkout.status = status
            return status.value

        return handle

    def _on_charge_refunded(self, session: Session, obj: dict[str, Any]) -> str:
        pi, charge_id, amount = _ref(obj, "payment_intent"), _ref(obj, "id"), _cents(obj, "amount_refunded")
        if not pi or not charge_id or amount is None:
            return "malformed_charge"
        adj = self._adjustment(session, "refund", charge_id, pi)
        # Cumulative and only ever growing: an older event delivered late carries a smaller total.
        adj.amount_cents = max(adj.amount_cents, amount)
        adj.status = "refunded"
        return self._reconcile_payment(session, pi)

    def _on_dispute(self, session: Session, obj: dict[str, Any]) -> str:
        pi, dispute_id, amount = _ref(obj, "payment_intent"), _ref(obj, "id"), _cents(obj, "amount")
        status = _text(obj.get("status"), 32) or ""
        if not pi or not dispute_id or amount is None:
            return "malformed_dispute"
        adj = self._adjustment(session, "dispute", dispute_id, pi)
        if adj.status not in _DISPUTE_FINAL:
            adj.status = status
            adj.amount_cents = amount
        return self._reconcile_payment(session, pi)

    def _on_transfer_reversed(self, session: Session, obj: dict[str, Any]) -> str:
        amount, transfer_id = _cents(obj, "amount_reversed"), _ref(obj, "id")
        if self._transfer_events is None or transfer_id is None or amount is None:
            return "ignored"
        return self._transfer_events.on_transfer_reversed(session, gateway_ref=transfer_id,
                                                          amount_cents=amount)

    def _adjustment(self, session: Session, kind: str, external_id: str, pi: str) -> PaymentAdjustment:
        adj = session.scalars(
            select(PaymentAdjustment).where(PaymentAdjustment.kind == kind,
                                            PaymentAdjustment.external_id == external_id)
            .with_for_update()
        ).first()
        if adj is None:
            adj = PaymentAdjustment(payment_intent=pi, kind=kind, external_id=external_id, amount_cents=0,
                                    status="new")
            session.add(adj)
            session.flush()
        return adj

    def _refunded_cents(self, session: Session, pi: str) -> int:
        return sum(a.amount_cents for a in session.scalars(
            select(PaymentAdjustment).where(PaymentAdjustment.payment_intent == pi,
                                            PaymentAdjustment.kind == "refund")))

    def _reconcile_payment(self, session: Session, pi: str) -> str:
        checkout = session.scalars(
            select(Checkout).where(Checkout.payment_intent == pi)
            .with_for_update().execution_options(populate_existing=True)
        ).first()
        if checkout is None:
            return "parked_until_paid"
        return self._reconcile(session, checkout)

    def _reconcile(self, session: Session, checkout: Checkout) -> str:
        """Move the checkout's reversal to the total its refunds and disputes now imply."""
        adjustments = session.scalars(
            select(PaymentAdjustment).where(PaymentAdjustment.payment_intent == checkout.payment_intent)
        ).all()
        refunded = sum(a.amount_cents for a in adjustments if a.kind == "refund")
        disputed = sum(a.amount_cents for a in adjustments
                       if a.kind == "dispute" and a.status in _DISPUTE_WITHDRAWN)
        target = min(checkout.amount_cents, refunded + disputed)
        if target == checkout.reversed_cents:
            return "no_reversal_change"
        key = f"checkout:{checkout.id}:reversal:{checkout.reversal_steps + 1}"
        purpose = self._purposes[checkout.purpose]
        outcome = purpose.on_reversal(session, checkout, target_cents=target, key=key)
        checkout.reversed_cents = target
        checkout.reversal_steps += 1
        session.flush()
        return outcome
