"""The two money ports: taking payments (:class:`PaymentGateway`) and paying writers (:class:`PayoutGateway`).

Each has a production adapter on Stripe (``stripe_gateway``) and an embedded default (``local``) that
needs no account and still goes through the same ledger code: the local checkout completes by a signed
webhook event of Stripe's own shape, handled by the same function as a real Stripe delivery.
"""

from marketplace.money.gateways.base import (
    GatewayCheckout,
    GatewayPayout,
    GatewayRefund,
    PaymentGateway,
    PayoutGateway,
    SignedEvent,
)
from marketplace.money.gateways.local import LocalPayoutGateway, LocalTestGateway, sign_payload
from marketplace.money.gateways.stripe_gateway import StripeGateway, StripePayoutGateway

__all__ = [
    "GatewayCheckout",
    "GatewayPayout",
    "GatewayRefund",
    "LocalPayoutGateway",
    "LocalTestGateway",
    "PaymentGateway",
    "PayoutGateway",
    "SignedEvent",
    "StripeGateway",
    "StripePayoutGateway",
    "sign_payload",
]
