"""Monthly subscriptions and the month's pool, divided among writers by what each subscriber read.

A subscription is one paid month (``YYYY-MM``, UTC) bought through a checkout like coins. Its cash waits
in that month's ``subscription_pool`` account until the month has ended and the pool is distributed
(:meth:`Subscriptions.distribute`, once per month).

Allocation (per-subscriber pro-rata, :func:`allocate_pool`, a pure function):

1. each subscriber's payment p (less any refund) splits into the writers' part
   ``floor(p·(100−platform%)/100)`` and the platform's rest;
2. the writers' part follows that subscriber's own reading seconds: writer w gets
   ``floor(part·s_w/S)``, and the cents left by the floors go one each to the writers with the largest
   remainders ``part·s_w mod S`` (ties: smaller writer id first), so the part is paid out exactly;
3. a subscriber who read nothing that month is allocated like the month's average subscriber: by the
   cents the readers' allocations gave each writer, with the same largest-remainder rule;
4. if nobody read anything, the writers' parts are *unallocated* and the run is refused unless asked
   to give them to the platform (so an empty engagement feed cannot silently take writers' money).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, InvalidRequest, NotFound
from marketplace.money import ledger
from marketplace.money.ledger import AccountKey, TransferKind
from marketplace.money.models import (
    Checkout,
    Subscription,
    SubscriptionPoolRun,
    SubscriptionStatement,
    SubscriptionStatus,
)
from marketplace.money.payments import CheckoutOrder
from registry.db import utcnow

PURPOSE = "subscription"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def parse_month(month: str) -> str:
    if not _MONTH.match(month or ""):
        raise InvalidRequest("A month is written YYYY-MM.", details={"month": month})
    return month


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


@dataclass(frozen=True)
class SubscriptionPlan:
    id: str
    name: str
    price_cents: int
    currency: str = "USD"
    platform_share_pct: int = 30

    def __post_init__(self) -> None:
        if type(self.price_cents) is not int or self.price_cents <= 0:
            raise InvalidRequest(f"plan {self.id!r}: price_cents must be a positive integer")
        if type(self.platform_share_pct) is not int or not 0 <= self.platform_share_pct <= 100:
            raise InvalidRequest(f"plan {self.id!r}: platform_share_pct must be 0-100")


DEFAULT_PLANS = (SubscriptionPlan(id="monthly", name="Monthly reader", price_cents=499),)


# --- allocation (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolAllocation:
    total_cents: int
    writers: dict[str, int]
    platform_cents: int
    unallocated_cents: int  # writers' parts nobody's reading could place (see rule 4)
    seconds: dict[str, int] = field(default_factory=dict)
    subscribers: dict[str, int] = field(default_factory=dict)


def largest_remainder(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``amount`` by integer ``weights`` to the cent: floors first, then one cent each to the largest
    remainders (ties by key). Returns only positive shares; ``{}`` when all weights are zero."""
    total = sum(weights.values())
    if amount <= 0 or total <= 0:
        return {}
    shares = {k: amount * w // total for k, w in weights.items() if w > 0}
    left = amount - sum(shares.values())
    by_remainder = sorted(shares, key=lambda k: (-(amount * weights[k] % total), k))
    for k in by_remainder[:left]:
        shares[k] += 1
    return {k: v for k, v in shares.items() if v > 0}


def allocate_pool(
    payments: Mapping[str, int], engagement: Mapping[str, Mapping[str, int]], *,
    platform_share_pct: int | Mapping[str, int],
) -> PoolAllocation:
    """Divide subscribers' ``payments`` (cents, by subscriber) among writers by ``engagement``
    (subscriber → writer → seconds). ``platform_share_pct`` is one percentage or one per subscriber.
    The result always satisfies ``sum(writers) + platform + unallocated == sum(payments)``."""
    writers: dict[str, int] = defaultdict(int)
    seconds: dict[str, int] = defaultdict(int)
    readers: dict[str, int] = defaultdict(int)
    platform = 0
    idle_parts = 0
    for subscriber, paid in sorted(payments.items()):
        if type(paid) is not int or paid < 0:
            raise InvalidRequest("payments must be non-negative integers in cents")
        pct = platform_share_pct if isinstance(platform_share_pct, int) else platform_share_pct[subscriber]
        part, rest = ledger.split(paid, 100 - pct)
        platform += rest
        read = {w: s for w, s in (engagement.get(subscriber) or {}).items() if _seconds(s) > 0}
        if not read:
            idle_parts += part
            continue
        for writer, share in largest_remainder(part, read).items():
            writers[writer] += share
        for writer, s in read.items():
            seconds[writer] += s
            readers[writer] += 1
    unallocated = 0
    if idle_parts:
        spread = largest_remainder(idle_parts, dict(writers))
        for writer, share in spread.items():
            writers[writer] += share
        unallocated = idle_parts - sum(spread.values())
    return PoolAllocation(total_cents=sum(payments.values()), writers=dict(writers), platform_cents=platform,
                          unallocated_cents=unallocated, seconds=dict(seconds), subscribers=dict(readers))


def _seconds(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise InvalidRequest("engagement seconds must be non-negative integers")
    return value


# --- service -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolResult:
    run: SubscriptionPoolRun
    statements: list[SubscriptionStatement]
    created: bool


class Subscriptions:
    """The ``subscription`` checkout purpose, and the monthly pool run."""

    def __init__(self, *, plans: Sequence[SubscriptionPlan]) -> None:
        if not plans:
            raise InvalidRequest("at least one subscription plan is required")
        self._plans = {p.id: p for p in plans}

    def plans(self) -> list[SubscriptionPlan]:
        return list(self._plans.values())

    def plan(self, plan_id: str) -> SubscriptionPlan:
        plan = self._plans.get(plan_id)
        if plan is None:
            raise NotFound("No such subscription plan.", details={"plan_id": plan_id})
        return plan

    def order(
        self, session: Session, *, user_id: str, plan_id: str, now: datetime | None = None
    ) -> CheckoutOrder:
        plan = self.plan(plan_id)
        month = month_of(now or utcnow())
        if self.subscription_for(session, user_id, month) is not None:
            raise Conflict("You are already subscribed for this month.", details={"month": month})
        return CheckoutOrder(
            purpose=PURPOSE, reference=plan.id, description=f"{plan.name} subscription, {month}",
            amount_cents=plan.price_cents, currency=plan.currency,
            attributes={"month": month, "platform_share_pct": plan.platform_share_pct},
        )

    def subscription_for(self, session: Session, user_id: str, month: str) -> Subscription | None:
        return session.scalars(select(Subscription).where(
            Subscription.user_id == user_id, Subscription.month == month,
            Subscription.status == SubscriptionStatus.active)).first()

    def is_subscribed(self, session: Session, user_id: str, *, now: datetime | None = None) -> bool:
        """Whether the user has an active (paid, not refunded) subscription for the current UTC month:
        what opens the catalog's paid chapters to them, and what the month's pool pays writers from."""
        return self.subscription_for(session, user_id, month_of(now or utcnow())) is not None

    def subscribers(self, session: Session, month: str) -> list[Subscription]:
        return list(session.scalars(select(Subscription).where(
            Subscription.month == month, Subscription.status == SubscriptionStatus.active)))

    def list_for(self, session: Session, user_id: str) -> list[Subscription]:
        return list(session.scalars(
            select(Subscription).where(Subscription.user_id == user_id).order_by(Subscription.month.desc())))

    # --- CheckoutPurpose ---------------------------------------------------------------------------
    def on_paid(self, session: Session, checkout: Checkout) -> str:
        if session.scalar(select(Subscription.id).where(Subscription.checkout_id == checkout.id)):
            return "already_subscribed"
        # Two checkouts paid for one month, or a payment landing after its month's pool ran: the money
        # buys the next month that is still free, never a second seat in a month or a closed pool.
        month = parse_month(str(checkout.attributes.get("month") or month_of(utcnow())))
        taken = set(session.scalars(
            select(Subscription.month).where(Subscription.user_id == checkout.user_id)))
        while month in taken or session.get(SubscriptionPoolRun, month) is not None:
            month = next_month(month)
        sub = Subscription(user_id=checkout.user_id, plan_id=checkout.reference, month=month,
                           price_cents=checkout.amount_cents, checkout_id=checkout.id,
                           platform_share_pct=int(checkout.attributes.get("platform_share_pct", 30)))
        session.add(sub)
        ledger.transfer(session, key=f"checkout:{checkout.id}:paid", kind=TransferKind.subscription_payment,
                        reference=checkout.id, memo={"month": month, "plan_id": sub.plan_id},
                        legs=[(ledger.gateway_payments(checkout.gateway), -checkout.amount_cents),
                              (ledger.subscription_pool(month), checkout.amount_cents)])
        session.flush()
        return f"subscribed for {month}"

    def on_reversal(self, session: Session, checkout: Checkout, *, target_cents: int, key: str) -> str:
        sub = session.scalars(select(Subscription).where(Subscription.checkout_id == checkout.id)).one()
        delta = target_cents - checkout.reversed_cents
        # Before the pool runs the money is still in it; afterwards writers keep what they were paid
        # and the platform absorbs the refund.
        ran = session.get(SubscriptionPoolRun, sub.month) is not None
        source: AccountKey = ledger.platform_losses() if ran else ledger.subscription_pool(sub.month)
        ledger.transfer(session, key=key, kind=TransferKind.subscription_reversal, reference=checkout.id,
                        memo={"month": sub.month, "target_cents": target_cents},
                        legs=[(ledger.gateway_payments(checkout.gateway), delta), (source, -delta)])
        fully_refunded = target_cents >= sub.price_cents
        sub.status = SubscriptionStatus.refunded if fully_refunded else SubscriptionStatus.active
        return f"subscription_reversal: {delta} cents from {source}"

    # --- the monthly pool --------------------------------------------------------------------------
    def distribute(
        self, session: Session, *, month: str, engagement: Mapping[str, Mapping[str, int]],
        now: datetime | None = None, allow_unallocated: bool = False,
    ) -> PoolResult:
        """Pay out ``month``'s pool once. Running it again returns the stored statements and moves
        nothing; a month that has not ended yet is refused (its pool can still grow)."""
        parse_month(month)
        existing = session.get(SubscriptionPoolRun, month)
        if existing is not None:
            return PoolResult(existing, self.statements(session, month), created=False)
        if month >= month_of(now or utcnow()):
            raise InvalidRequest("A month's pool is distributed after the month has ended.",
                                 details={"month": month})
        rows = session.execute(
            select(Subscription, Checkout.reversed_cents)
            .join(Checkout, Checkout.id == Subscription.checkout_id)
            .where(Subscription.month == month)
        ).all()
        payments = {s.user_id: s.price_cents - rev for s, rev in rows if s.price_cents - rev > 0}
        shares = {s.user_id: s.platform_share_pct for s, _ in rows}
        alloc = allocate_pool(payments, engagement, platform_share_pct=shares)
        if alloc.unallocated_cents and not allow_unallocated:
            raise InvalidRequest("No reading engagement for this month's subscribers: nothing to divide by.",
                                 details={"month": month, "unallocated_cents": alloc.unallocated_cents})
        pool = ledger.subscription_pool(month)
        held = ledger.locked_balances(session, [pool])[pool]
        if session.get(SubscriptionPoolRun, month, populate_existing=True) is not None:
            raise Conflict("This month's pool was distributed by a concurrent run.", details={"month": month})
        if held != alloc.total_cents:
            raise Conflict("The pool account does not match the month's subscriptions.",
                           details={"pool_cents": held, "subscriptions_cents": alloc.total_cents})
        run = SubscriptionPoolRun(month=month, pool_cents=alloc.total_cents,
                                  writers_cents=sum(alloc.writers.values()),
                                  platform_cents=alloc.platform_cents + alloc.unallocated_cents,
                                  subscribers=len(payments))
        if alloc.total_cents:
            legs: list[tuple[AccountKey, int]] = [(pool, -alloc.total_cents)]
            legs += [(ledger.earnings(w), c) for w, c in sorted(alloc.writers.items())]
            if run.platform_cents:
                legs.append((ledger.platform_revenue(), run.platform_cents))
            result = ledger.transfer(session, key=f"subscriptions:pool:{month}",
                                     kind=TransferKind.subscription_pool, reference=month, legs=legs,
                                     memo={"month": month})
            run.transfer_id = result.transfer.id
        session.add(run)
        session.flush()
        statements = [
            SubscriptionStatement(month=month, writer_id=w, amount_cents=c, seconds=alloc.seconds.get(w, 0),
                                  subscribers=alloc.subscribers.get(w, 0))
            for w, c in sorted(alloc.writers.items())
        ]
        session.add_all(statements)
        session.flush()
        return PoolResult(run, statements, created=True)

    def statements(
        self, session: Session, month: str, *, writer_id: str | None = None
    ) -> list[SubscriptionStatement]:
        stmt = select(SubscriptionStatement).where(SubscriptionStatement.month == month)
        if writer_id is not None:
            stmt = stmt.where(SubscriptionStatement.writer_id == writer_id)
        return list(session.scalars(stmt.order_by(SubscriptionStatement.writer_id)))
