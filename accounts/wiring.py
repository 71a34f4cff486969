"""Builds the live accounts service from plain values.

Keyword arguments only, no settings object and no environment: ``api/wiring.py`` reads ``LEGATO_*``
once and passes the values here, so accounts can be built the same way by the server, the CLI and tests.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from accounts.credentials import AccessTokens, PasswordHashing
from accounts.service import Accounts
from registry.keystore import read_or_create_secret


def jwt_secret(*, configured: str | None, keys_dir: Path) -> bytes:
    """The HS256 key: the configured one, else ``jwt.secret`` in ``keys_dir``, created (mode 0600) on
    first use so every process of one deployment signs and checks with the same key."""
    if configured is not None:
        return configured.encode()
    return read_or_create_secret(keys_dir / "jwt.secret", lambda: secrets.token_hex(32).encode())


def build_accounts(
    *,
    jwt_secret: bytes,
    access_ttl_seconds: int,
    refresh_ttl_seconds: int,
    argon2_time_cost: int,
    argon2_memory_cost_kib: int,
    login_max_failures: int,
    login_max_failures_per_ip: int | None,
    login_window_seconds: int,
) -> Accounts:
    """Registration, login with throttling and token rotation; ``.tokens`` checks access tokens."""
    return Accounts(
        hashing=PasswordHashing(time_cost=argon2_time_cost, memory_cost_kib=argon2_memory_cost_kib),
        tokens=AccessTokens(secret=jwt_secret, access_ttl=access_ttl_seconds),
        refresh_ttl=refresh_ttl_seconds,
        max_failures=login_max_failures,
        max_failures_per_ip=login_max_failures_per_ip,
        failure_window=login_window_seconds,
    )
