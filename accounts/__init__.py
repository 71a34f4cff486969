"""Legato's accounts: users, profiles, roles, passwords, access and refresh tokens, login throttling.

The Auth and User services of the design document. No web framework and no environment reads: ``api``
builds the service from its settings (:func:`accounts.wiring.build_accounts`) and maps its errors to HTTP.
"""
