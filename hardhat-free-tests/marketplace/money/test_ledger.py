"""The ledger's promises, one at a time: balance, atomicity, idempotency, no negative user balance,
integers only, and a check that notices when any of them is broken behind its back."""

from __future__ import annotations

import uuid

import pytest
from money_support import assert_ledger_ok, grant_coins
from sqlalchemy import select, update

from marketplace.errors import Conflict, InsufficientFunds, InvalidRequest
from marketplace.money import ledger
from marketplace.money.ledger import TransferKind, check_ledger
from marketplace.money.models import LedgerAccount, LedgerPosting, LedgerTransfer


def uid() -> str:
    return str(uuid.uuid4())


def pay(session, key, payer, payee, amount, kind=TransferKind.tip):
    return ledger.transfer(session, key=key, kind=kind,
                           legs=[(ledger.wallet(payer), -amount), (ledger.wallet(payee), amount)])


def test_transfer_moves_and_balances(session):
    a, b = uid(), uid()
    grant_coins(session, a, 100)
    result = pay(session, "k1", a, b, 30)
    assert result.created
    assert ledger.balance(session, ledger.wallet(a)) == 70
    assert ledger.balance(session, ledger.wallet(b)) == 30
    legs = ledger.transfer_legs(session, result.transfer.id)
    assert sorted(amount for _, amount in legs) == [-30, 30]
    assert_ledger_ok(session)


def test_same_key_same_transfer_moves_once_and_returns_the_first(session):
    a, b = uid(), uid()
    grant_coins(session, a, 100)
    first = pay(session, "same", a, b, 40)
    again = pay(session, "same", a, b, 40)
    assert not again.created and again.transfer.id == first.transfer.id
    assert ledger.balance(session, ledger.wallet(a)) == 60
    assert session.scalar(select(LedgerTransfer).where(LedgerTransfer.idempotency_key == "same")) is not None


@pytest.mark.parametrize("change", ["amount", "payee", "kind"])
def test_same_key_different_parameters_is_conflict(session, change):
    a, b, c = uid(), uid(), uid()
    grant_coins(session, a, 100)
    pay(session, "reused", a, b, 40)
    with pytest.raises(Conflict) as e:
        if change == "amount":
            pay(session, "reused", a, b, 41)
        elif change == "payee":
            pay(session, "reused", a, c, 40)
        else:
            pay(session, "reused", a, b, 40, kind=TransferKind.unlock)
    assert e.value.code == "CONFLICT"
    assert ledger.balance(session, ledger.wallet(a)) == 60


def test_user_balance_never_below_zero(session):
    a, b = uid(), uid()
    grant_coins(session, a, 10)
    with pytest.raises(InsufficientFunds) as e:
        pay(session, "too-much", a, b, 11)
    assert e.value.code == "INSUFFICIENT_FUNDS"
    assert e.value.details["balance"] == 10 and e.value.details["required"] == 11
    assert ledger.balance(session, ledger.wallet(a)) == 10
    assert ledger.get_transfer(session, "too-much") is None
    pay(session, "exact", a, b, 10)
    assert ledger.balance(session, ledger.wallet(a)) == 0


def test_external_and_float_accounts_may_go_negative(session):
    a = uid()
    grant_coins(session, a, 5)
    assert ledger.balance(session, ledger.gateway_payments("local")) < 0
    assert ledger.balance(session, ledger.coin_issuance()) < 0
    assert_ledger_ok(session)


@pytest.mark.parametrize("legs", [
    "one-leg", "unbalanced", "zero", "float", "bool", "mixed-currency",
])
def test_malformed_transfers_are_refused(session, legs):
    a, b = uid(), uid()
    grant_coins(session, a, 100)
    options = {
        "one-leg": [(ledger.wallet(a), -1)],
        "unbalanced": [(ledger.wallet(a), -5), (ledger.wallet(b), 4)],
        "zero": [(ledger.wallet(a), 0), (ledger.wallet(b), 0)],
        "float": [(ledger.wallet(a), -1.0), (ledger.wallet(b), 1.0)],
        "bool": [(ledger.wallet(a), -True), (ledger.wallet(b), True)],
        # coins and cents never balance each other: each currency must sum to zero on its own
        "mixed-currency": [(ledger.wallet(a), -5), (ledger.earnings(b), 5)],
    }
    with pytest.raises(InvalidRequest):
        ledger.transfer(session, key=f"bad-{legs}", kind="test", legs=options[legs])
    assert ledger.balance(session, ledger.wallet(a)) == 100


def test_a_failed_transfer_moves_nothing_at_all(session):
    """Atomicity: the second debit fails, so the first (on another account) must not happen either."""
    a, b, c = uid(), uid(), uid()
    grant_coins(session, a, 50)
    grant_coins(session, b, 5)
    with pytest.raises(InsufficientFunds):
        ledger.transfer(session, key="two-payers", kind="test",
                        legs=[(ledger.wallet(a), -10), (ledger.wallet(b), -10), (ledger.wallet(c), 20)])
    assert [ledger.balance(session, ledger.wallet(x)) for x in (a, b, c)] == [50, 5, 0]


def test_database_refuses_a_negative_user_balance_even_if_code_forgets(session):
    a = uid()
    grant_coins(session, a, 1)
    with pytest.raises(Exception, match=r"(?i)check|constraint"), session.begin_nested():
        session.execute(update(LedgerAccount).where(LedgerAccount.owner_id == a).values(balance=-1))


@pytest.mark.parametrize(("amount", "pct", "share", "rest"), [
    (0, 70, 0, 0), (1, 70, 0, 1), (2, 70, 1, 1), (3, 70, 2, 1), (10, 70, 7, 3), (99, 70, 69, 30),
    (101, 70, 70, 31), (7, 90, 6, 1), (1, 100, 1, 0), (12345, 85, 10493, 1852),
])
def test_split_floor_to_named_party_rest_to_other(amount, pct, share, rest):
    assert ledger.split(amount, pct) == (share, rest)


def _tamper_check(session, mutate):
    a, b = uid(), uid()
    grant_coins(session, a, 100)
    tr = pay(session, f"t-{a}", a, b, 10).transfer
    assert_ledger_ok(session)
    mutate(session, a, b, tr)
    session.flush()
    return {v.code for v in check_ledger(session)}


def test_check_detects_cached_balance_drift(session):
    codes = _tamper_check(session, lambda s, a, b, tr: s.execute(
        update(LedgerAccount).where(LedgerAccount.owner_id == b).values(balance=11)))
    assert "BALANCE_MISMATCH" in codes


def test_check_detects_unbalanced_transfer_and_negative_derived_balance(session):
    def mutate(s, a, b, tr):
        s.execute(update(LedgerPosting).where(LedgerPosting.transfer_id == tr.id, LedgerPosting.amount < 0)
                  .values(amount=-1000))
    codes = _tamper_check(session, mutate)
    assert {"UNBALANCED_TRANSFER", "BALANCE_MISMATCH", "NEGATIVE_BALANCE"} <= codes


def test_check_detects_transfer_with_too_few_postings(session):
    def mutate(s, a, b, tr):
        s.execute(LedgerPosting.__table__.delete().where(LedgerPosting.transfer_id == tr.id,
                                                         LedgerPosting.amount > 0))
    assert {"TOO_FEW_POSTINGS", "UNBALANCED_TRANSFER", "BALANCE_MISMATCH"} <= _tamper_check(session, mutate)


def test_check_detects_currency_mismatch(session):
    def mutate(s, a, b, tr):
        s.execute(update(LedgerPosting).where(LedgerPosting.transfer_id == tr.id).values(currency="USD"))
    assert "CURRENCY_MISMATCH" in _tamper_check(session, mutate)


def test_balances_read_zero_for_unknown_accounts_and_are_not_created(session):
    ghost = uid()
    assert ledger.balance(session, ledger.wallet(ghost)) == 0
    assert ledger.locked_balances(session, [ledger.wallet(ghost)]) == {ledger.wallet(ghost): 0}
    assert session.scalar(select(LedgerAccount).where(LedgerAccount.owner_id == ghost)) is None
