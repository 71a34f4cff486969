"""Legato's marketplace: money (``marketplace.money``) and licensing (``marketplace.licensing``).

The Payment service and the IP marketplace of the design document. One error root
(:class:`marketplace.errors.MarketplaceError`) for both; no web framework, no environment reads.
"""
