"""Accounts: users, refresh-token families, failed-login records for throttling."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = ["LoginBucket", "RefreshToken", "Role", "User"]


class Role(enum.StrEnum):
    writer = "writer"
    reader = "reader"
    studio = "studio"
    admin = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    display_name: Mapped[str | None] = mapped_column(String(100))
    bio: Mapped[str | None] = mapped_column(Text)
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    wallet_address: Mapped[str | None] = mapped_column(String(42))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def public_name(self) -> str:
        return self.display_name or self.username


# Usernames are unique ignoring case (registration and login compare them lower-cased), also for
# registrations that race: the plain unique constraint alone would let "Ada" and "ada" both in.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class RefreshToken(Base):
    """One opaque refresh token, stored as its SHA-256.

    Tokens descended from one login share a ``family_id``. Each token works once: using it sets
    ``used_at`` and issues a child. Presenting a used token again means it was stolen or replayed, so
    the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginBucket(Base):
    """Login attempts of one key (``acct:<account>|<client>`` or ``ip:<client>``) in a fixed window
    starting at ``window_start``. Incremented by one upsert before the password is checked, so racing
    attempts each get their own count (docs/accounts.md)."""

    __tablename__ = "login_buckets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
