"""Request and response bodies for accounts and auth."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from eth_utils import is_address, is_checksum_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,40}$"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
LANGUAGE_MAX_CHARS = 16  # the columns holding a language tag


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=256)
    role: Literal["writer", "reader", "studio"]
    display_name: str | None = Field(None, max_length=100)


class LoginIn(BaseModel):
    """``email`` may hold a username instead; ``username`` is accepted as an alias field."""

    email: str | None = Field(None, max_length=320)
    username: str | None = Field(None, max_length=320)
    password: str = Field(max_length=256)

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginIn:
        if not (self.email or self.username):
            raise ValueError("email (or username) is required")
        return self

    @property
    def identifier(self) -> str:
        return self.email or self.username or ""


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    username: str
    role: str
    display_name: str | None
    bio: str | None
    preferred_language: str | None
    wallet_address: str | None
    created_at: datetime


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, max_length=100)
    bio: str | None = Field(None, max_length=5000)
    preferred_language: str | None = Field(None, max_length=LANGUAGE_MAX_CHARS, pattern=LANGUAGE_PATTERN)
    wallet_address: str | None = None

    @field_validator("wallet_address")
    @classmethod
    def _eip55(cls, value: str | None) -> str | None:
        """Mixed case must carry a valid EIP-55 checksum; all-lower or all-upper (no checksum) is
        accepted and stored checksummed."""
        if value is None or value == "":
            return None
        if not is_address(value):
            raise ValueError("not an Ethereum address (0x followed by 40 hex digits)")
        body = value[2:]
        if body != body.lower() and body != body.upper() and not is_checksum_address(value):
            raise ValueError("EIP-55 checksum does not match")
        return to_checksum_address(value)
