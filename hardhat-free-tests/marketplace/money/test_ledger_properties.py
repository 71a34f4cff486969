"""Property-based: random sequences of transfers, replays and reused keys never break an invariant, and
the ledger always agrees with a plain-Python model of the balances. Also the splitting arithmetic."""

from __future__ import annotations

import uuid
from collections import defaultdict
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.errors import Conflict, InsufficientFunds
from marketplace.money import ledger
from marketplace.money.coins import coin_spend_legs
from marketplace.money.ledger import TransferKind, check_ledger
from marketplace.money.models import LedgerAccount
from marketplace.money.subscriptions import allocate_pool, largest_remainder

USERS = 4

op = st.one_of(
    st.tuples(st.just("grant"), st.integers(0, USERS - 1), st.integers(1, 500)),
    st.tuples(st.just("pay"), st.integers(0, USERS - 1), st.integers(0, USERS - 1), st.integers(1, 600)),
    st.tuples(st.just("spend"), st.integers(0, USERS - 1), st.integers(0, USERS - 1), st.integers(1, 300),
              st.sampled_from([70, 90]), st.sampled_from([1, 3, 7])),
    st.tuples(st.just("cashout"), st.integers(0, USERS - 1), st.integers(1, 2000)),
    st.tuples(st.just("replay"), st.integers(0, 50)),
    st.tuples(st.just("reuse"), st.integers(0, 50)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_random_transfer_sequences_keep_every_invariant(session, ops):
    users = [str(uuid.uuid4()) for _ in range(USERS)]
    model: dict[ledger.AccountKey, int] = defaultdict(int)
    done: list[tuple[str, str, list]] = []  # (key, kind, legs) of transfers that moved money
    nested = session.begin_nested()
    try:
        for n, step in enumerate(ops):
            key = f"prop-{users[0]}-{n}"
            name = step[0]
            if name in ("replay", "reuse"):
                if not done:
                    continue
                k, kind, legs = done[step[1] % len(done)]
                if name == "replay":
                    assert not ledger.transfer(session, key=k, kind=kind, legs=legs).created
                else:
                    altered = [(acc, 2 * amount) for acc, amount in legs]
                    try:
                        ledger.transfer(session, key=k, kind=kind, legs=altered)
                        raise AssertionError("a reused key with new parameters must be refused")
                    except Conflict:
                        pass
            else:
                kind, legs = _legs(step, users)
                try:
                    assert ledger.transfer(session, key=key, kind=kind, legs=legs).created
                except InsufficientFunds:
                    # refused exactly when the model says a non-negative account would go below zero
                    after = defaultdict(int, model)
                    for acc, amount in legs:
                        after[acc] += amount
                    assert any(after[a] < 0 and not ledger.KINDS[a.kind].allow_negative for a, _ in legs)
                    continue
                for acc, amount in legs:
                    model[acc] += amount
                done.append((key, kind, legs))
            for acc, expected in model.items():
                assert ledger.balance(session, acc) == expected, acc
        session.flush()
        assert check_ledger(session) == []
        # a closed system: every currency's balances sum to zero over all accounts
        per_currency = session.execute(select(LedgerAccount.currency, func.sum(LedgerAccount.balance))
                                       .group_by(LedgerAccount.currency)).all()
        assert all(total == 0 for _, total in per_currency)
    finally:
        nested.rollback()


def _legs(step: tuple, users: list[str]) -> tuple[str, list]:
    name = step[0]
    if name == "grant":
        _, u, coins = step
        return TransferKind.coin_purchase, [
            (ledger.coin_issuance(), -coins), (ledger.wallet(users[u]), coins),
            (ledger.gateway_payments("local"), -coins), (ledger.coin_float(), coins)]
    if name == "pay":
        _, a, b, coins = step
        return TransferKind.tip, [(ledger.wallet(users[a]), -coins), (ledger.wallet(users[b]), coins)]
    if name == "spend":
        _, a, b, coins, pct, value = step
        legs, _, _ = coin_spend_legs(payer_id=users[a], payee_id=users[b], coins=coins,
                                     coin_value_cents=value, payee_share_pct=pct)
        return TransferKind.unlock, legs
    _, u, cents = step
    return TransferKind.payout_request, [(ledger.earnings(users[u]), -cents),
                                         (ledger.payout_in_flight(users[u]), cents)]


@given(coins=st.integers(1, 10**6), value=st.integers(1, 500), pct=st.integers(0, 100))
def test_coin_spend_split_creates_and_loses_nothing(coins, value, pct):
    legs, writer, platform = coin_spend_legs(payer_id="r", payee_id="w", coins=coins, coin_value_cents=value,
                                             payee_share_pct=pct)
    assert writer + platform == coins * value
    assert writer == coins * value * pct // 100  # the floor goes to the writer, the remainder to the platform
    by_currency: dict[str, int] = defaultdict(int)
    for acc, amount in legs:
        by_currency[acc.currency] += amount
    assert all(v == 0 for v in by_currency.values())


@given(amount=st.integers(0, 10**7), weights=st.dictionaries(st.text("abcdef", min_size=1, max_size=3),
                                                             st.integers(0, 10**5), max_size=8))
def test_largest_remainder_is_exact_and_fair(amount, weights):
    shares = largest_remainder(amount, weights)
    total = sum(weights.values())
    if total == 0 or amount == 0:
        assert shares == {}
        return
    assert sum(shares.values()) == amount
    for k, w in weights.items():
        exact = Fraction(amount * w, total)
        assert exact - 1 < shares.get(k, 0) < exact + 1


subscribers = st.dictionaries(st.sampled_from([f"s{i}" for i in range(6)]), st.integers(0, 5000), max_size=6)
reading = st.dictionaries(st.sampled_from([f"s{i}" for i in range(6)]),
                          st.dictionaries(st.sampled_from([f"w{i}" for i in range(5)]), st.integers(0, 36000),
                                          max_size=5), max_size=6)


@given(payments=subscribers, engagement=reading, pct=st.integers(0, 100))
def test_pool_allocation_conserves_every_cent(payments, engagement, pct):
    alloc = allocate_pool(payments, engagement, platform_share_pct=pct)
    paid_out = sum(alloc.writers.values()) + alloc.platform_cents + alloc.unallocated_cents
    assert paid_out == sum(payments.values())
    assert all(v > 0 for v in alloc.writers.values())
    assert alloc.platform_cents == sum(p - p * (100 - pct) // 100 for p in payments.values())
    readers = [s for s in payments if any(v > 0 for v in (engagement.get(s) or {}).values())]
    if not readers or all(payments[s] * (100 - pct) // 100 == 0 for s in readers):
        # nobody's reading could place the idle subscribers' parts
        idle = sum(p * (100 - pct) // 100 for s, p in payments.items() if s not in readers)
        assert alloc.unallocated_cents == idle
    else:
        assert alloc.unallocated_cents == 0
    assert allocate_pool(payments, engagement, platform_share_pct=pct) == alloc  # deterministic
