"""Attacks on login and sessions from issue 9: racing guesses, one account under two names, a forged
``X-Forwarded-For``, an attacker locking the owner out, and access tokens that outlive their login.

The racing test uses a database of its own where each request commits (``live_support``); on PostgreSQL
the guesses really overlap, on SQLite they queue and the outcome must be the same.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from fastapi.testclient import TestClient
from live_support import live_app, own_database, race
from sqlalchemy import Engine

from api.http.app import create_app
from api.wiring import Container

PASSWORD = "s3cret-pass-for-races"
_seq = itertools.count(random.SystemRandom().randrange(10**9))


@pytest.fixture(scope="module")
def live_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from own_database(tmp_path_factory, "auth")


@pytest.fixture
def live(  # type: ignore[no-untyped-def]
    live_engine: Engine, shared_data_dir: Path, test_chain, test_tsa
) -> Iterator[tuple[Container, TestClient]]:
    yield from live_app(live_engine, shared_data_dir, test_chain, test_tsa)


def account(client: TestClient) -> dict[str, str]:
    n = next(_seq)
    body = {"email": f"owner{n}@example.org", "username": f"owner{n}", "password": PASSWORD, "role": "reader"}
    r = client.post("/auth/register", json=body)
    assert r.status_code == 201, r.text
    return body


def login(client: TestClient, identifier: str, password: str, **headers: str) -> Any:
    return client.post("/auth/login", json={"email": identifier, "password": password}, headers=headers)


@pytest.fixture
def clients(container_factory, shared_data_dir):  # type: ignore[no-untyped-def]
    """Clients at given socket addresses, all on one app with small limits: 3 per account and client,
    5 per client address."""

    def make(*addresses: str, **settings: object) -> list[TestClient]:
        values: dict[str, object] = {"login_max_failures": 3, "login_max_failures_per_ip": 5}
        values.update(settings)
        app = create_app(container=container_factory(make_settings(shared_data_dir, **values)))
        return [TestClient(app, raise_server_exceptions=False, client=(a, 40000)) for a in addresses]

    return make


# --- counting ------------------------------------------------------------------------------------


def test_racing_wrong_passwords_are_evaluated_at_most_the_limit(live):  # type: ignore[no-untyped-def]
    container, client = live
    owner = account(client)
    limit = container.settings.login_max_failures

    results = race(30, lambda i: login(client, owner["username"], f"wrong-{i}"))

    codes = sorted(r.status_code for r in results)
    assert codes == [401] * limit + [429] * (30 - limit), codes


def test_username_and_email_of_one_account_share_one_bucket(clients):  # type: ignore[no-untyped-def]
    (client,) = clients("198.51.100.10")
    owner = account(client)
    for _ in range(3):
        assert login(client, owner["username"], "wrong").status_code == 401

    r = login(client, owner["email"], "wrong")

    assert r.status_code == 429
    assert r.json()["error"]["details"]["scope"] == "account"
    assert int(r.headers["Retry-After"]) >= 1


# --- who the client is ---------------------------------------------------------------------------


def test_forwarded_for_from_an_untrusted_peer_does_not_reset_the_ip_limit(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """Through the app exactly as ``legato serve`` hands it to uvicorn (uvicorn's own middleware
    included): a local client rotating ``X-Forwarded-For`` stays one client."""
    import uvicorn
    from typer.testing import CliRunner

    import api.cli.server as server

    for name, value in {"DATA_DIR": str(tmp_path), "RUN_WORKER": "false", "ARGON2_TIME_COST": "1",
                        "ARGON2_MEMORY_COST_KIB": "8", "LOGIN_MAX_FAILURES_PER_IP": "5"}.items():
        monkeypatch.setenv(f"LEGATO_{name}", value)
    served: dict[str, Any] = {}
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kwargs: served.update(app=app, kwargs=kwargs))
    assert CliRunner().invoke(server.app, ["serve"]).exit_code == 0
    config = uvicorn.Config(served["app"], **served["kwargs"])
    config.load()

    with TestClient(config.loaded_app, raise_server_exceptions=False, client=("127.0.0.1", 40000)) as client:
        for i in range(5):
            r = login(client, f"nobody{i}@example.org", "wrong", **{"X-Forwarded-For": f"203.0.113.{i}"})
            assert r.status_code == 401
        r = login(client, "nobody9@example.org", "wrong", **{"X-Forwarded-For": "203.0.113.99"})

    assert r.status_code == 429
    assert r.json()["error"]["details"]["scope"] == "ip"


def test_forwarded_for_from_a_trusted_proxy_names_the_client(clients):  # type: ignore[no-untyped-def]
    (proxy,) = clients("10.0.0.5", trusted_proxies="10.0.0.0/8")
    hop = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7, 10.0.0.9"}  # the left one is the client's own claim
    for i in range(5):
        assert login(proxy, f"nobody{i}@example.org", "wrong", **hop).status_code == 401

    assert login(proxy, "nobody9@example.org", "wrong", **hop).status_code == 429
    other = login(proxy, "nobody9@example.org", "wrong", **{"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 401


# --- lockout ---------------------------------------------------------------------------------------


def test_an_attacker_cannot_lock_the_owner_out(clients):  # type: ignore[no-untyped-def]
    attacker, owner_client = clients("198.51.100.66", "203.0.113.20")
    owner = account(owner_client)
    for _ in range(3):
        assert login(attacker, owner["username"], "guess").status_code == 401
    assert login(attacker, owner["username"], "guess").status_code == 429

    r = login(owner_client, owner["username"], PASSWORD)

    assert r.status_code == 200, r.text


# --- access tokens die with their login --------------------------------------------------------------


def profile(client: TestClient, access: str) -> int:
    return client.get("/auth/profile", headers={"Authorization": f"Bearer {access}"}).status_code


def test_logout_revokes_the_access_token_at_once(client):  # type: ignore[no-untyped-def]
    owner = account(client)
    tokens = login(client, owner["email"], PASSWORD).json()
    other = login(client, owner["email"], PASSWORD).json()  # another device's login
    assert profile(client, tokens["access_token"]) == 200

    assert client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204

    assert profile(client, tokens["access_token"]) == 401
    assert profile(client, other["access_token"]) == 200


def test_refresh_token_reuse_revokes_the_familys_access_tokens(client):  # type: ignore[no-untyped-def]
    owner = account(client)
    first = login(client, owner["email"], PASSWORD).json()
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert profile(client, second["access_token"]) == 200

    replay = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert replay.status_code == 401
    assert profile(client, first["access_token"]) == 401
    assert profile(client, second["access_token"]) == 401


# --- bodies PostgreSQL cannot store -----------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), [
    ("/auth/login", {"email": "ada\u0000@example.org", "password": "x"}),
    ("/auth/login", {"username": "ada\u0000", "password": "x"}),
    ("/auth/register", {"email": "ada@example.org", "username": "ada_nul", "password": "long enough",
                        "role": "reader", "display_name": "A\u0000da"}),
])
def test_nul_characters_in_account_fields_are_refused_not_500(client, path, body):  # type: ignore[no-untyped-def]
    """The input guard refuses NUL in any JSON string before the schema (which refuses it too) sees it."""
    r = client.post(path, json=body)

    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.5", "198.51.100.1", "203.0.113.5"),           # not a proxy: the header is the client's own
    ("10.0.0.5", "198.51.100.1, 10.0.0.9", "198.51.100.1"),   # through two of our proxies
    ("10.0.0.5", "not-an-address", "10.0.0.5"),               # garbage is never believed
    ("10.0.0.5", "1.2.3.4, garbage, 10.0.0.9", "10.0.0.5"),
    ("10.0.0.5", "10.0.0.7, 10.0.0.9", "10.0.0.7"),           # all ours: the farthest proxy
    ("10.0.0.5", "", "10.0.0.5"),
])
def test_client_address_reads_forwarding_only_through_trusted_proxies(peer, forwarded, client):  # type: ignore[no-untyped-def]
    from api.client_ip import client_address, parse_networks

    assert client_address(peer, forwarded, parse_networks("10.0.0.0/8")) == client


def test_a_mistyped_trusted_proxy_setting_is_refused_at_start(shared_data_dir):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="trusted_proxies"):
        make_settings(shared_data_dir, trusted_proxies="10.0.0.0/33")
