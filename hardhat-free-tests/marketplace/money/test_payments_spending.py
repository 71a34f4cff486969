"""Spending coins: chapter unlocks (70/30 to the cent, once per reader and chapter) and tips (90/10)."""

from __future__ import annotations

import uuid

import pytest
from factories import auth_headers, make_user
from money_support import assert_ledger_ok, grant_coins

from marketplace.errors import InsufficientFunds, InvalidRequest
from marketplace.money import ledger
from marketplace.money.models import Unlock
from marketplace.money.unlocks import Unlocks, has_unlocked


def uid() -> str:
    return str(uuid.uuid4())


def snapshot(session, *accounts):
    return [ledger.balance(session, a) for a in accounts]


@pytest.mark.parametrize(("price", "coin_value", "writer_cents", "platform_cents"), [
    (1, 1, 0, 1),        # 0.7 of a cent: the floor (0) to the writer, the cent to the platform
    (2, 1, 1, 1),        # 1.4 → 1
    (3, 1, 2, 1),        # 2.1 → 2
    (13, 1, 9, 4),       # 9.1 → 9
    (7, 3, 14, 7),       # 21 cents, exact
    (99, 7, 485, 208),   # 693 cents: 485.1 → 485
    (1, 2, 1, 1),        # 1.4 → 1
    (333, 1, 233, 100),  # 233.1 → 233
])
def test_unlock_splits_70_30_to_the_cent(session, price, coin_value, writer_cents, platform_cents):
    reader, writer = uid(), uid()
    grant_coins(session, reader, 1000)
    accounts = (ledger.wallet(reader), ledger.earnings(writer), ledger.platform_revenue(),
                ledger.coin_float(), ledger.coin_issuance())
    before = snapshot(session, *accounts)
    result = Unlocks(coin_value_cents=coin_value).unlock(session, reader_id=reader, writer_id=writer,
                                                         chapter_id=uid(), price_coins=price)
    after = snapshot(session, *accounts)
    delta = [b - a for a, b in zip(before, after, strict=True)]
    assert delta == [-price, writer_cents, platform_cents, -price * coin_value, price]
    assert (result.unlock.writer_cents, result.unlock.platform_cents) == (writer_cents, platform_cents)
    assert writer_cents + platform_cents == price * coin_value
    assert_ledger_ok(session)


def test_unlocking_twice_charges_once(session):
    reader, writer, chapter = uid(), uid(), uid()
    grant_coins(session, reader, 100)
    unlocks = Unlocks(coin_value_cents=1)
    assert not has_unlocked(session, reader, chapter)
    first = unlocks.unlock(session, reader_id=reader, writer_id=writer, chapter_id=chapter, price_coins=30)
    second = unlocks.unlock(session, reader_id=reader, writer_id=writer, chapter_id=chapter, price_coins=30)
    assert first.charged and not second.charged and first.unlock.id == second.unlock.id
    assert ledger.balance(session, ledger.wallet(reader)) == 70
    assert ledger.balance(session, ledger.earnings(writer)) == 21
    assert has_unlocked(session, reader, chapter) and not has_unlocked(session, writer, chapter)


def test_unlock_without_enough_coins_moves_nothing(session):
    reader, writer, chapter = uid(), uid(), uid()
    grant_coins(session, reader, 9)
    with pytest.raises(InsufficientFunds) as e:
        Unlocks(coin_value_cents=1).unlock(session, reader_id=reader, writer_id=writer, chapter_id=chapter,
                                           price_coins=10)
    assert e.value.details["balance"] == 9
    assert ledger.balance(session, ledger.wallet(reader)) == 9
    assert not has_unlocked(session, reader, chapter)
    assert session.query(Unlock).filter_by(reader_id=reader).count() == 0


@pytest.mark.parametrize("case", ["own-chapter", "free", "float-price"])
def test_unlock_refusals(session, case):
    reader, writer = uid(), uid()
    grant_coins(session, reader, 10)
    args = {"reader_id": reader, "writer_id": writer, "chapter_id": uid(), "price_coins": 5}
    if case == "own-chapter":
        args["writer_id"] = reader
    elif case == "free":
        args["price_coins"] = 0
    else:
        args["price_coins"] = 5.0
    with pytest.raises(InvalidRequest):
        Unlocks(coin_value_cents=1).unlock(session, **args)
    assert ledger.balance(session, ledger.wallet(reader)) == 10


@pytest.fixture
def people(session, container):
    reader = make_user(session, container, role="reader")
    writer = make_user(session, container, role="writer")
    grant_coins(session, reader.id, 100)
    session.commit()
    return reader, writer


def test_tip_over_http_splits_90_10(client, session, container, people):
    reader, writer = people
    body = {"writer_id": writer.id, "coins": 15, "message": "Loved chapter 3!"}
    r = client.post("/payments/tips", json=body, headers=auth_headers(container, reader))
    assert r.status_code == 201, r.text
    tip = r.json()
    assert (tip["coins"], tip["writer_cents"], tip["platform_cents"]) == (15, 13, 2)  # 13.5 → 13
    assert tip["message"] == "Loved chapter 3!"
    assert ledger.balance(session, ledger.wallet(reader.id)) == 85
    assert ledger.balance(session, ledger.earnings(writer.id)) == 13
    earnings = client.get("/payments/earnings", headers=auth_headers(container, writer)).json()
    assert earnings["by_source"]["tips"] == 13 and earnings["available_cents"] == 13
    assert_ledger_ok(session)


def test_tip_with_an_idempotency_key_is_sent_once(client, session, container, people):
    reader, writer = people
    headers = {**auth_headers(container, reader), "Idempotency-Key": "tip-click-1"}
    body = {"writer_id": writer.id, "coins": 10, "message": None}
    first = client.post("/payments/tips", json=body, headers=headers).json()
    second = client.post("/payments/tips", json=body, headers=headers).json()
    assert first["id"] == second["id"]
    assert ledger.balance(session, ledger.wallet(reader.id)) == 90
    r = client.post("/payments/tips", json={**body, "coins": 11}, headers=headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    # without a key, two tips are two tips
    client.post("/payments/tips", json=body, headers=auth_headers(container, reader))
    client.post("/payments/tips", json=body, headers=auth_headers(container, reader))
    assert ledger.balance(session, ledger.wallet(reader.id)) == 70


def test_tip_refusals(client, session, container, people):
    reader, writer = people
    other_reader = make_user(session, container, role="reader")
    headers = auth_headers(container, reader)

    def tip(**body):
        return client.post("/payments/tips", json={"writer_id": writer.id, "coins": 5, **body},
                           headers=headers)

    assert tip(writer_id=other_reader.id).json()["error"]["code"] == "INVALID_REQUEST"  # not a writer
    assert tip(writer_id=str(uuid.uuid4())).status_code == 404
    assert tip(coins=0).status_code == 422
    assert tip(coins=1.5).status_code == 422
    r = tip(coins=101)
    assert r.status_code == 402 and r.json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    writer_self = client.post("/payments/tips", json={"writer_id": writer.id, "coins": 1},
                              headers=auth_headers(container, writer))
    assert writer_self.status_code == 400  # can't tip yourself
    assert client.post("/payments/tips", json={"writer_id": writer.id, "coins": 1}).status_code == 401
    assert ledger.balance(session, ledger.wallet(reader.id)) == 100
