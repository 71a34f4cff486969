"""Registration, login with throttling, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from api.errors import Conflict, TooManyRequests, Unauthorized
from api.models.accounts import LoginFailure, RefreshToken, Role, User
from api.security import PasswordHashing, Tokens, hash_refresh_token, new_refresh_token


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)


class Accounts:
    def __init__(
        self,
        *,
        hashing: PasswordHashing,
        tokens: Tokens,
        refresh_ttl: int,
        max_failures: int,
        failure_window: int,
        max_failures_per_ip: int | None = None,
    ) -> None:
        self.hashing = hashing
        self.tokens = tokens
        self.refresh_ttl = refresh_ttl
        self.max_failures = max_failures
        self.max_failures_per_ip = max_failures_per_ip or max_failures
        self.failure_window = failure_window

    # --- registration ------------------------------------------------------------------------
    def register(
        self,
        session: Session,
        *,
        email: str,
        username: str,
        password: str,
        role: Role,
        display_name: str | None = None,
    ) -> User:
        email = email.strip().lower()
        clash = session.scalars(
            select(User).where(or_(User.email == email, func.lower(User.username) == username.lower()))
        ).first()
        if clash is not None:
            field = "email" if clash.email == email else "username"
            raise Conflict(f"That {field} is already registered.", details={"field": field})
        user = User(
            email=email,
            username=username,
            password_hash=self.hashing.hash(password),
            role=role,
            display_name=display_name,
        )
        session.add(user)
        session.flush()
        return user

    # --- login -------------------------------------------------------------------------------
    def login(self, session: Session, *, identifier: str, password: str, ip: str | None) -> TokenPair:
        identifier = identifier.strip()
        keys = [f"account:{identifier.lower()}"] + ([f"ip:{ip}"] if ip else [])
        self._refuse_if_throttled(session, keys)
        user = session.scalars(
            select(User).where(
                or_(User.email == identifier.lower(), func.lower(User.username) == identifier.lower())
            )
        ).first()
        if user is None:
            self.hashing.dummy_verify()
        if user is None or not user.is_active or not self.hashing.verify(user.password_hash, password):
            for key in keys:
                session.add(LoginFailure(key=key))
            # The failure must outlive the 401 that follows, so it is committed here.
            session.commit()
            raise Unauthorized("Wrong email, username or password.")
        session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
        return self._issue(session, user, family_id=str(uuid.uuid4()))

    def _refuse_if_throttled(self, session: Session, keys: list[str]) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self.failure_window)
        for key in keys:
            count, oldest = session.execute(
                select(func.count(), func.min(LoginFailure.created_at)).where(
                    LoginFailure.key == key, LoginFailure.created_at >= since
                )
            ).one()
            limit = self.max_failures_per_ip if key.startswith("ip:") else self.max_failures
            if count >= limit:
                oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
                retry = max(1, int((oldest - since).total_seconds()) + 1)
                raise TooManyRequests(
                    "Too many failed logins. Try again later.",
                    details={"retry_after_seconds": retry, "scope": key.split(":", 1)[0]},
                    headers={"Retry-After": str(retry)},
                )

    # --- refresh and logout ------------------------------------------------------------------
    def refresh(self, session: Session, *, refresh_token: str) -> TokenPair:
        row = self._find(session, refresh_token)
        now = datetime.now(UTC)
        if row.revoked_at is not None:
            raise Unauthorized("The refresh token has been revoked.")
        if row.used_at is not None:
            # Reuse of a rotated token: someone holds a copy. Revoke every token of the login.
            self._revoke_family(session, row.family_id)
            session.commit()
            raise Unauthorized("The refresh token was already used; the session has been revoked.")
        if row.expires_at <= now:
            raise Unauthorized("The refresh token has expired.")
        claimed = session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
        if claimed != 1:
            # A concurrent refresh won the race with the same token: treat it as reuse.
            self._revoke_family(session, row.family_id)
            session.commit()
            raise Unauthorized("The refresh token was already used; the session has been revoked.")
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise Unauthorized("The account is not active.")
        return self._issue(session, user, family_id=row.family_id)

    def logout(self, session: Session, *, refresh_token: str) -> None:
        row = self._find(session, refresh_token)
        self._revoke_family(session, row.family_id)

    def _find(self, session: Session, token: str) -> RefreshToken:
        row = session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
        ).first()
        if row is None:
            raise Unauthorized("The refresh token is not valid.")
        return row

    def _revoke_family(self, session: Session, family_id: str) -> None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )

    def _issue(self, session: Session, user: User, *, family_id: str) -> TokenPair:
        token = new_refresh_token()
        session.add(
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=hash_refresh_token(token),
                expires_at=datetime.now(UTC) + timedelta(seconds=self.refresh_ttl),
            )
        )
        session.flush()
        return TokenPair(
            access_token=self.tokens.issue_access(user_id=user.id, role=user.role.value),
            refresh_token=token,
            expires_in=self.tokens.access_ttl,
        )
