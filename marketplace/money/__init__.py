"""Money: the double-entry ledger, coins and unlocks, tips, subscriptions, payments through gateways, payouts.

docs/money.md describes the chart of accounts and every transfer.
"""
