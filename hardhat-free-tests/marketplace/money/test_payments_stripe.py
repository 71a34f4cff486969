"""The Stripe adapters run the real ``stripe`` library against a small local HTTP server that answers
like Stripe: request shape, idempotency keys, error mapping, and the whole app wired to Stripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from factories import auth_headers, make_user
from fastapi.testclient import TestClient
from money_support import (
    FakeStripe,
    assert_ledger_ok,
    deliver,
    event_body,
    fake_stripe_server,
    grant_coins,
    session_object,
)
from pydantic import SecretStr

from api.http.app import create_app
from api.wiring import Container
from marketplace.errors import GatewayDeclined, InvalidRequest, PaymentGatewayError
from marketplace.money import ledger
from marketplace.money.gateways.stripe_gateway import StripeGateway, StripePayoutGateway
from marketplace.money.models import Checkout, Payout
from marketplace.money.unlocks import Unlocks

WEBHOOK_SECRET = "whsec_test_3f6c0d9e"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with fake_stripe_server() as server:
        yield server


def checkout_args(**overrides):
    args = {"checkout_id": "co_1", "amount_cents": 500, "currency": "USD", "description": "550 Legato coins",
            "customer_ref": "user-1", "success_url": "https://legato.test/ok", "cancel_url": "https://legato.test/no",
            "metadata": {"checkout_id": "co_1", "purpose": "coins"}}
    args.update(overrides)
    return args


def test_checkout_session_is_created_with_stripe_shaped_params(fake):
    gateway = StripeGateway(secret_key="sk_test_123", api_base=fake.base_url)
    result = gateway.create_checkout(**checkout_args())
    assert result.session_id.startswith("cs_test_") and result.url.startswith("https://checkout.stripe.com/")
    req = fake.requests[-1]
    assert req["path"] == "/v1/checkout/sessions"
    assert req["headers"]["authorization"] == "Bearer sk_test_123"
    assert req["headers"]["idempotency-key"] == "legato-checkout-co_1"
    form = req["form"]
    assert form["mode"] == "payment" and form["client_reference_id"] == "co_1"
    assert form["line_items[0][price_data][unit_amount]"] == "500"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["line_items[0][quantity]"] == "1"
    assert form["metadata[checkout_id]"] == "co_1"
    # a retried create with the same checkout id gets the same session back
    assert gateway.create_checkout(**checkout_args()).session_id == result.session_id


def test_refund_and_transfer_requests(fake):
    refund = StripeGateway(secret_key="sk_test_123", api_base=fake.base_url).refund(
        payment_intent="pi_123", amount_cents=250, idempotency_key="legato-refund-x",
        charge_amount_cents=500, refunded_before_cents=0, currency="USD")
    assert refund.refund_id.startswith("re_test_") and refund.status == "succeeded" and refund.events == ()
    assert fake.requests[-1]["form"] == {"payment_intent": "pi_123", "amount": "250"}
    payouts = StripePayoutGateway(secret_key="sk_test_123", api_base=fake.base_url)
    sent = payouts.send(payout_id="po_1", destination="acct_1Abc", amount_cents=1234, currency="USD",
                        idempotency_key="legato-payout-po_1")
    assert sent.status == "paid" and sent.gateway_ref.startswith("tr_test_")
    req = fake.requests[-1]
    assert req["path"] == "/v1/transfers" and req["headers"]["idempotency-key"] == "legato-payout-po_1"
    assert req["form"]["destination"] == "acct_1Abc" and req["form"]["amount"] == "1234"
    with pytest.raises(InvalidRequest):
        payouts.validate_destination("bank-account-42")


def test_stripe_refusals_and_outages_are_wrapped_at_the_boundary(fake):
    gateway = StripeGateway(secret_key="sk_test_123", api_base=fake.base_url, max_network_retries=0)
    fake.fail_next.append((400, {"error": {"type": "invalid_request_error",
                                           "code": "parameter_invalid_integer",
                                           "message": "Invalid integer: -5"}}))
    with pytest.raises(GatewayDeclined) as declined:
        gateway.create_checkout(**checkout_args(checkout_id="co_bad"))
    assert isinstance(declined.value.__cause__, stripe.InvalidRequestError)
    assert declined.value.code == "PAYMENT_GATEWAY_ERROR" and "Invalid integer" in declined.value.message
    fake.fail_next.append((500, {"error": {"type": "api_error", "message": "Something went wrong"}}))
    with pytest.raises(PaymentGatewayError) as outage:
        gateway.create_checkout(**checkout_args(checkout_id="co_down"))
    assert not isinstance(outage.value, GatewayDeclined)
    assert isinstance(outage.value.__cause__, stripe.APIError)


@pytest.fixture
def stripe_container(settings, container_factory, fake) -> Container:
    s = settings.model_copy(update={"stripe_secret_key": SecretStr("sk_test_123"),
                                    "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
                                    "stripe_api_base": fake.base_url})
    return container_factory(s)


@pytest.fixture
def stripe_client(stripe_container) -> Iterator[TestClient]:
    with TestClient(create_app(container=stripe_container), raise_server_exceptions=False) as c:
        yield c


def test_the_container_chooses_stripe_when_a_key_is_set(stripe_container, container):
    assert stripe_container.describe_adapters()["payments"] == "stripe"
    assert stripe_container.describe_adapters()["payouts"] == "stripe"
    assert container.describe_adapters()["payments"] == "local"


def test_whole_purchase_through_stripe_checkout_and_a_signed_webhook(stripe_client, stripe_container,
                                                                     session, fake):
    reader = make_user(session, stripe_container, role="reader")
    headers = auth_headers(stripe_container, reader)
    r = stripe_client.post("/payments/checkout", json={"package_id": "shelf"}, headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["checkout_url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert body["gateway"] == "stripe"
    # the local confirm URL does not exist when Stripe is in use
    confirm = f"/payments/test-gateway/checkouts/{body['checkout_id']}/confirm"
    assert stripe_client.post(confirm).status_code == 404

    checkout = session.get(Checkout, body["checkout_id"])
    payload = event_body("checkout.session.completed", session_object(checkout, payment_intent="pi_live_1"))
    assert deliver(stripe_client, payload, "whsec_wrong").status_code == 400
    r = deliver(stripe_client, payload, WEBHOOK_SECRET)
    assert r.status_code == 200 and r.json()["outcome"].startswith("credited 1150 coins")
    assert deliver(stripe_client, payload, WEBHOOK_SECRET).json()["duplicate"] is True
    assert stripe_client.get("/payments/wallet", headers=headers).json()["coins"] == 1150
    assert ledger.balance(session, ledger.gateway_payments("stripe")) == -1000
    assert_ledger_ok(session)


def test_payout_through_stripe_connect_and_a_later_reversal(stripe_client, stripe_container, session, fake):
    writer = make_user(session, stripe_container, role="writer")
    reader = make_user(session, stripe_container, role="reader")
    grant_coins(session, reader.id, 5000)
    Unlocks(coin_value_cents=1).unlock(session, reader_id=reader.id, writer_id=writer.id, chapter_id="c1",
                                       price_coins=5000)
    session.commit()
    headers = auth_headers(stripe_container, writer)
    r = stripe_client.post("/payments/payouts", json={}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_REQUEST"  # no destination yet
    r = stripe_client.put("/payments/payout-destination", json={"destination": "not-an-account"},
                          headers=headers)
    assert r.status_code == 400
    assert stripe_client.put("/payments/payout-destination", json={"destination": "acct_1Writer"},
                             headers=headers).status_code == 200
    r = stripe_client.post("/payments/payouts", json={}, headers=headers)
    assert r.status_code == 201, r.text
    payout = r.json()
    assert payout["status"] == "paid" and payout["amount_cents"] == 3500
    assert fake.requests[-1]["form"]["destination"] == "acct_1Writer"
    assert ledger.balance(session, ledger.earnings(writer.id)) == 0

    ref = session.get(Payout, payout["id"]).gateway_ref
    assert ref == fake.requests[-1]["response_id"]
    transfer = {"id": ref, "object": "transfer", "amount": 3500, "amount_reversed": 3500, "currency": "usd",
        "destination": "acct_1Writer", "reversed": True}
    r = deliver(stripe_client, event_body("transfer.reversed", transfer), WEBHOOK_SECRET)
    assert r.json()["outcome"].startswith("payout_reversed: 3500")
    assert ledger.balance(session, ledger.earnings(writer.id)) == 3500
    earnings = stripe_client.get("/payments/earnings", headers=headers).json()
    assert earnings["by_source"]["unlocks"] == 3500 and earnings["by_source"]["payouts"] == 0
    assert earnings["payouts"][0]["status"] == "reversed"
    assert_ledger_ok(session)
