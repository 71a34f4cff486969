"""Concurrent spends on one wallet, with real commits on separate connections.

On PostgreSQL (``LEGATO_TEST_DATABASE_URL``) this is the row-lock test the issue asks for; on SQLite the
same test checks that ``BEGIN IMMEDIATE`` serializes the spenders. These tests commit, so they work on
their own sessions (not the per-test savepoint) and remove every row they made afterwards, restoring the
cached balances of shared accounts so the rest of the suite still sees a consistent ledger.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from money_support import grant_coins
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from marketplace.errors import InsufficientFunds
from marketplace.money import ledger
from marketplace.money.ledger import check_ledger
from marketplace.money.models import LedgerAccount, LedgerPosting, LedgerTransfer, Unlock
from marketplace.money.unlocks import Unlocks, has_unlocked

THREADS = 8


@pytest.fixture
def committed(engine: Engine) -> Iterator[Callable[[str], None]]:
    """Registers idempotency-key prefixes whose transfers are purged after the test."""
    prefixes: list[str] = []
    yield prefixes.append
    with Session(engine) as s, s.begin():
        ids = [tid for prefix in prefixes for tid in s.scalars(
            select(LedgerTransfer.id).where(LedgerTransfer.idempotency_key.like(f"{prefix}%")))]
        # Net per account over all of the test's transfers, so no intermediate balance trips the
        # non-negative CHECK.
        for account_id, amount in s.execute(
            select(LedgerPosting.account_id, func.sum(LedgerPosting.amount))
            .where(LedgerPosting.transfer_id.in_(ids)).group_by(LedgerPosting.account_id)
        ).all():
            s.execute(update(LedgerAccount).where(LedgerAccount.id == account_id)
                      .values(balance=LedgerAccount.balance - amount))
        s.execute(delete(Unlock).where(Unlock.transfer_id.in_(ids)))
        s.execute(delete(LedgerPosting).where(LedgerPosting.transfer_id.in_(ids)))
        s.execute(delete(LedgerTransfer).where(LedgerTransfer.id.in_(ids)))
        s.execute(delete(LedgerAccount).where(LedgerAccount.owner_type == "user", LedgerAccount.balance == 0,
                                              ~LedgerAccount.id.in_(select(LedgerPosting.account_id))))


def race(engine: Engine, work: Callable[[Session, int], object]) -> list[object]:
    """Run ``work`` in THREADS threads at once, each on its own connection and transaction."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                results[i] = work(s, i)
                s.commit()
            except Exception as e:  # the outcome of each racer is the test's data
                s.rollback()
                results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_racing_spends_of_the_whole_balance_succeed_exactly_once(engine, committed):
    reader, writer = str(uuid.uuid4()), str(uuid.uuid4())
    committed(f"race-{reader}")
    with Session(engine) as s:
        grant_coins(s, reader, 100, key=f"race-{reader}-grant")
        s.commit()

    def spend_everything(s: Session, i: int) -> object:
        # different chapters, so idempotency cannot save us: only the lock can
        return ledger.transfer(s, key=f"race-{reader}-spend-{i}", kind="unlock", legs=[
            (ledger.wallet(reader), -100), (ledger.wallet(writer), 100)])

    results = race(engine, spend_everything)
    wins = [r for r in results if isinstance(r, ledger.TransferResult)]
    losses = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(wins) == 1 and len(losses) == THREADS - 1, results
    with Session(engine) as s:
        assert ledger.balance(s, ledger.wallet(reader)) == 0
        assert ledger.balance(s, ledger.wallet(writer)) == 100
        assert check_ledger(s) == []


def test_racing_unlocks_of_different_chapters_charge_only_what_the_wallet_holds(engine, committed):
    reader, writer = str(uuid.uuid4()), str(uuid.uuid4())
    committed(f"race-{reader}")
    committed(f"unlock:{reader}")
    with Session(engine) as s:
        grant_coins(s, reader, 30, key=f"race-{reader}-grant")
        s.commit()
    unlocks = Unlocks(coin_value_cents=1)
    results = race(engine, lambda s, i: unlocks.unlock(s, reader_id=reader, writer_id=writer,
                                                       chapter_id=f"{reader[:8]}-ch{i}", price_coins=10))
    charged = [r for r in results if not isinstance(r, Exception)]
    assert len(charged) == 3 and all(isinstance(r, InsufficientFunds) for r in results if r not in charged)
    with Session(engine) as s:
        assert ledger.balance(s, ledger.wallet(reader)) == 0
        assert ledger.balance(s, ledger.earnings(writer)) == 21
        assert check_ledger(s) == []


def test_racing_unlocks_of_one_chapter_charge_once_and_all_see_the_unlock(engine, committed):
    reader, writer, chapter = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    committed(f"race-{reader}")
    committed(f"unlock:{reader}")
    with Session(engine) as s:
        grant_coins(s, reader, 100, key=f"race-{reader}-grant")
        s.commit()
    unlocks = Unlocks(coin_value_cents=1)
    results = race(engine, lambda s, i: unlocks.unlock(s, reader_id=reader, writer_id=writer,
                                                       chapter_id=chapter, price_coins=40))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r.charged) == 1
    assert len({r.unlock.id for r in results}) == 1
    with Session(engine) as s:
        assert ledger.balance(s, ledger.wallet(reader)) == 60
        assert has_unlocked(s, reader, chapter)
        assert check_ledger(s) == []
