"""Request and response bodies for ``/payments``. Every money field is an integer in minor units and
says so in its name (``_cents``, ``coins``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CoinPackageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    coins: int
    price_cents: int
    currency: str
    bonus_pct: int


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_id: str = Field(min_length=1, max_length=40)


class SubscriptionCheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(min_length=1, max_length=40)


class CheckoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    checkout_id: str = Field(validation_alias="id")
    checkout_url: str | None
    status: str
    purpose: str
    reference: str
    description: str
    amount_cents: int
    currency: str
    coins: int
    gateway: str
    reversed_cents: int
    created_at: datetime
    paid_at: datetime | None


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: int | None = Field(None, gt=0, description="Default: everything not yet refunded.")


class WebhookOut(BaseModel):
    received: bool = True
    event_id: str
    type: str
    duplicate: bool
    outcome: str


class RefundOut(BaseModel):
    checkout: CheckoutOut
    events: list[WebhookOut]


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transfer_id: str
    transfer_kind: str
    account_kind: str
    currency: str
    amount: int
    reference: str | None
    memo: dict[str, Any]
    created_at: datetime


class WalletOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    coins: int
    coin_debt: int
    earnings_cents: int
    payouts_in_flight_cents: int
    entries: list[EntryOut]


class TipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    writer_id: str = Field(min_length=1, max_length=36)
    coins: int = Field(gt=0, le=1_000_000)
    message: str | None = Field(None, max_length=500)


class TipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tipper_id: str
    writer_id: str
    coins: int
    writer_cents: int
    platform_cents: int
    message: str | None
    created_at: datetime


class SubscriptionPlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    price_cents: int
    currency: str
    platform_share_pct: int


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    plan_id: str
    month: str
    price_cents: int
    status: str
    created_at: datetime


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: int | None = Field(None, gt=0, description="Default: all available earnings.")


class PayoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    amount_cents: int
    currency: str
    destination: str
    gateway: str
    status: str
    failure_reason: str | None
    reversed_cents: int
    created_at: datetime
    updated_at: datetime


class PayoutDestinationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    destination: str = Field(min_length=1, max_length=255, description="Stripe Connect account id (acct_…).")


class PayoutDestinationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    destination: str


class EarningsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    currency: str
    available_cents: int
    in_flight_cents: int
    payout_minimum_cents: int
    by_source: dict[str, int]
    payouts: list[PayoutOut]
    entries: list[EntryOut]


class ViolationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    message: str
    details: dict[str, Any]


class LedgerCheckOut(BaseModel):
    ok: bool
    violations: list[ViolationOut]
