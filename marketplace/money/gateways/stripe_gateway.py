"""Stripe adapters: Checkout Sessions and refunds for payments, Connect transfers for payouts.

Both use one ``stripe.StripeClient`` each (no module-level ``stripe.api_key``, so nothing global), with
``api_base`` overridable so tests can run the real library against a local HTTP server. Every call that
creates something carries an idempotency key, so a retried call never charges, refunds or pays twice.
Stripe's exceptions stop here: a refusal (HTTP 4xx) becomes :class:`GatewayDeclined`, anything whose
outcome is unknown (network, 5xx, rate limit) a plain :class:`PaymentGatewayError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import stripe

from marketplace.errors import GatewayDeclined, InvalidRequest, PaymentGatewayError
from marketplace.money.gateways.protocol import GatewayCheckout, GatewayPayout, GatewayRefund

_CONNECT_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]{1,64}$")


def _client(secret_key: str, api_base: str | None, max_network_retries: int) -> stripe.StripeClient:
    bases: dict[str, Any] = {}
    if api_base:
        bases = {"api": api_base.rstrip("/"), "connect": api_base.rstrip("/")}
    return stripe.StripeClient(secret_key, base_addresses=bases,  # type: ignore[arg-type]
                               max_network_retries=max_network_retries)


def _wrap(e: stripe.StripeError, action: str) -> PaymentGatewayError:
    status = e.http_status
    details = {"stripe_code": e.code, "http_status": status, "request_id": e.request_id}
    message = f"Stripe refused to {action}: {e.user_message or 'unknown error'}"
    definitive = isinstance(e, stripe.CardError | stripe.InvalidRequestError | stripe.AuthenticationError |
                            stripe.PermissionError | stripe.IdempotencyError)
    if definitive or (status is not None and 400 <= status < 500 and status != 429):
        return GatewayDeclined(message, details=details)
    return PaymentGatewayError(f"Stripe did not answer a request to {action}.", details=details)


class StripeGateway:
    name = "stripe"

    def __init__(self, *, secret_key: str, api_base: str | None = None, max_network_retries: int = 2) -> None:
        self._client = _client(secret_key, api_base, max_network_retries)

    def create_checkout(
        self, *, checkout_id: str, amount_cents: int, currency: str, description: str,
        customer_ref: str, success_url: str, cancel_url: str, metadata: Mapping[str, str],
    ) -> GatewayCheckout:
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": checkout_id,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "line_items": [{
                "quantity": 1,
                "price_data": {"currency": currency.lower(), "unit_amount": amount_cents,
                               "product_data": {"name": description}},
            }],
            "metadata": dict(metadata),
            "payment_intent_data": {"metadata": dict(metadata)},
        }
        try:
            session = self._client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"legato-checkout-{checkout_id}"},
            )
        except stripe.StripeError as e:
            raise _wrap(e, "open a checkout") from e
        if not session.url:
            raise PaymentGatewayError("Stripe returned a checkout session without a URL.",
                                      details={"session_id": session.id})
        return GatewayCheckout(session_id=session.id, url=session.url)

    def refund(
        self, *, payment_intent: str, amount_cents: int, idempotency_key: str,
        charge_amount_cents: int, refunded_before_cents: int, currency: str,
    ) -> GatewayRefund:
        try:
            refund = self._client.v1.refunds.create(
                params={"payment_intent": payment_intent, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as e:
            raise _wrap(e, "refund a payment") from e
        return GatewayRefund(refund_id=refund.id, status=str(refund.status))


class StripePayoutGateway:
    """Payouts as Connect transfers from the platform balance to the writer's connected account."""

    name = "stripe"

    def __init__(self, *, secret_key: str, api_base: str | None = None, max_network_retries: int = 2) -> None:
        self._client = _client(secret_key, api_base, max_network_retries)

    def validate_destination(self, destination: str) -> None:
        if not _CONNECT_ACCOUNT.match(destination or ""):
            raise InvalidRequest("A Stripe Connect account id (acct_…) is required as payout destination.")

    def default_destination(self, user_id: str) -> str | None:
        return None

    def send(
        self, *, payout_id: str, destination: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> GatewayPayout:
        try:
            tr = self._client.v1.transfers.create(
                params={"amount": amount_cents, "currency": currency.lower(), "destination": destination,
                        "transfer_group": payout_id, "metadata": {"payout_id": payout_id}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as e:
            raise _wrap(e, "transfer a payout") from e
        # A transfer lands in the connected account's balance when it is created; a later reversal
        # arrives as a ``transfer.reversed`` event.
        return GatewayPayout(gateway_ref=tr.id, status="paid")
