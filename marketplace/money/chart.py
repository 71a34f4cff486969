"""The chart of accounts: which accounts exist, their currency, and whether they may go negative.

Docs/money.md explains each kind and every transfer's postings. An account is identified by
(owner type, owner id, kind); its currency follows from its kind. User accounts never go negative;
accounts that stand for money outside Legato, or for the platform's funding of bonuses and losses, may.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

COIN = "COIN"
USD = "USD"


class OwnerType(enum.StrEnum):
    user = "user"
    platform = "platform"
    system = "system"      # bookkeeping accounts that are neither a user's nor platform income
    external = "external"  # money outside Legato: the payment and payout gateways


@dataclass(frozen=True)
class KindSpec:
    currency: str
    allow_negative: bool


class Kind(enum.StrEnum):
    """The chart of accounts (docs/money.md explains each)."""

    wallet = "wallet"                      # user: coins held
    coin_debt = "coin_debt"                # user: coins owed after a refund of already-spent coins
    earnings = "earnings"                  # user: cents a writer has earned and not paid out
    payout_in_flight = "payout_in_flight"  # user: cents sent to the payout gateway, outcome unknown
    revenue = "revenue"                    # platform: the platform's share of every split
    coin_float = "coin_float"              # platform: cash received for coins not yet spent
    losses = "losses"                      # platform: refunds the platform absorbed
    coin_issuance = "coin_issuance"        # system: minus the coins outstanding
    subscription_pool = "subscription_pool"  # system, per month: subscription cash awaiting allocation
    payments = "payments"                  # external: cash in from the payment gateway
    payouts = "payouts"                    # external: cash out through the payout gateway


KINDS: dict[Kind, KindSpec] = {
    Kind.wallet: KindSpec(COIN, allow_negative=False),
    Kind.coin_debt: KindSpec(COIN, allow_negative=True),
    Kind.earnings: KindSpec(USD, allow_negative=False),
    Kind.payout_in_flight: KindSpec(USD, allow_negative=False),
    Kind.revenue: KindSpec(USD, allow_negative=False),
    Kind.coin_float: KindSpec(USD, allow_negative=True),
    Kind.losses: KindSpec(USD, allow_negative=True),
    Kind.coin_issuance: KindSpec(COIN, allow_negative=True),
    Kind.subscription_pool: KindSpec(USD, allow_negative=False),
    Kind.payments: KindSpec(USD, allow_negative=True),
    Kind.payouts: KindSpec(USD, allow_negative=True),
}


class TransferKind(enum.StrEnum):
    """What a transfer was for; the earnings statement groups by it (docs/money.md lists the postings)."""

    coin_purchase = "coin_purchase"
    coin_reversal = "coin_reversal"
    coin_reinstatement = "coin_reinstatement"
    coin_debt_settlement = "coin_debt_settlement"
    unlock = "unlock"
    tip = "tip"
    subscription_payment = "subscription_payment"
    subscription_reversal = "subscription_reversal"
    subscription_pool = "subscription_pool"
    license_payment = "license_payment"
    license_reversal = "license_reversal"
    license_reinstatement = "license_reinstatement"
    payout_request = "payout_request"
    payout_settled = "payout_settled"
    payout_failed = "payout_failed"
    payout_reversed = "payout_reversed"


@dataclass(frozen=True, order=True)
class AccountKey:
    owner_type: OwnerType
    owner_id: str
    kind: Kind

    @property
    def currency(self) -> str:
        return KINDS[self.kind].currency

    def __str__(self) -> str:
        return f"{self.owner_type.value}:{self.owner_id}:{self.kind.value}"


def wallet(user_id: str) -> AccountKey:
    return AccountKey(OwnerType.user, user_id, Kind.wallet)


def coin_debt(user_id: str) -> AccountKey:
    return AccountKey(OwnerType.user, user_id, Kind.coin_debt)


def earnings(user_id: str) -> AccountKey:
    return AccountKey(OwnerType.user, user_id, Kind.earnings)


def payout_in_flight(user_id: str) -> AccountKey:
    return AccountKey(OwnerType.user, user_id, Kind.payout_in_flight)


def platform_revenue() -> AccountKey:
    return AccountKey(OwnerType.platform, "legato", Kind.revenue)


def coin_float() -> AccountKey:
    return AccountKey(OwnerType.platform, "legato", Kind.coin_float)


def platform_losses() -> AccountKey:
    return AccountKey(OwnerType.platform, "legato", Kind.losses)


def coin_issuance() -> AccountKey:
    return AccountKey(OwnerType.system, "coins", Kind.coin_issuance)


def subscription_pool(month: str) -> AccountKey:
    return AccountKey(OwnerType.system, month, Kind.subscription_pool)


def gateway_payments(gateway: str) -> AccountKey:
    return AccountKey(OwnerType.external, gateway, Kind.payments)


def gateway_payouts(gateway: str) -> AccountKey:
    return AccountKey(OwnerType.external, gateway, Kind.payouts)
