"""Registration, login with throttling, refresh-token rotation with reuse detection, logout, and the
check that an access token's login (its refresh family) is still alive."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.credentials import AccessTokens, PasswordHashing, hash_refresh_token, new_refresh_token
from accounts.errors import AlreadyRegistered, LoginThrottled, NotAuthenticated
from accounts.models import LoginBucket, RefreshToken, Role, User


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
        tokens: AccessTokens,
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
        self._refuse_taken(session, email=email, username=username)
        user = User(
            email=email,
            username=username,
            password_hash=self.hashing.hash(password),
            role=role,
            display_name=display_name,
        )
        # The check above only answers early; two racing registrations both pass it and the unique
        # constraint decides. The loser gets the same refusal, not the IntegrityError.
        try:
            with session.begin_nested():
                session.add(user)
                session.flush()
        except IntegrityError:
            self._refuse_taken(session, email=email, username=username)
            raise
        return user

    @staticmethod
    def _refuse_taken(session: Session, *, email: str, username: str) -> None:
        clash = session.scalars(
            select(User).where(or_(User.email == email, func.lower(User.username) == username.lower()))
        ).first()
        if clash is not None:
            field = "email" if clash.email == email else "username"
            raise AlreadyRegistered(f"That {field} is already registered.", details={"field": field})

    # --- login -------------------------------------------------------------------------------
    def login(self, session: Session, *, identifier: str, password: str, ip: str | None) -> TokenPair:
        """Count the attempt first, then check the password: the count is taken and incremented by one
        statement per bucket and committed before the (slow) hash check, so racing guesses each see
        their own number and only the first ``max_failures`` of them are ever evaluated."""
        identifier = identifier.strip().lower()
        user = session.scalars(
            select(User).where(or_(User.email == identifier, func.lower(User.username) == identifier))
        ).first()
        # One bucket per account, whichever name was typed; an unknown name gets its own bucket so a
        # missing account is not told apart by its throttling.
        account = user.id if user is not None else "?" + hashlib.sha256(identifier.encode()).hexdigest()[:32]
        client = ip or "-"
        buckets = [(f"acct:{account}|{client}", self.max_failures, "account"),
                   (f"ip:{client}", self.max_failures_per_ip, "ip")]
        now = datetime.now(UTC)
        counts = [(key, self._take(session, key, now), limit, scope) for key, limit, scope in buckets]
        session.commit()
        for _key, (attempts, window_start), limit, scope in counts:
            if attempts > limit:
                retry = max(1, int((window_start + timedelta(seconds=self.failure_window) - now)
                                   .total_seconds()) + 1)
                raise LoginThrottled("Too many failed logins. Try again later.",
                                     retry_after=retry, scope=scope)
        if user is None:
            self.hashing.dummy_verify()
        if user is None or not user.is_active or not self.hashing.verify(user.password_hash, password):
            raise NotAuthenticated("Wrong email, username or password.")
        # A success clears this client's account bucket and gives back its per-IP reservation.
        session.execute(delete(LoginBucket).where(LoginBucket.key == counts[0][0]))
        session.execute(update(LoginBucket).where(LoginBucket.key == counts[1][0], LoginBucket.attempts > 0)
                        .values(attempts=LoginBucket.attempts - 1))
        return self._issue(session, user, family_id=str(uuid.uuid4()))

    def _take(self, session: Session, key: str, now: datetime) -> tuple[int, datetime]:
        """Add one attempt to ``key``'s window (a new window once the old one is over) in one upsert,
        and return the count and the window's start."""
        since = now - timedelta(seconds=self.failure_window)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        table = LoginBucket.__table__
        stale = table.c.window_start < since
        stmt = insert(table).values(key=key, window_start=now, attempts=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"attempts": case((stale, 1), else_=table.c.attempts + 1),
                  "window_start": case((stale, literal(now, table.c.window_start.type)),
                                       else_=table.c.window_start)},
        ).returning(table.c.attempts, table.c.window_start)
        attempts, window_start = session.execute(stmt).one()
        if window_start.tzinfo is None:
            window_start = window_start.replace(tzinfo=UTC)
        return int(attempts), window_start

    # --- refresh and logout ------------------------------------------------------------------
    def refresh(self, session: Session, *, refresh_token: str) -> TokenPair:
        row = self._find(session, refresh_token)
        now = datetime.now(UTC)
        if row.revoked_at is not None:
            raise NotAuthenticated("The refresh token has been revoked.")
        if row.used_at is not None:
            # Reuse of a rotated token: someone holds a copy. Revoke every token of the login.
            self._revoke_family(session, row.family_id)
            session.commit()
            raise NotAuthenticated("The refresh token was already used; the session has been revoked.")
        if row.expires_at <= now:
            raise NotAuthenticated("The refresh token has expired.")
        claimed = session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
        if claimed != 1:
            # A concurrent refresh won the race with the same token: treat it as reuse.
            self._revoke_family(session, row.family_id)
            session.commit()
            raise NotAuthenticated("The refresh token was already used; the session has been revoked.")
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise NotAuthenticated("The account is not active.")
        return self._issue(session, user, family_id=row.family_id)

    def logout(self, session: Session, *, refresh_token: str) -> None:
        row = self._find(session, refresh_token)
        self._revoke_family(session, row.family_id)

    @staticmethod
    def session_alive(session: Session, *, user_id: str, family_id: str) -> bool:
        """Whether the login an access token came from still stands: its refresh family has a token that
        was never revoked. Logout and reuse detection revoke the family, and with it its access tokens."""
        return session.scalar(select(RefreshToken.id).where(
            RefreshToken.family_id == family_id, RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None)).limit(1)) is not None

    def _find(self, session: Session, token: str) -> RefreshToken:
        row = session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
        ).first()
        if row is None:
            raise NotAuthenticated("The refresh token is not valid.")
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
            access_token=self.tokens.issue_access(
                user_id=user.id, role=user.role.value, session_id=family_id
            ),
            refresh_token=token,
            expires_in=self.tokens.access_ttl,
        )
