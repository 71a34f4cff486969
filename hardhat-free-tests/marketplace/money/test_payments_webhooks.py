"""Coin checkouts and Stripe webhooks: real signatures computed here, replays, events out of order,
refunds and disputes (including after the coins were spent), and the local gateway's confirm URL."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from factories import auth_headers, make_user
from money_support import (
    assert_ledger_ok,
    buy_coins,
    charge_object,
    deliver,
    dispute_object,
    event_body,
    session_object,
    stripe_signature,
)

from marketplace.money import ledger
from marketplace.money.models import Checkout, WebhookEvent
from marketplace.money.unlocks import Unlocks


@pytest.fixture
def reader(session, container):
    return make_user(session, container, role="reader")


@pytest.fixture
def secret(container):
    return container.webhook_secret


def open_checkout(session, container, user, package_id="pocket") -> Checkout:
    order = container.coins.order(package_id)
    checkout = container.payments.start_checkout(session, user_id=user.id, order=order)
    session.commit()
    return checkout


def complete(client, checkout, payment_intent, secret):
    obj = session_object(checkout, payment_intent=payment_intent)
    return deliver(client, event_body("checkout.session.completed", obj), secret)


def outcome(response) -> str:
    return response.json()["outcome"]


def coins_of(session, user) -> int:
    return ledger.balance(session, ledger.wallet(user.id))


def test_coin_packages_are_listed_with_integer_prices(client):
    r = client.get("/payments/coin-packages")
    assert r.status_code == 200
    packages = r.json()
    assert {p["id"] for p in packages} == {"handful", "pocket", "shelf", "library"}
    for p in packages:
        assert set(p) == {"id", "name", "coins", "price_cents", "currency", "bonus_pct"}
        assert all(isinstance(p[k], int) for k in ("coins", "price_cents", "bonus_pct"))
    pocket = next(p for p in packages if p["id"] == "pocket")
    assert pocket == {"id": "pocket", "name": "Pocket", "coins": 550, "price_cents": 500, "currency": "USD",
                      "bonus_pct": 10}


def test_buying_coins_over_http_with_the_local_gateway(client, session, container, reader):
    headers = auth_headers(container, reader)
    r = client.post("/payments/checkout", json={"package_id": "pocket"}, headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "open" and body["amount_cents"] == 500 and body["coins"] == 550
    url = urlsplit(body["checkout_url"])
    assert url.path == f"/payments/test-gateway/checkouts/{body['checkout_id']}/confirm"
    assert client.get("/payments/wallet", headers=headers).json()["coins"] == 0

    r = client.post(url.path)
    assert r.status_code == 200 and r.json()["duplicate"] is False
    wallet = client.get("/payments/wallet", headers=headers).json()
    assert wallet["coins"] == 550
    assert wallet["entries"][0]["transfer_kind"] == "coin_purchase" and wallet["entries"][0]["amount"] == 550

    r = client.post(url.path)  # the same completion delivered again
    assert r.json()["duplicate"] is True
    assert client.get("/payments/wallet", headers=headers).json()["coins"] == 550
    status = client.get(f"/payments/checkouts/{body['checkout_id']}", headers=headers).json()
    assert status["status"] == "paid"
    assert_ledger_ok(session)


def test_checkout_errors(client, container, reader):
    assert client.post("/payments/checkout", json={"package_id": "pocket"}).status_code == 401
    headers = auth_headers(container, reader)
    r = client.post("/payments/checkout", json={"package_id": "nope"}, headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    assert client.post("/payments/test-gateway/checkouts/nope/confirm").status_code == 404


def test_someone_elses_checkout_is_not_found(client, session, container, reader):
    checkout = open_checkout(session, container, reader)
    other = make_user(session, container, role="reader")
    r = client.get(f"/payments/checkouts/{checkout.id}", headers=auth_headers(container, other))
    assert r.status_code == 404


@pytest.mark.parametrize("tamper", ["wrong-secret", "no-header", "edited-body", "stale", "garbage-header"])
def test_bad_signatures_are_refused_and_move_nothing(client, session, container, reader, secret, tamper):
    checkout = open_checkout(session, container, reader)
    payload = event_body("checkout.session.completed", session_object(checkout, payment_intent="pi_sig1"))
    if tamper == "wrong-secret":
        r = deliver(client, payload, "whsec_not_the_secret")
    elif tamper == "no-header":
        r = client.post("/payments/webhooks/stripe", content=payload)
    elif tamper == "edited-body":
        good = stripe_signature(payload, secret)
        edited = payload.replace(b'"amount_total": 500', b'"amount_total": 5')
        r = client.post("/payments/webhooks/stripe", content=edited, headers={"Stripe-Signature": good})
    elif tamper == "stale":
        r = deliver(client, payload, secret, timestamp=int(time.time()) - 301)
    else:
        r = client.post("/payments/webhooks/stripe", content=payload,
                        headers={"Stripe-Signature": "t=abc,v9=x"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "INVALID_WEBHOOK_SIGNATURE"
    assert coins_of(session, reader) == 0
    assert session.get(WebhookEvent, json.loads(payload)["id"]) is None


def test_a_signed_timestamp_inside_the_tolerance_is_accepted(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    payload = event_body("checkout.session.completed", session_object(checkout, payment_intent="pi_tol"))
    assert deliver(client, payload, secret, timestamp=int(time.time()) - 250).status_code == 200
    assert coins_of(session, reader) == 550


def test_replayed_and_duplicate_completions_credit_once(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    obj = session_object(checkout, payment_intent="pi_replay")
    payload = event_body("checkout.session.completed", obj)
    first = deliver(client, payload, secret).json()
    assert first["duplicate"] is False and first["outcome"].startswith("credited 550 coins")
    again = deliver(client, payload, secret).json()  # Stripe retries the same event
    assert again["duplicate"] is True
    # a different event about the same payment (completion sent twice with new ids, async success)
    other = deliver(client, event_body("checkout.session.completed", obj), secret).json()
    late = deliver(client, event_body("checkout.session.async_payment_succeeded", obj), secret).json()
    assert other["outcome"] == late["outcome"] == "already_paid"
    assert coins_of(session, reader) == 550
    assert_ledger_ok(session)


def test_delayed_payment_credits_on_async_success_only(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    unpaid = session_object(checkout, payment_intent="pi_async", payment_status="unpaid")
    assert deliver(client, event_body("checkout.session.completed", unpaid), secret).json()["outcome"] == \
        "awaiting_payment"
    assert coins_of(session, reader) == 0
    paid = session_object(checkout, payment_intent="pi_async")
    deliver(client, event_body("checkout.session.async_payment_succeeded", paid), secret)
    assert coins_of(session, reader) == 550


def test_wrong_amount_or_unknown_session_credits_nothing(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    wrong = session_object(checkout, payment_intent="pi_wrong", amount_total=1)
    assert deliver(client, event_body("checkout.session.completed", wrong), secret).json()["outcome"] == \
        "amount_mismatch"
    forged = dict(session_object(checkout, payment_intent="pi_forged"), id="cs_someone_else")
    assert deliver(client, event_body("checkout.session.completed", forged), secret).json()["outcome"] == \
        "unknown_checkout"
    assert coins_of(session, reader) == 0


def test_unhandled_event_types_are_acknowledged(client, secret):
    r = deliver(client, event_body("customer.created", {"id": "cus_1", "object": "customer"}), secret)
    assert r.status_code == 200 and r.json()["outcome"] == "ignored"


def test_signed_but_malformed_body_is_400(client, secret):
    r = deliver(client, b'{"not": "an event"}', secret)
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_REQUEST"


def test_expiry_then_a_paid_completion_still_credits(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    unpaid = session_object(checkout, payment_intent="pi_exp", payment_status="unpaid")
    expired = dict(unpaid, status="expired")
    assert outcome(deliver(client, event_body("checkout.session.expired", expired), secret)) == "expired"
    complete(client, checkout, "pi_exp", secret)
    assert coins_of(session, reader) == 550


def test_full_refund_reverses_the_credit(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    complete(client, checkout, "pi_ref", secret)
    refund = charge_object(payment_intent="pi_ref", amount=500, amount_refunded=500)
    outcome = deliver(client, event_body("charge.refunded", refund), secret).json()["outcome"]
    assert outcome.startswith("coin_reversal: 550 coins, 500 cents")
    assert coins_of(session, reader) == 0
    session.refresh(checkout)
    assert (checkout.reversed_cents, checkout.reversed_coins) == (500, 550)
    assert_ledger_ok(session)


def test_refund_arriving_before_the_completion_is_applied_when_it_lands(client, session, container, reader,
                                                                        secret):
    checkout = open_checkout(session, container, reader)
    refund = charge_object(payment_intent="pi_early", amount=500, amount_refunded=500)
    assert outcome(deliver(client, event_body("charge.refunded", refund), secret)) == "parked_until_paid"
    complete(client, checkout, "pi_early", secret)
    assert coins_of(session, reader) == 0
    assert ledger.balance(session, ledger.coin_debt(reader.id)) == 0
    assert_ledger_ok(session)


def test_partial_refunds_out_of_order_settle_on_the_latest_total(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    complete(client, checkout, "pi_part", secret)
    later = charge_object(payment_intent="pi_part", amount=500, amount_refunded=300)
    earlier = charge_object(payment_intent="pi_part", amount=500, amount_refunded=100)
    deliver(client, event_body("charge.refunded", later), secret)
    assert outcome(deliver(client, event_body("charge.refunded", earlier), secret)) == "no_reversal_change"
    assert coins_of(session, reader) == 550 - 550 * 300 // 500
    assert_ledger_ok(session)


def test_refund_after_the_coins_were_spent_records_a_debt_and_never_a_negative_wallet(
        client, session, container, reader, secret):
    writer = make_user(session, container, role="writer")
    checkout = open_checkout(session, container, reader)
    complete(client, checkout, "pi_spent", secret)
    Unlocks(coin_value_cents=1).unlock(session, reader_id=reader.id, writer_id=writer.id, chapter_id="ch-1",
                                       price_coins=500)
    deliver(client, event_body("charge.refunded", charge_object(payment_intent="pi_spent", amount=500,
                                                                amount_refunded=500)), secret)
    assert coins_of(session, reader) == 0
    assert ledger.balance(session, ledger.coin_debt(reader.id)) == -500
    assert ledger.balance(session, ledger.earnings(writer.id)) == 350  # the writer keeps what they earned
    wallet = client.get("/payments/wallet", headers=auth_headers(container, reader)).json()
    assert wallet["coin_debt"] == 500
    assert_ledger_ok(session)

    buy_coins(session, container, reader.id, "pocket")  # the next coins pay the debt first
    assert coins_of(session, reader) == 50
    assert ledger.balance(session, ledger.coin_debt(reader.id)) == 0
    assert_ledger_ok(session)


def test_dispute_reverses_and_a_won_dispute_reinstates(client, session, container, reader, secret):
    checkout = open_checkout(session, container, reader)
    complete(client, checkout, "pi_dp", secret)
    opened = dispute_object(dispute_id="dp_1", payment_intent="pi_dp", amount=500, status="needs_response")
    deliver(client, event_body("charge.dispute.created", opened), secret)
    assert coins_of(session, reader) == 0
    won = dict(opened, status="won")
    outcome = deliver(client, event_body("charge.dispute.closed", won), secret).json()["outcome"]
    assert outcome.startswith("coin_reinstatement")
    assert coins_of(session, reader) == 550
    # a late "updated" event cannot reopen a closed dispute
    deliver(client, event_body("charge.dispute.updated", dict(opened, status="under_review")), secret)
    assert coins_of(session, reader) == 550
    assert_ledger_ok(session)


def test_inquiry_moves_nothing_and_closed_before_created_reverses_nothing(client, session, container, reader,
                                                                          secret):
    checkout = open_checkout(session, container, reader)
    complete(client, checkout, "pi_dq", secret)
    inquiry = dispute_object(dispute_id="dp_inq", payment_intent="pi_dq", amount=500,
                             status="warning_needs_response")
    deliver(client, event_body("charge.dispute.created", inquiry), secret)
    won = dispute_object(dispute_id="dp_won", payment_intent="pi_dq", amount=500, status="won")
    deliver(client, event_body("charge.dispute.closed", won), secret)
    deliver(client, event_body("charge.dispute.created", dict(won, status="needs_response")), secret)
    assert coins_of(session, reader) == 550


def test_admin_refund_goes_through_the_gateway_and_back_through_the_webhook(client, session, container,
                                                                           reader):
    checkout = buy_coins(session, container, reader.id, "shelf")
    session.commit()
    admin = make_user(session, container, role="admin")
    r = client.post(f"/payments/checkouts/{checkout.id}/refund", json={"amount_cents": 400},
                    headers=auth_headers(container, reader))
    assert r.status_code == 403
    r = client.post(f"/payments/checkouts/{checkout.id}/refund", json={"amount_cents": 400},
                    headers=auth_headers(container, admin))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["checkout"]["reversed_cents"] == 400 and body["events"][0]["type"] == "charge.refunded"
    assert coins_of(session, reader) == 1150 - 1150 * 400 // 1000
    r = client.post(f"/payments/checkouts/{checkout.id}/refund", json={"amount_cents": 601},
                    headers=auth_headers(container, admin))
    assert r.status_code == 400
    r = client.post(f"/payments/checkouts/{checkout.id}/refund", json={},
                    headers=auth_headers(container, admin))
    assert r.status_code == 200 and r.json()["checkout"]["reversed_cents"] == 1000
    assert coins_of(session, reader) == 0
    assert_ledger_ok(session)
