"""Legato's marketplace: the ledger, coins and unlocks, tips, subscriptions, payouts, licensing."""

from marketplace.errors import MarketplaceError

__all__ = ["MarketplaceError"]
