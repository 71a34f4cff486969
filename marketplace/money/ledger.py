"""The double-entry ledger: accounts, atomic transfers, balances and the invariant check.

Every movement of value in Legato is one :func:`transfer`: two or more postings that sum to zero per
currency, applied atomically with an idempotency key. Amounts are integers in minor units (coins for
``COIN``, cents for ``USD``); a float is refused at the door.

Concurrency. Before reading any balance, :func:`transfer` locks the rows of every account it touches,
in ascending id order so two transfers over the same accounts can never deadlock:

* PostgreSQL: ``SELECT … FOR UPDATE``. A second spender on the same wallet blocks until the first commits
  and then reads the committed balance, so two spends cannot both pass the balance check.
* SQLite: ``FOR UPDATE`` does not exist, but every transaction opens with ``BEGIN IMMEDIATE``
  (``api.db.make_engine``), which takes the database's single write lock up front. Transactions are
  therefore fully serialized and the read-check-write sequence below cannot interleave.

The cached ``balance`` column is updated in the same transaction as the postings and is re-derived from
them by :func:`check_ledger`; a CHECK constraint on the table refuses a negative non-negative account
even if a bug skipped the check here.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, InsufficientFunds, InvalidRequest
from marketplace.money.chart import (  # noqa: F401  (re-exported: callers build legs as ledger.wallet(...))
    COIN,
    KINDS,
    USD,
    AccountKey,
    Kind,
    KindSpec,
    OwnerType,
    TransferKind,
    coin_debt,
    coin_float,
    coin_issuance,
    earnings,
    gateway_payments,
    gateway_payouts,
    payout_in_flight,
    platform_losses,
    platform_revenue,
    subscription_pool,
    wallet,
)
from marketplace.money.models import LedgerAccount, LedgerPosting, LedgerTransfer
from registry.db import new_id


@dataclass(frozen=True)
class TransferResult:
    transfer: LedgerTransfer
    created: bool  # False when the idempotency key had already moved this exact transfer


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def split(amount: int, pct: int) -> tuple[int, int]:
    """``(share, rest)`` with ``share = floor(amount * pct / 100)``: the named party gets the floor and
    the counter-party the remainder, so the two always sum to ``amount`` exactly."""
    _require_int(amount, "amount")
    _require_int(pct, "pct")
    if amount < 0 or not 0 <= pct <= 100:
        raise InvalidRequest("split needs amount >= 0 and 0 <= pct <= 100")
    share = amount * pct // 100
    return share, amount - share


def _require_int(value: object, name: str) -> None:
    # bool is an int subclass and a float may look whole; neither belongs in money math.
    if type(value) is not int:
        raise InvalidRequest(f"{name} must be an integer in minor units", details={name: repr(value)})


def _fingerprint(kind: str, legs: Sequence[tuple[AccountKey, int]]) -> str:
    canon = sorted((str(k), a) for k, a in legs)
    return hashlib.sha256(json.dumps([kind, canon], separators=(",", ":")).encode()).hexdigest()


def _triple(k: AccountKey) -> tuple[str, str, str]:
    return (k.owner_type.value, k.owner_id, k.kind.value)


def ensure_accounts(session: Session, keys: Iterable[AccountKey]) -> None:
    """Create missing accounts without racing: ``INSERT … ON CONFLICT DO NOTHING`` on both backends."""
    keys = set(keys)
    if not keys:
        return
    present = {tuple(row) for row in session.execute(
        select(LedgerAccount.owner_type, LedgerAccount.owner_id, LedgerAccount.kind)
        .where(tuple_(LedgerAccount.owner_type, LedgerAccount.owner_id, LedgerAccount.kind)
               .in_([_triple(k) for k in keys]))
    )}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for k in sorted(keys):
        if _triple(k) in present:
            continue
        stmt = insert(LedgerAccount).values(
            id=new_id(), owner_type=k.owner_type.value, owner_id=k.owner_id, kind=k.kind.value,
            currency=k.currency, allow_negative=KINDS[k.kind].allow_negative, balance=0,
        ).on_conflict_do_nothing()
        session.execute(stmt)


def _lock_accounts(
    session: Session, keys: Iterable[AccountKey], *, create: bool = True
) -> dict[AccountKey, LedgerAccount]:
    keys = set(keys)
    if create:
        ensure_accounts(session, keys)
    stmt = (
        select(LedgerAccount)
        .where(tuple_(LedgerAccount.owner_type, LedgerAccount.owner_id, LedgerAccount.kind)
               .in_([_triple(k) for k in keys]))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {
        AccountKey(OwnerType(a.owner_type), a.owner_id, Kind(a.kind)): a for a in session.scalars(stmt)
    }


def locked_balances(session: Session, keys: Iterable[AccountKey]) -> dict[AccountKey, int]:
    """Lock the accounts (as :func:`transfer` would) and return their balances, for callers that must
    decide a transfer's amounts from a balance that may not change before the transfer. Accounts that
    do not exist yet read as 0 and are not created."""
    keys = list(keys)
    found = _lock_accounts(session, keys, create=False)
    return {k: found[k].balance if k in found else 0 for k in keys}


def transfer(
    session: Session,
    *,
    key: str,
    kind: str,
    legs: Sequence[tuple[AccountKey, int]],
    reference: str | None = None,
    memo: dict[str, Any] | None = None,
) -> TransferResult:
    """Move value atomically. ``legs`` are ``(account, signed amount)``; positive credits the account.

    The same ``key`` with the same kind and legs returns the first transfer and moves nothing; the
    same key with anything different is a ``CONFLICT``. A non-negative account that would end below
    zero raises ``INSUFFICIENT_FUNDS`` and nothing moves. The caller's transaction commits the result.
    """
    if not key or len(key) > 200:
        raise InvalidRequest("an idempotency key of 1-200 characters is required")
    if len(legs) < 2:
        raise InvalidRequest("a transfer needs at least two postings")
    totals: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        _require_int(amount, "amount")
        if amount == 0:
            raise InvalidRequest("a posting of zero moves nothing", details={"account": str(account)})
        totals[account.currency] += amount
    unbalanced = {c: t for c, t in totals.items() if t != 0}
    if unbalanced:
        raise InvalidRequest("postings must sum to zero per currency", details={"unbalanced": unbalanced})

    fingerprint = _fingerprint(kind, legs)
    accounts = _lock_accounts(session, (a for a, _ in legs))
    existing = _existing(session, key, kind, fingerprint)
    if existing is not None:
        return TransferResult(existing, created=False)

    deltas: dict[AccountKey, int] = defaultdict(int)
    for account, amount in legs:
        deltas[account] += amount
    for account, delta in sorted(deltas.items()):
        row = accounts[account]
        if not row.allow_negative and row.balance + delta < 0:
            raise InsufficientFunds(
                "Not enough funds.",
                details={"account": str(account), "currency": account.currency,
                         "balance": row.balance, "required": -delta},
            )

    tr = LedgerTransfer(idempotency_key=key, kind=kind, fingerprint=fingerprint, reference=reference,
                        memo=memo or {})
    try:
        with session.begin_nested():
            session.add(tr)
            session.flush()
    except IntegrityError:
        # A concurrent transaction took the key between our check and insert; it has committed
        # (the unique index made us wait for it), so the check now sees it.
        existing = _existing(session, key, kind, fingerprint)
        if existing is None:
            raise
        return TransferResult(existing, created=False)
    for account, amount in legs:
        session.add(LedgerPosting(transfer_id=tr.id, account_id=accounts[account].id, amount=amount,
                                  currency=account.currency, created_at=tr.created_at))
    for account, delta in deltas.items():
        # Relative SQL update: even if a lock were ever missed, no update could be lost, and the CHECK
        # constraint would still refuse a negative user balance.
        accounts[account].balance = LedgerAccount.balance + delta  # type: ignore[assignment]
    session.flush()
    return TransferResult(tr, created=True)


def _existing(session: Session, key: str, kind: str, fingerprint: str) -> LedgerTransfer | None:
    found = session.scalars(select(LedgerTransfer).where(LedgerTransfer.idempotency_key == key)).first()
    if found is not None and (found.kind != kind or found.fingerprint != fingerprint):
        raise Conflict(
            "This idempotency key was already used for a different transfer.",
            details={"idempotency_key": key, "transfer_id": found.id},
        )
    return found


def balance(session: Session, account: AccountKey) -> int:
    """The cached balance (0 for an account that was never used)."""
    value = session.scalar(
        select(LedgerAccount.balance).where(
            LedgerAccount.owner_type == account.owner_type.value,
            LedgerAccount.owner_id == account.owner_id,
            LedgerAccount.kind == account.kind.value,
            LedgerAccount.currency == account.currency,
        )
    )
    return int(value or 0)


def get_transfer(session: Session, key: str) -> LedgerTransfer | None:
    return session.scalars(select(LedgerTransfer).where(LedgerTransfer.idempotency_key == key)).first()


def transfer_legs(session: Session, transfer_id: str) -> list[tuple[AccountKey, int]]:
    rows = session.execute(
        select(LedgerAccount, LedgerPosting.amount)
        .join(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
        .where(LedgerPosting.transfer_id == transfer_id)
        .order_by(LedgerPosting.id)
    ).all()
    return [(AccountKey(OwnerType(a.owner_type), a.owner_id, Kind(a.kind)), int(amt)) for a, amt in rows]


@dataclass(frozen=True)
class Entry:
    """One posting as a user sees it: what moved, on which of their accounts, and why."""

    transfer_id: str
    transfer_kind: str
    account_kind: str
    currency: str
    amount: int
    reference: str | None
    memo: dict[str, Any]
    created_at: datetime


def entries(session: Session, owner_id: str, kinds: Iterable[Kind], *, limit: int = 20) -> list[Entry]:
    """The most recent postings on a user's accounts of the given kinds, newest first."""
    rows = session.execute(
        select(LedgerPosting, LedgerAccount.kind, LedgerTransfer)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .join(LedgerTransfer, LedgerTransfer.id == LedgerPosting.transfer_id)
        .where(LedgerAccount.owner_type == OwnerType.user.value, LedgerAccount.owner_id == owner_id,
               LedgerAccount.kind.in_([k.value for k in kinds]))
        .order_by(LedgerPosting.id.desc())
        .limit(limit)
    ).all()
    return [
        Entry(transfer_id=t.id, transfer_kind=t.kind, account_kind=kind, currency=p.currency,
              amount=int(p.amount), reference=t.reference, memo=dict(t.memo or {}), created_at=p.created_at)
        for p, kind, t in rows
    ]


def totals_by_transfer_kind(session: Session, account: AccountKey) -> dict[str, int]:
    """The net of an account's postings grouped by the kind of transfer that made them."""
    rows = session.execute(
        select(LedgerTransfer.kind, func.sum(LedgerPosting.amount))
        .join(LedgerPosting, LedgerPosting.transfer_id == LedgerTransfer.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerAccount.owner_type == account.owner_type.value,
               LedgerAccount.owner_id == account.owner_id, LedgerAccount.kind == account.kind.value)
        .group_by(LedgerTransfer.kind)
    ).all()
    return {kind: int(total) for kind, total in rows}


def check_ledger(session: Session) -> list[Violation]:
    """Every invariant the ledger promises, checked from the tables; an empty list means all hold."""
    out: list[Violation] = []
    for tid, currency, total in session.execute(
        select(LedgerPosting.transfer_id, LedgerPosting.currency, func.sum(LedgerPosting.amount))
        .group_by(LedgerPosting.transfer_id, LedgerPosting.currency)
        .having(func.sum(LedgerPosting.amount) != 0)
    ):
        out.append(Violation("UNBALANCED_TRANSFER", f"transfer {tid} sums to {total} {currency}",
                             {"transfer_id": tid, "currency": currency, "sum": int(total)}))
    counts = dict(session.execute(
        select(LedgerPosting.transfer_id, func.count()).group_by(LedgerPosting.transfer_id)
    ).all())
    for tid in session.scalars(select(LedgerTransfer.id)):
        if counts.get(tid, 0) < 2:
            out.append(Violation("TOO_FEW_POSTINGS", f"transfer {tid} has {counts.get(tid, 0)} postings",
                                 {"transfer_id": tid}))
    for pid, tid in session.execute(
        select(LedgerPosting.id, LedgerPosting.transfer_id)
        .outerjoin(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerAccount.id.is_(None))
    ):
        out.append(Violation("ORPHAN_POSTING", f"posting {pid} references no account",
                             {"posting_id": pid, "transfer_id": tid}))
    for pid, pcur, acur in session.execute(
        select(LedgerPosting.id, LedgerPosting.currency, LedgerAccount.currency)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerPosting.currency != LedgerAccount.currency)
    ):
        out.append(Violation("CURRENCY_MISMATCH", f"posting {pid} in {pcur} on a {acur} account",
                             {"posting_id": pid}))
    sums = dict(session.execute(
        select(LedgerPosting.account_id, func.sum(LedgerPosting.amount)).group_by(LedgerPosting.account_id)
    ).all())
    for acc in session.scalars(select(LedgerAccount)):
        derived = int(sums.get(acc.id, 0) or 0)
        label = f"{acc.owner_type}:{acc.owner_id}:{acc.kind}"
        if derived != acc.balance:
            out.append(Violation("BALANCE_MISMATCH",
                                 f"{label} caches {acc.balance}, postings sum to {derived}",
                                 {"account_id": acc.id, "cached": acc.balance, "derived": derived}))
        if not acc.allow_negative and min(derived, acc.balance) < 0:
            out.append(Violation("NEGATIVE_BALANCE", f"{label} is negative ({derived})",
                                 {"account_id": acc.id, "balance": derived}))
        try:
            spec: KindSpec | None = KINDS[Kind(acc.kind)]
        except ValueError:
            spec = None
        if spec is None or spec.allow_negative != acc.allow_negative or spec.currency != acc.currency:
            out.append(Violation("ACCOUNT_SPEC_MISMATCH", f"{label} does not match the chart of accounts",
                                 {"account_id": acc.id}))
    for key, n in session.execute(
        select(LedgerTransfer.idempotency_key, func.count())
        .group_by(LedgerTransfer.idempotency_key).having(func.count() > 1)
    ):
        out.append(Violation("DUPLICATE_IDEMPOTENCY_KEY", f"key {key!r} used by {n} transfers",
                             {"idempotency_key": key}))
    return out
