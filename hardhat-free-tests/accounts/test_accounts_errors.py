"""Accounts refuses with its own errors (stable codes, no HTTP statuses); the HTTP layer maps each code."""

from __future__ import annotations

import pytest
from factories import PASSWORD, make_user

from accounts.credentials import AccessTokens, TokenError
from accounts.errors import AccountsError, AlreadyRegistered, LoginThrottled, NotAuthenticated
from accounts.models import Role
from accounts.wiring import build_accounts, jwt_secret
from api.http.errors import STATUS_BY_CODE


def _subclasses(root: type) -> list[type]:
    out, todo = [], [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


def test_every_accounts_code_is_mapped_to_a_client_status():
    codes = {cls.code for cls in _subclasses(AccountsError)}
    assert {"CONFLICT", "UNAUTHORIZED", "TOO_MANY_REQUESTS"} <= codes
    assert all(400 <= STATUS_BY_CODE[code] < 500 for code in codes)


def test_a_taken_email_or_username_is_refused_with_conflict(session, container):
    user = make_user(session, container)
    with pytest.raises(AlreadyRegistered) as e:
        container.accounts.register(session, email=f"  {user.email.upper()} ", username="someone-else",
                                    password=PASSWORD, role=Role.reader)
    assert e.value.code == "CONFLICT" and e.value.details == {"field": "email"}
    with pytest.raises(AlreadyRegistered) as e:
        container.accounts.register(session, email="new@example.org", username=user.username.upper(),
                                    password=PASSWORD, role=Role.reader)
    assert e.value.details == {"field": "username"}
    assert isinstance(e.value, AccountsError)


def test_wrong_password_and_unknown_refresh_token_are_not_authenticated(session, container):
    user = make_user(session, container)
    with pytest.raises(NotAuthenticated) as e:
        container.accounts.login(session, identifier=user.email, password="wrong", ip="198.51.100.7")
    assert e.value.code == "UNAUTHORIZED"
    with pytest.raises(NotAuthenticated):
        container.accounts.refresh(session, refresh_token="rt_not-one-we-issued")


def test_throttled_login_says_when_to_retry(session, settings, container_factory):
    throttled = container_factory(settings.model_copy(update={"login_max_failures": 1}))
    user = make_user(session, throttled)
    with pytest.raises(NotAuthenticated):
        throttled.accounts.login(session, identifier=user.username, password="wrong", ip="203.0.113.9")
    with pytest.raises(LoginThrottled) as e:
        throttled.accounts.login(session, identifier=user.username, password=PASSWORD, ip="203.0.113.9")
    assert e.value.code == "TOO_MANY_REQUESTS" and e.value.retry_after >= 1
    assert e.value.details == {"retry_after_seconds": e.value.retry_after, "scope": "account"}


def test_a_bad_access_token_is_a_token_error_of_the_accounts_root():
    tokens = AccessTokens(secret=b"k" * 32, access_ttl=60)
    with pytest.raises(TokenError) as e:
        tokens.decode_access("not.a.jwt")
    assert isinstance(e.value, AccountsError) and e.value.code == "UNAUTHORIZED"
    other = AccessTokens(secret=b"x" * 32, access_ttl=60)
    with pytest.raises(TokenError):
        tokens.decode_access(other.issue_access(user_id="u1", role="reader"))


def test_the_builder_takes_plain_values(tmp_path):
    secret = jwt_secret(configured=None, keys_dir=tmp_path / "keys")
    assert secret == jwt_secret(configured=None, keys_dir=tmp_path / "keys")  # created once, then read
    assert (tmp_path / "keys" / "jwt.secret").stat().st_mode & 0o077 == 0
    assert jwt_secret(configured="given", keys_dir=tmp_path / "elsewhere") == b"given"
    accounts = build_accounts(
        jwt_secret=secret, access_ttl_seconds=120, refresh_ttl_seconds=3600, argon2_time_cost=1,
        argon2_memory_cost_kib=8, login_max_failures=5, login_max_failures_per_ip=None,
        login_window_seconds=60,
    )
    token = accounts.tokens.issue_access(user_id="u1", role="writer")
    claims = accounts.tokens.decode_access(token)
    assert claims.user_id == "u1" and accounts.tokens.access_ttl == 120
    assert accounts.max_failures_per_ip == 5  # falls back to the per-account limit
