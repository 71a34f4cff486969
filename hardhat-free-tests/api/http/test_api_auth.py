"""Register, login, refresh rotation with reuse detection, logout, profile, roles, throttling."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from factories import PASSWORD, auth_headers, make_user
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.models import RefreshToken, User
from api.http.app import create_app
from api.http.deps import WriterUser


def register(client, **overrides):
    body = {"email": "ada@example.org", "username": "ada", "password": "s3cret-pass", "role": "writer"}
    body.update(overrides)
    return client.post("/auth/register", json=body)


def login(client, identifier="ada@example.org", password="s3cret-pass"):
    return client.post("/auth/login", json={"email": identifier, "password": password})


def test_register_returns_user_without_secret_and_stores_argon2id(client, session):
    r = register(client)
    assert r.status_code == 201
    body = r.json()
    assert body["email"] == "ada@example.org" and body["role"] == "writer"
    assert "password" not in r.text and "password_hash" not in body
    stored = session.scalars(select(User).where(User.username == "ada")).one()
    assert stored.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize("clash", [{"username": "other"}, {"email": "other@example.org", "username": "ADA"}])
def test_duplicate_email_or_username_is_409(client, clash):
    assert register(client).status_code == 201
    r = register(client, **clash)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"


def test_admin_role_cannot_be_self_registered(client):
    r = register(client, role="admin")
    assert r.status_code == 422


def test_login_by_email_or_username(client):
    register(client)
    for identifier in ("ada@example.org", "ada", "ADA@example.org"):
        r = login(client, identifier)
        assert r.status_code == 200, identifier
        body = r.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 900
        assert body["refresh_token"].startswith("rt_")


def test_wrong_password_is_401_envelope(client):
    register(client)
    r = login(client, password="wrong-password")
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"


def test_refresh_token_stored_hashed(client, session):
    register(client)
    token = login(client).json()["refresh_token"]
    hashes = session.scalars(select(RefreshToken.token_hash)).all()
    assert token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


def test_refresh_rotates_and_reuse_revokes_family(client):
    register(client)
    first = login(client).json()
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    third = client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}).json()

    # The first token was already used: presenting it again revokes the whole family ...
    reuse = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # ... so even the newest, never-used token of that login stops working.
    assert client.post("/auth/refresh", json={"refresh_token": third["refresh_token"]}).status_code == 401


def test_reuse_does_not_touch_other_logins(client):
    register(client)
    a = login(client).json()
    b = login(client).json()
    client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})
    client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})
    assert client.post("/auth/refresh", json={"refresh_token": b["refresh_token"]}).status_code == 200


def test_logout_revokes_family(client):
    register(client)
    tokens = login(client).json()
    rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
    assert client.post("/auth/logout", json={"refresh_token": rotated["refresh_token"]}).status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401


def test_unknown_and_expired_refresh_tokens_are_401(client, session):
    register(client)
    assert client.post("/auth/refresh", json={"refresh_token": "rt_nope"}).status_code == 401
    token = login(client).json()["refresh_token"]
    row = session.scalars(select(RefreshToken)).one()
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    r = client.post("/auth/refresh", json={"refresh_token": token})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_profile_requires_token_and_updates(client):
    register(client)
    assert client.get("/auth/profile").status_code == 401
    access = login(client).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    r = client.put(
        "/auth/profile",
        headers=headers,
        json={
            "display_name": "Ada L.",
            "bio": "Writes in Lagos.",
            "preferred_language": "yo-NG",
            "wallet_address": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["wallet_address"] == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert client.get("/auth/profile", headers=headers).json()["display_name"] == "Ada L."


@pytest.mark.parametrize("wallet", ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "0x1234", "hello"])
def test_profile_rejects_bad_wallet(client, container, session, wallet):
    user = make_user(session, container)
    r = client.put("/auth/profile", headers=auth_headers(container, user), json={"wallet_address": wallet})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["errors"][0]["loc"] == ["body", "wallet_address"]


def test_expired_access_token_is_401(client, container, session):
    user = make_user(session, container)
    old = container.tokens.issue_access(
        user_id=user.id, role="writer", now=datetime.now(UTC) - timedelta(hours=1)
    )
    r = client.get("/auth/profile", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    assert r.headers["www-authenticate"] == "Bearer"


def test_tampered_and_foreign_jwts_are_401(client, container, session):
    user = make_user(session, container, role="reader")
    good = container.tokens.issue_access(user_id=user.id, role="reader")
    header, _payload, sig = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    claims["role"] = "admin"
    forged_payload = jwt.encode(claims, "x", algorithm="HS256").split(".")[1]
    tampered = f"{header}.{forged_payload}.{sig}"
    foreign = jwt.encode(claims, "another-secret", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none") if hasattr(jwt, "encode") else ""
    for token in (tampered, foreign, unsigned, "garbage"):
        assert client.get("/auth/profile", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_require_role_401_vs_403(container, session):
    app = create_app(container=container)
    probe = APIRouter()

    @probe.get("/writers-only")
    def writers_only(user: WriterUser) -> dict:
        return {"id": user.id}

    app.include_router(probe)
    reader = make_user(session, container, role="reader")
    writer = make_user(session, container, role="writer")
    admin = make_user(session, container, role="admin")
    with TestClient(app) as c:
        assert c.get("/writers-only").status_code == 401
        r = c.get("/writers-only", headers=auth_headers(container, reader))
        assert r.status_code == 403 and r.json()["error"]["details"]["required_roles"] == ["writer"]
        assert c.get("/writers-only", headers=auth_headers(container, writer)).status_code == 200
        assert c.get("/writers-only", headers=auth_headers(container, admin)).status_code == 200


def test_login_throttled_per_account_with_retry_after(client, container, session):
    user = make_user(session, container)
    limit = container.settings.login_max_failures
    for _ in range(limit):
        assert login(client, user.email, "nope").status_code == 401
    r = login(client, user.email, PASSWORD)  # even the right password waits now
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["error"]["details"]["scope"] == "account"


def test_login_throttled_per_ip_across_accounts(client, container):
    limit = container.accounts.max_failures_per_ip = 8
    assert limit > container.accounts.max_failures  # a shared IP gets more room than one account
    for i in range(limit):
        assert login(client, f"ghost{i}@example.org", "nope").status_code == 401
    r = login(client, "someone-else@example.org", "nope")
    assert r.status_code == 429 and r.json()["error"]["details"]["scope"] == "ip"


def test_throttle_window_expires(client, container, session):
    container.accounts.failure_window = 1
    user = make_user(session, container)
    for _ in range(container.settings.login_max_failures):
        login(client, user.email, "nope")
    assert login(client, user.email, PASSWORD).status_code == 429
    time.sleep(1.1)
    assert login(client, user.email, PASSWORD).status_code == 200
