"""Payouts: minimum, success settles outside, refusal returns the money, an unknown outcome waits for a
retry with the same key, a pending payout settles later either way; and the earnings statement."""

from __future__ import annotations

import uuid

import pytest
from factories import auth_headers, make_user
from money_support import assert_ledger_ok, grant_coins

from marketplace.errors import Forbidden, InsufficientFunds, InvalidRequest
from marketplace.money import ledger
from marketplace.money.gateways.local import LocalPayoutGateway
from marketplace.money.models import PayoutStatus
from marketplace.money.payouts import Payouts
from marketplace.money.tips import Tips
from marketplace.money.unlocks import Unlocks


def earn(session, writer_id: str, cents: int) -> None:
    """Give a writer ``cents`` of earnings the way readers do: by unlocking (70%) a chapter."""
    reader = str(uuid.uuid4())
    coins = cents * 100 // 70
    assert coins * 70 // 100 == cents
    grant_coins(session, reader, coins)
    Unlocks(coin_value_cents=1).unlock(session, reader_id=reader, writer_id=writer_id,
                                       chapter_id=str(uuid.uuid4()), price_coins=coins)


@pytest.fixture
def gateway() -> LocalPayoutGateway:
    return LocalPayoutGateway()


@pytest.fixture
def payouts(gateway) -> Payouts:
    return Payouts(gateway=gateway, minimum_cents=1000)


@pytest.fixture
def writer_id(session) -> str:
    w = str(uuid.uuid4())
    earn(session, w, 2100)
    return w


def balances(session, writer_id):
    return (ledger.balance(session, ledger.earnings(writer_id)),
            ledger.balance(session, ledger.payout_in_flight(writer_id)))


def test_minimum_and_available_are_enforced(session, payouts, writer_id):
    with pytest.raises(InvalidRequest) as e:
        payouts.request(session, user_id=writer_id, amount_cents=999)
    assert e.value.details["minimum_cents"] == 1000
    with pytest.raises(InsufficientFunds):
        payouts.request(session, user_id=writer_id, amount_cents=2101)
    poor = str(uuid.uuid4())
    earn(session, poor, 700)
    with pytest.raises(InvalidRequest):
        payouts.request(session, user_id=poor)
    assert balances(session, writer_id) == (2100, 0)


def test_successful_payout_settles_to_the_outside(session, payouts, gateway, writer_id):
    payout = payouts.request(session, user_id=writer_id, amount_cents=1500)
    assert payout.status == PayoutStatus.requested and balances(session, writer_id) == (600, 1500)
    before = ledger.balance(session, ledger.gateway_payouts("local"))
    payouts.execute(session, payout.id)
    assert payout.status == PayoutStatus.paid and payout.destination == f"local:{writer_id}"
    assert balances(session, writer_id) == (600, 0)
    assert ledger.balance(session, ledger.gateway_payouts("local")) == before + 1500
    assert gateway.sent == [{"payout_id": payout.id, "destination": f"local:{writer_id}",
                             "amount_cents": 1500, "currency": "USD", "gateway_ref": payout.gateway_ref}]
    payouts.execute(session, payout.id)  # executing again does nothing
    assert len(gateway.sent) == 1
    assert_ledger_ok(session)


def test_refused_payout_returns_the_money(session, payouts, gateway, writer_id):
    gateway.decline_next("account closed")
    payout = payouts.request(session, user_id=writer_id)
    payouts.execute(session, payout.id)
    assert payout.status == PayoutStatus.failed and "account closed" in payout.failure_reason
    assert balances(session, writer_id) == (2100, 0)
    assert gateway.sent == []
    assert_ledger_ok(session)


def test_unknown_outcome_waits_in_flight_and_a_retry_settles_it(session, payouts, gateway, writer_id):
    gateway.lose_next()
    payout = payouts.request(session, user_id=writer_id)
    payouts.execute(session, payout.id)
    assert payout.status == PayoutStatus.requested and "outcome unknown" in payout.failure_reason
    assert balances(session, writer_id) == (0, 2100)  # not returned: it might have been paid
    [retried] = payouts.retry_requested(session)
    assert retried.id == payout.id and retried.status == PayoutStatus.paid and retried.failure_reason is None
    assert balances(session, writer_id) == (0, 0)
    assert_ledger_ok(session)


def test_pending_payout_settles_later_either_way(session, payouts, gateway, writer_id):
    gateway.hold_next()
    first = payouts.request(session, user_id=writer_id, amount_cents=1000)
    payouts.execute(session, first.id)
    assert first.status == PayoutStatus.pending and balances(session, writer_id) == (1100, 1000)
    payouts.settle(session, first.id, succeeded=False, reason="bank rejected")
    assert first.status == PayoutStatus.failed and balances(session, writer_id) == (2100, 0)

    gateway.hold_next()
    second = payouts.request(session, user_id=writer_id, amount_cents=1000)
    payouts.execute(session, second.id)
    payouts.settle(session, second.id, succeeded=True)
    payouts.settle(session, second.id, succeeded=False)  # a late contradicting report changes nothing
    assert second.status == PayoutStatus.paid and balances(session, writer_id) == (1100, 0)
    assert_ledger_ok(session)


def test_guards_can_stop_a_payout_before_money_moves(session, gateway, writer_id):
    def under_dispute(session, user_id):
        raise Forbidden("A work of yours is under an upheld dispute.")

    guarded = Payouts(gateway=gateway, minimum_cents=1000, guards=[under_dispute])
    with pytest.raises(Forbidden):
        guarded.request(session, user_id=writer_id)
    assert balances(session, writer_id) == (2100, 0)


def test_earnings_statement_and_payouts_over_http(client, session, container):
    writer = make_user(session, container, role="writer")
    reader = make_user(session, container, role="reader")
    earn(session, writer.id, 1400)
    grant_coins(session, reader.id, 10)
    Tips(coin_value_cents=1).tip(session, tipper_id=reader.id, writer_id=writer.id, coins=10)
    session.commit()
    headers = auth_headers(container, writer)
    assert client.get("/payments/earnings", headers=auth_headers(container, reader)).status_code == 403

    r = client.post("/payments/payouts", json={"amount_cents": 500}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["details"]["minimum_cents"] == 1000
    r = client.post("/payments/payouts", json={}, headers=headers)
    assert r.status_code == 201, r.text
    payout = r.json()
    assert payout["status"] == "paid" and payout["amount_cents"] == 1409

    statement = client.get("/payments/earnings", headers=headers).json()
    assert statement["available_cents"] == 0 and statement["in_flight_cents"] == 0
    assert statement["payout_minimum_cents"] == 1000
    assert statement["by_source"] == {"unlocks": 1400, "tips": 9, "subscriptions": 0, "licensing": 0,
                                      "payouts": -1409, "other": 0}
    assert {e["transfer_kind"] for e in statement["entries"]} >= {"unlock", "tip", "payout_request",
                                                                  "payout_settled"}
    assert [p["id"] for p in client.get("/payments/payouts", headers=headers).json()] == [payout["id"]]
    assert_ledger_ok(session)


def test_failed_payout_over_http_reports_failed_and_keeps_the_earnings(client, session, container):
    writer = make_user(session, container, role="writer")
    earn(session, writer.id, 1400)
    session.commit()
    container.payout_gateway.decline_next("destination unreachable")
    r = client.post("/payments/payouts", json={}, headers=auth_headers(container, writer))
    assert r.status_code == 201 and r.json()["status"] == "failed"
    assert ledger.balance(session, ledger.earnings(writer.id)) == 1400
    assert_ledger_ok(session)
