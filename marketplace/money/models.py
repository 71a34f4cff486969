"""Tables of the money core: the ledger, gateway checkouts and webhooks, unlocks, tips, subscriptions,
payouts.

Users live in ``api``; these tables hold user ids as plain strings (no foreign key across packages) so
``marketplace`` never depends on ``api``'s schema. Every amount is an integer in minor units: coins for
``COIN`` accounts, cents for ``USD`` ones. The ledger tables are the truth; the rest are records that say
*why* a transfer happened and carry the state machines around it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = [
    "Checkout",
    "CheckoutStatus",
    "LedgerAccount",
    "LedgerPosting",
    "LedgerTransfer",
    "PaymentAdjustment",
    "Payout",
    "PayoutDestination",
    "PayoutStatus",
    "Subscription",
    "SubscriptionPoolRun",
    "SubscriptionStatement",
    "SubscriptionStatus",
    "Tip",
    "Unlock",
    "WebhookEvent",
]


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


# --- ledger --------------------------------------------------------------------------------------


class LedgerAccount(Base):
    """One balance: (owner_type, owner_id, kind, currency) is unique.

    ``balance`` is a cache of the sum of this account's postings, updated in the same transaction as
    each posting, so a balance check needs one locked row instead of a sum. ``allow_negative`` is set
    from the kind when the account is created; the CHECK constraint makes the database itself refuse a
    negative user balance should any code path ever forget to check.
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "kind", "currency", name="uq_ledger_accounts_owner_kind"),
        CheckConstraint("allow_negative OR balance >= 0", name="non_negative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(8))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    allow_negative: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerTransfer(Base):
    """A set of postings that moved together. ``fingerprint`` hashes the kind and postings so a repeated
    idempotency key can be told apart from a reused one with different parameters."""

    __tablename__ = "ledger_transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    memo: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerPosting(Base):
    """One signed amount on one account: positive credits the account, negative debits it."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="non_zero"),
        Index("ix_ledger_postings_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- payment gateway -----------------------------------------------------------------------------


class CheckoutStatus(enum.StrEnum):
    open = "open"
    paid = "paid"
    expired = "expired"
    failed = "failed"


class Checkout(Base):
    """A payment the user was sent to the gateway for. ``purpose`` says what paying it buys (coins, a
    subscription month, a license); ``reference`` names that thing. Credits are keyed on this row, never
    on a webhook event, so any number of events about one payment credit it once."""

    __tablename__ = "checkouts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    purpose: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    coins: Mapped[int] = mapped_column(BigInteger, default=0)
    gateway: Mapped[str] = mapped_column(String(16))
    gateway_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_intent: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CheckoutStatus] = mapped_column(_enum(CheckoutStatus), default=CheckoutStatus.open)
    reversed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_coins: Mapped[int] = mapped_column(BigInteger, default=0)
    reversal_steps: Mapped[int] = mapped_column(Integer, default=0)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]


class PaymentAdjustment(Base):
    """The latest known state of a refund or dispute against a payment, keyed by the gateway's object.

    Kept apart from :class:`Checkout` and keyed by ``payment_intent`` so a refund that arrives before the
    completion it refunds is parked here and applied when the completion lands. ``amount_cents`` is
    cumulative for refunds (Stripe's ``amount_refunded``), the disputed amount for disputes.
    """

    __tablename__ = "payment_adjustments"
    __table_args__ = (UniqueConstraint("kind", "external_id", name="uq_payment_adjustments_kind_external"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    payment_intent: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookEvent(Base):
    """Every gateway event processed, by the gateway's event id: a second delivery finds its row and
    does nothing. The row commits with the event's effects, so a failed handling is retried."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- spending ------------------------------------------------------------------------------------


class Unlock(Base):
    __tablename__ = "unlocks"
    __table_args__ = (UniqueConstraint("reader_id", "chapter_id", name="uq_unlocks_reader_chapter"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reader_id: Mapped[str] = mapped_column(String(36))
    writer_id: Mapped[str] = mapped_column(String(36), index=True)
    chapter_id: Mapped[str] = mapped_column(String(36), index=True)
    price_coins: Mapped[int] = mapped_column(BigInteger)
    writer_cents: Mapped[int] = mapped_column(BigInteger)
    platform_cents: Mapped[int] = mapped_column(BigInteger)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tipper_id: Mapped[str] = mapped_column(String(36), index=True)
    writer_id: Mapped[str] = mapped_column(String(36), index=True)
    coins: Mapped[int] = mapped_column(BigInteger)
    writer_cents: Mapped[int] = mapped_column(BigInteger)
    platform_cents: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(String(500))
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- subscriptions -------------------------------------------------------------------------------


class SubscriptionStatus(enum.StrEnum):
    active = "active"
    refunded = "refunded"


class Subscription(Base):
    """One paid month of one plan for one subscriber; ``month`` is ``YYYY-MM`` (UTC)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "month", name="uq_subscriptions_user_month"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36))
    plan_id: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7), index=True)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    platform_share_pct: Mapped[int] = mapped_column(Integer)
    checkout_id: Mapped[str] = mapped_column(ForeignKey("checkouts.id"), unique=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        _enum(SubscriptionStatus), default=SubscriptionStatus.active
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubscriptionPoolRun(Base):
    """A month whose pool has been distributed; its existence is what makes the run happen once."""

    __tablename__ = "subscription_pool_runs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    pool_cents: Mapped[int] = mapped_column(BigInteger)
    writers_cents: Mapped[int] = mapped_column(BigInteger)
    platform_cents: Mapped[int] = mapped_column(BigInteger)
    subscribers: Mapped[int] = mapped_column(Integer)
    transfer_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubscriptionStatement(Base):
    __tablename__ = "subscription_statements"
    __table_args__ = (UniqueConstraint("month", "writer_id", name="uq_subscription_statements_month_writer"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    month: Mapped[str] = mapped_column(ForeignKey("subscription_pool_runs.month"))
    writer_id: Mapped[str] = mapped_column(String(36), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[int] = mapped_column(BigInteger)
    subscribers: Mapped[int] = mapped_column(Integer)


# --- payouts -------------------------------------------------------------------------------------


class PayoutStatus(enum.StrEnum):
    requested = "requested"   # money in flight, gateway not yet (or not surely) called
    pending = "pending"       # the gateway accepted it and will report the outcome later
    paid = "paid"
    failed = "failed"         # money returned to earnings
    reversed = "reversed"     # paid, then pulled back by the gateway; money returned to earnings


class Payout(Base):
    __tablename__ = "payouts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    destination: Mapped[str] = mapped_column(String(255))
    gateway: Mapped[str] = mapped_column(String(16))
    gateway_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[PayoutStatus] = mapped_column(_enum(PayoutStatus), default=PayoutStatus.requested)
    reversed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PayoutDestination(Base):
    """Where a writer's payouts go: a Stripe Connect account id (``acct_…``) in production."""

    __tablename__ = "payout_destinations"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    destination: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
