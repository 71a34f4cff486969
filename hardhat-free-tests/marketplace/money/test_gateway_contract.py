"""One contract for each money port, run against every adapter: the embedded local gateways and the
Stripe adapters (talking to a Stripe-shaped HTTP server, the only place Stripe is stood in for)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from money_support import fake_stripe_server

from marketplace.errors import InvalidRequest
from marketplace.money.gateways.local import LocalPayoutGateway, LocalTestGateway
from marketplace.money.gateways.protocol import (
    GatewayCheckout,
    GatewayPayout,
    GatewayRefund,
    PaymentGateway,
    PayoutGateway,
)
from marketplace.money.gateways.stripe_gateway import StripeGateway, StripePayoutGateway


@pytest.fixture(scope="module")
def stripe_base() -> Iterator[str]:
    with fake_stripe_server() as server:
        yield server.base_url


@pytest.fixture(params=["local", "stripe"])
def payments(request, stripe_base) -> PaymentGateway:
    if request.param == "local":
        return LocalTestGateway(public_url="http://127.0.0.1:8000", webhook_secret="whsec_contract")
    return StripeGateway(secret_key="sk_test_contract", api_base=stripe_base)


@pytest.fixture(params=["local", "stripe"])
def payouts(request, stripe_base) -> PayoutGateway:
    if request.param == "local":
        return LocalPayoutGateway()
    return StripePayoutGateway(secret_key="sk_test_contract", api_base=stripe_base)


def open_checkout(gateway: PaymentGateway, checkout_id: str) -> GatewayCheckout:
    return gateway.create_checkout(
        checkout_id=checkout_id, amount_cents=550, currency="USD", description="550 Legato coins",
        customer_ref="user-1", success_url="https://legato.test/ok", cancel_url="https://legato.test/no",
        metadata={"checkout_id": checkout_id, "purpose": "coins"},
    )


def test_checkout_gives_a_session_and_a_page_to_pay_on(payments):
    checkout = open_checkout(payments, "co_contract_1")
    assert isinstance(checkout, GatewayCheckout) and checkout.session_id
    assert checkout.url.startswith(("http://", "https://"))
    assert isinstance(payments.name, str) and payments.name


def test_the_checkout_id_is_the_idempotency_key(payments):
    same = [open_checkout(payments, "co_contract_2").session_id for _ in range(2)]
    other = [open_checkout(payments, f"co_contract_{n}").session_id for n in (3, 4)]
    assert same[0] == same[1] and other[0] != other[1]


def test_refund_is_accepted_and_named(payments):
    refund = payments.refund(payment_intent="pi_contract_1", amount_cents=200,
                             idempotency_key="rf_contract_1", charge_amount_cents=550,
                             refunded_before_cents=0, currency="USD")
    assert isinstance(refund, GatewayRefund) and refund.refund_id and refund.status == "succeeded"


def test_payout_is_paid_once_per_idempotency_key(payouts):
    destination = "acct_1ContractTest"
    payouts.validate_destination(destination)
    first = payouts.send(payout_id="po_1", destination=destination, amount_cents=1500, currency="USD",
                         idempotency_key="payout-contract-1")
    again = payouts.send(payout_id="po_1", destination=destination, amount_cents=1500, currency="USD",
                         idempotency_key="payout-contract-1")
    assert isinstance(first, GatewayPayout) and first.status in ("paid", "pending")
    assert again.gateway_ref == first.gateway_ref


def test_an_empty_destination_is_refused(payouts):
    with pytest.raises(InvalidRequest):
        payouts.validate_destination("")
