"""Password hashing (argon2id), access JWTs (HS256) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from accounts.errors import NotAuthenticated

ALGORITHM = "HS256"
ISSUER = "legato"


class PasswordHashing:
    def __init__(self, *, time_cost: int, memory_cost_kib: int) -> None:
        # argon2-cffi's PasswordHasher is argon2id by default; the parameters come from settings so
        # tests can run cheaply while production keeps the RFC 9106 second recommendation.
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1)
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def dummy_verify(self) -> None:
        """Spend the same time as a real check so a missing account is not told apart by timing."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_hex(8))
        self.verify(self._dummy, "not-the-password")


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    role: str
    expires_at: datetime
    # The refresh family (login) the token was issued under; checked on every request so logout
    # revokes the access token too. None only for tokens minted without a login (tests, tools).
    session_id: str | None = None


class TokenError(NotAuthenticated):
    """The access token is missing, malformed, tampered with or expired."""


class AccessTokens:
    """Issues and checks the short-lived access JWTs (the refresh tokens are opaque and stored: see
    :mod:`accounts.service`)."""

    def __init__(self, *, secret: bytes, access_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl

    def issue_access(
        self, *, user_id: str, role: str, session_id: str | None = None, now: datetime | None = None
    ) -> str:
        now = now or datetime.now(UTC)
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": user_id,
            "role": role,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.access_ttl)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        if session_id is not None:
            claims["sid"] = session_id
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode_access(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise TokenError("The access token has expired.") from e
        except jwt.PyJWTError as e:
            raise TokenError("The access token is not valid.") from e
        if claims.get("typ") != "access":
            raise TokenError("The access token is not valid.")
        return AccessClaims(
            user_id=str(claims["sub"]),
            role=str(claims.get("role", "")),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            session_id=str(claims["sid"]) if claims.get("sid") is not None else None,
        )


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
