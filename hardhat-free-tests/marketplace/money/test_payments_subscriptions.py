"""Subscriptions: paid through checkout, pooled per month, divided per subscriber by reading seconds with
largest remainders, once per month; refunds before and after the run."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from factories import auth_headers, make_user
from money_support import assert_ledger_ok, charge_object, event_body
from sqlalchemy import select

from marketplace.errors import InvalidRequest
from marketplace.money import ledger
from marketplace.money.gateways.local import sign_payload
from marketplace.money.models import Checkout, Subscription, SubscriptionStatus
from marketplace.money.subscriptions import allocate_pool, largest_remainder

JAN = datetime(2026, 1, 15, 12, tzinfo=UTC)
FEB = datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC)


def subscribe(session, container, user, now=JAN) -> Checkout:
    order = container.subscriptions.order(session, user_id=user.id, plan_id="monthly", now=now)
    checkout = container.payments.start_checkout(session, user_id=user.id, order=order)
    container.payments.confirm_test_checkout(session, checkout.id)
    return checkout


def test_worked_example_of_the_allocation():
    payments = {"s1": 499, "s2": 499, "s3": 499}
    engagement = {"s1": {"w1": 600, "w2": 300, "w3": 100}, "s2": {"w2": 50}, "s3": {}}
    alloc = allocate_pool(payments, engagement, platform_share_pct=30)
    # each pays 499: 349 to writers (349.3 floored), 150 to the platform
    # s1's 349 by 600/300/100 s: 209.4, 104.7, 34.9 → floors 209/104/34, the 2 cents left go to the
    #   largest remainders (.9 → w3, .7 → w2): 209/105/35
    # s2's 349 all to w2; s3 read nothing: 349 follows the readers' split 209:454:35 → 104.5/227/17.5,
    #   the last cent to the tie w1/w3 broken by id → 105/227/17
    assert alloc.writers == {"w1": 314, "w2": 681, "w3": 52}
    assert alloc.platform_cents == 450 and alloc.unallocated_cents == 0
    assert alloc.seconds == {"w1": 600, "w2": 350, "w3": 100}
    assert alloc.subscribers == {"w1": 1, "w2": 2, "w3": 1}


def test_largest_remainder_ties_break_by_id():
    assert largest_remainder(1, {"b": 1, "a": 1}) == {"a": 1}
    assert largest_remainder(2, {"b": 1, "a": 1, "c": 1}) == {"a": 1, "b": 1}
    assert largest_remainder(100, {"x": 0}) == {}


def test_subscribing_over_http(client, session, container):
    reader = make_user(session, container, role="reader")
    headers = auth_headers(container, reader)
    plans = client.get("/payments/subscription-plans").json()
    assert plans == [{"id": "monthly", "name": "Monthly reader", "price_cents": 499, "currency": "USD",
                      "platform_share_pct": 30}]
    r = client.post("/payments/subscriptions/checkout", json={"plan_id": "monthly"}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["purpose"] == "subscription" and r.json()["amount_cents"] == 499
    client.post(urlsplit(r.json()["checkout_url"]).path)
    subs = client.get("/payments/subscriptions", headers=headers).json()
    month = f"{datetime.now(UTC):%Y-%m}"
    assert [(s["month"], s["status"], s["price_cents"]) for s in subs] == [(month, "active", 499)]
    assert ledger.balance(session, ledger.subscription_pool(month)) == 499
    r = client.post("/payments/subscriptions/checkout", json={"plan_id": "monthly"}, headers=headers)
    assert r.status_code == 409
    assert client.post("/payments/subscriptions/checkout", json={"plan_id": "gold"},
                       headers=headers).status_code == 404


@pytest.fixture
def january(session, container):
    readers = [make_user(session, container, role="reader") for _ in range(3)]
    writers = [make_user(session, container, role="writer") for _ in range(3)]
    checkouts = [subscribe(session, container, r) for r in readers]
    session.flush()
    return readers, writers, checkouts


def engagement_for(readers, writers):
    r1, r2, r3 = readers
    w1, w2, w3 = writers
    return {r1.id: {w1.id: 600, w2.id: 300, w3.id: 100}, r2.id: {w2.id: 50}, r3.id: {}}


def test_monthly_pool_is_distributed_once_with_statements(session, container, january):
    readers, writers, _ = january
    assert ledger.balance(session, ledger.subscription_pool("2026-01")) == 3 * 499
    revenue = ledger.balance(session, ledger.platform_revenue())
    result = container.subscriptions.distribute(session, month="2026-01",
                                                engagement=engagement_for(readers, writers), now=FEB)
    assert result.created and result.run.pool_cents == 1497 and result.run.platform_cents == 450
    by_writer = {s.writer_id: s.amount_cents for s in result.statements}
    assert sum(by_writer.values()) == 1047
    assert [ledger.balance(session, ledger.earnings(w.id)) for w in writers] == [
        by_writer[w.id] for w in writers]
    assert ledger.balance(session, ledger.subscription_pool("2026-01")) == 0
    assert ledger.balance(session, ledger.platform_revenue()) == revenue + 450

    again = container.subscriptions.distribute(session, month="2026-01", engagement={}, now=FEB)
    assert not again.created and again.run.month == "2026-01"
    assert {s.writer_id: s.amount_cents for s in again.statements} == by_writer
    expected = [by_writer[w.id] for w in writers]
    assert [ledger.balance(session, ledger.earnings(w.id)) for w in writers] == expected
    statement = container.payouts.statement(session, writers[0].id)
    assert statement.by_source["subscriptions"] == by_writer[writers[0].id]
    assert_ledger_ok(session)


def test_pool_runs_are_refused_before_the_month_ends_or_without_engagement(session, container, january):
    with pytest.raises(InvalidRequest, match="ended"):
        container.subscriptions.distribute(session, month="2026-01", engagement={}, now=JAN)
    with pytest.raises(InvalidRequest, match="engagement"):
        container.subscriptions.distribute(session, month="2026-01", engagement={}, now=FEB)
    with pytest.raises(InvalidRequest):
        container.subscriptions.distribute(session, month="2026-13", engagement={}, now=FEB)
    forced = container.subscriptions.distribute(session, month="2026-01", engagement={}, now=FEB,
                                                allow_unallocated=True)
    assert forced.run.platform_cents == 1497 and forced.statements == []
    assert_ledger_ok(session)


def deliver_refund(container, session, checkout, cents):
    charge = charge_object(payment_intent=checkout.payment_intent, amount=checkout.amount_cents,
                           amount_refunded=cents)
    payload = event_body("charge.refunded", charge)
    signature = sign_payload(payload, container.webhook_secret)
    return container.payments.handle_webhook(session, payload, signature)


def test_refund_before_the_run_leaves_the_pool_and_the_allocation(session, container, january):
    readers, writers, checkouts = january
    deliver_refund(container, session, checkouts[2], 499)
    sub = session.scalars(select(Subscription).where(Subscription.checkout_id == checkouts[2].id)).one()
    assert sub.status == SubscriptionStatus.refunded
    assert ledger.balance(session, ledger.subscription_pool("2026-01")) == 2 * 499
    result = container.subscriptions.distribute(session, month="2026-01",
                                                engagement=engagement_for(readers, writers), now=FEB)
    assert result.run.pool_cents == 998 and result.run.subscribers == 2
    assert_ledger_ok(session)


def test_refund_after_the_run_is_absorbed_by_the_platform(session, container, january):
    readers, writers, checkouts = january
    container.subscriptions.distribute(session, month="2026-01", engagement=engagement_for(readers, writers),
                                       now=FEB)
    earned = [ledger.balance(session, ledger.earnings(w.id)) for w in writers]
    losses = ledger.balance(session, ledger.platform_losses())
    deliver_refund(container, session, checkouts[0], 200)
    assert [ledger.balance(session, ledger.earnings(w.id)) for w in writers] == earned
    assert ledger.balance(session, ledger.platform_losses()) == losses - 200
    assert_ledger_ok(session)


def test_a_payment_landing_after_its_month_ran_buys_the_next_month(session, container, january):
    readers, writers, _ = january
    late_reader = make_user(session, container, role="reader")
    order = container.subscriptions.order(session, user_id=late_reader.id, plan_id="monthly", now=JAN)
    checkout = container.payments.start_checkout(session, user_id=late_reader.id, order=order)
    container.subscriptions.distribute(session, month="2026-01", engagement=engagement_for(readers, writers),
                                       now=FEB)
    container.payments.confirm_test_checkout(session, checkout.id)
    sub = session.scalars(select(Subscription).where(Subscription.checkout_id == checkout.id)).one()
    assert sub.month == "2026-02"
    assert ledger.balance(session, ledger.subscription_pool("2026-02")) == 499
    assert_ledger_ok(session)
