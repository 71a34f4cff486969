"""Correctly signed but hostile Stripe events: a 4xx or an ignored event, never a 500 (issue 9).

A signed body is only as sane as whoever holds the endpoint secret (or a bug on the sender's side), so
the event's shape, id sizes and amounts are checked before anything reaches a column.
"""

from __future__ import annotations

import json

import pytest
from money_support import charge_object, deliver, dispute_object, event_body, stripe_signature
from sqlalchemy import select

from marketplace.errors import InvalidRequest
from marketplace.money.models import PaymentAdjustment, WebhookEvent


@pytest.fixture
def secret(container):
    return container.webhook_secret


def _raw_event(event_id, type_="charge.refunded", obj=None) -> bytes:
    return json.dumps({"id": event_id, "type": type_, "data": {"object": obj}}).encode()


def _assert_4xx_envelope(r) -> str:
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()["error"]) == {"code", "message", "details", "timestamp", "request_id"}
    return r.json()["error"]["code"]


@pytest.mark.parametrize("body", [
    _raw_event("evt_null_object", obj=None),
    _raw_event("evt_list_object", obj=[1, 2]),
    json.dumps({"id": "evt_no_data", "type": "charge.refunded", "data": None}).encode(),
    json.dumps({"id": {"nested": 1}, "type": "charge.refunded", "data": {"object": {}}}).encode(),
    json.dumps(["not", "an", "event"]).encode(),
    _raw_event("e" * 10_000, obj={}),
    _raw_event("evt_ok", type_="t" * 5000, obj={}),
])
def test_malformed_signed_events_are_400(client, session, secret, body):
    r = deliver(client, body, secret)
    assert _assert_4xx_envelope(r) == "INVALID_REQUEST"
    assert session.scalars(select(WebhookEvent)).all() == []


def test_event_id_with_nul_is_refused(client, session, container, secret):
    r = deliver(client, _raw_event("evt_\x00nul", obj={}), secret)
    assert _assert_4xx_envelope(r) == "INVALID_INPUT"
    # The service refuses it on its own too (events also arrive from the local gateway in-process).
    payload = _raw_event("evt_\x00nul", obj={})
    with pytest.raises(InvalidRequest):
        container.payments.handle_webhook(session, payload, stripe_signature(payload, secret))


@pytest.mark.parametrize("amount", [10**30, 2**63, -5])
def test_refund_amounts_past_bigint_never_reach_the_ledger(client, session, container, secret, amount):
    obj = charge_object(payment_intent="pi_hostile1", amount=500, amount_refunded=amount)
    payload = event_body("charge.refunded", obj)
    r = deliver(client, payload, secret)
    if amount > 2**53:
        assert _assert_4xx_envelope(r) == "NUMBER_OUT_OF_RANGE"
    else:
        assert r.status_code == 200 and r.json()["outcome"] == "malformed_charge"
    # Past the HTTP guard (an in-process delivery), the handler itself refuses the amount.
    payload = event_body("charge.refunded", obj)
    outcome = container.payments.handle_webhook(session, payload, stripe_signature(payload, secret))
    assert outcome.outcome == "malformed_charge"
    session.flush()
    assert session.scalars(select(PaymentAdjustment)).all() == []


def test_dispute_with_oversized_ids_is_ignored_not_500(client, session, container, secret):
    obj = dispute_object(dispute_id="dp_" + "x" * 5000, payment_intent="pi_" + "y" * 5000, amount=100,
                         status="needs_response")
    r = deliver(client, event_body("charge.dispute.created", obj), secret)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "malformed_dispute"
    assert session.scalars(select(PaymentAdjustment)).all() == []


def test_checkout_completed_with_odd_field_types_is_not_500(client, secret):
    obj = {"id": "cs_x", "client_reference_id": {"a": 1}, "metadata": ["checkout_id"],
           "payment_intent": {"pi": 1}, "payment_status": "paid", "amount_total": 500}
    r = deliver(client, event_body("checkout.session.completed", obj), secret)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "unknown_checkout"
