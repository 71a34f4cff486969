"""Licensing: listings, offers, agreements, license payments and certificates, chain of title, disputes.

docs/licensing.md states the terms document, the chain ids and the overlap rule.
"""
