"""Licensing: listings, offers, agreements, license payments and certificates, chain of title, disputes.

Stories and users come in through the catalog port (``catalog.py``); the services are built together by
``marketplace.wiring.build_marketplace``; the worker runs ``background.py``.

docs/licensing.md states the terms document, the chain ids and the overlap rule.
"""
