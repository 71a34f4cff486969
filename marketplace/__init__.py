"""Legato's marketplace: the ledger, coins and unlocks, tips, subscriptions, payouts, licensing.

The money core's public API; docs/money.md describes the chart of accounts and every transfer.
"""

from marketplace.coins import CoinPackage, Coins, WalletView, coin_spend_legs, default_coin_packages
from marketplace.errors import MarketplaceError
from marketplace.gateways import (
    LocalPayoutGateway,
    LocalTestGateway,
    PaymentGateway,
    PayoutGateway,
    StripeGateway,
    StripePayoutGateway,
)
from marketplace.ledger import (
    AccountKey,
    Kind,
    TransferKind,
    TransferResult,
    Violation,
    balance,
    check_ledger,
    split,
    transfer,
)
from marketplace.payments import CheckoutOrder, CheckoutPurpose, Payments, WebhookOutcome
from marketplace.payouts import EarningsStatement, Payouts
from marketplace.subscriptions import PoolAllocation, SubscriptionPlan, Subscriptions, allocate_pool
from marketplace.tips import TipResult, Tips
from marketplace.unlocks import UnlockResult, Unlocks, has_unlocked

__all__ = [
    "AccountKey",
    "CheckoutOrder",
    "CheckoutPurpose",
    "CoinPackage",
    "Coins",
    "EarningsStatement",
    "Kind",
    "LocalPayoutGateway",
    "LocalTestGateway",
    "MarketplaceError",
    "PaymentGateway",
    "Payments",
    "PayoutGateway",
    "Payouts",
    "PoolAllocation",
    "StripeGateway",
    "StripePayoutGateway",
    "SubscriptionPlan",
    "Subscriptions",
    "TipResult",
    "Tips",
    "TransferKind",
    "TransferResult",
    "UnlockResult",
    "Unlocks",
    "Violation",
    "WalletView",
    "WebhookOutcome",
    "allocate_pool",
    "balance",
    "check_ledger",
    "coin_spend_legs",
    "default_coin_packages",
    "has_unlocked",
    "split",
    "transfer",
]
