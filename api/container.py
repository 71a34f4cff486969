"""The one place that turns :class:`Settings` into live objects: engine, adapters, services.

Every port's adapter is chosen here and nowhere else, and the choice is logged at start so an operator
sees at a glance whether the server talks to a real TSA, chain and IPFS node or to the embedded ones.
"""

from __future__ import annotations

import logging
import secrets
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.accounts import Accounts
from api.content.crypto import ContentCipher, Keyring
from api.db import make_engine, make_session_factory
from api.security import PasswordHashing, Tokens
from api.settings import Settings
from marketplace.coins import Coins, default_coin_packages, packages_from_config
from marketplace.gateways import (
    LocalPayoutGateway,
    LocalTestGateway,
    PaymentGateway,
    PayoutGateway,
    StripeGateway,
    StripePayoutGateway,
)
from marketplace.payments import Payments
from marketplace.payouts import Payouts
from marketplace.subscriptions import DEFAULT_PLANS, SubscriptionPlan, Subscriptions
from marketplace.tips import Tips
from marketplace.unlocks import Unlocks
from registry.keystore import read_or_create_secret

log = logging.getLogger("legato.container")


class Container:
    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        settings.ensure_data_dir()
        self.engine = engine or make_engine(settings.resolved_database_url)
        self.session_factory: sessionmaker[Session] = make_session_factory(self.engine)

    # --- secrets -----------------------------------------------------------------------------
    @cached_property
    def jwt_secret(self) -> bytes:
        if self.settings.jwt_secret is not None:
            return self.settings.jwt_secret.get_secret_value().encode()
        return read_or_create_secret(
            self.settings.data_dir / "keys" / "jwt.secret", lambda: secrets.token_hex(32).encode()
        )

    @cached_property
    def tokens(self) -> Tokens:
        return Tokens(secret=self.jwt_secret, access_ttl=self.settings.access_token_ttl_seconds)

    @cached_property
    def accounts(self) -> Accounts:
        s = self.settings
        return Accounts(
            hashing=PasswordHashing(time_cost=s.argon2_time_cost, memory_cost_kib=s.argon2_memory_cost_kib),
            tokens=self.tokens,
            refresh_ttl=s.refresh_token_ttl_seconds,
            max_failures=s.login_max_failures,
            failure_window=s.login_window_seconds,
        )

    # --- money -------------------------------------------------------------------------------
    @cached_property
    def webhook_secret(self) -> str:
        """Stripe's endpoint secret; without Stripe, one made for the local gateway to sign with."""
        if self.settings.stripe_webhook_secret is not None:
            return self.settings.stripe_webhook_secret.get_secret_value()
        return read_or_create_secret(
            self.settings.data_dir / "keys" / "webhook.secret",
            lambda: f"whsec_{secrets.token_hex(24)}".encode(),
        ).decode()

    @cached_property
    def payment_gateway(self) -> PaymentGateway:
        s = self.settings
        if s.stripe_secret_key is None:
            return LocalTestGateway(public_url=s.public_url, webhook_secret=self.webhook_secret)
        if s.stripe_webhook_secret is None:
            log.warning("LEGATO_STRIPE_WEBHOOK_SECRET is unset: every Stripe webhook will be refused")
        return StripeGateway(secret_key=s.stripe_secret_key.get_secret_value(), api_base=s.stripe_api_base)

    @cached_property
    def payout_gateway(self) -> PayoutGateway:
        s = self.settings
        if s.stripe_secret_key is None:
            return LocalPayoutGateway()
        return StripePayoutGateway(secret_key=s.stripe_secret_key.get_secret_value(),
                                   api_base=s.stripe_api_base)

    @cached_property
    def coins(self) -> Coins:
        s = self.settings
        packages = packages_from_config(s.coin_packages) if s.coin_packages else default_coin_packages(
            s.coin_value_cents)
        return Coins(packages=packages)

    @cached_property
    def subscriptions(self) -> Subscriptions:
        plans = self.settings.subscription_plans
        return Subscriptions(plans=[SubscriptionPlan(**p) for p in plans] if plans else DEFAULT_PLANS)

    @cached_property
    def unlocks(self) -> Unlocks:
        return Unlocks(coin_value_cents=self.settings.coin_value_cents)

    @cached_property
    def tips(self) -> Tips:
        s = self.settings
        return Tips(coin_value_cents=s.coin_value_cents, writer_share_pct=s.tip_writer_share_pct)

    @cached_property
    def payouts(self) -> Payouts:
        return Payouts(gateway=self.payout_gateway, minimum_cents=self.settings.payout_minimum_cents)

    @cached_property
    def payments(self) -> Payments:
        s = self.settings
        return Payments(
            gateway=self.payment_gateway, webhook_secret=self.webhook_secret,
            webhook_tolerance_seconds=s.stripe_webhook_tolerance_seconds, public_url=s.public_url,
            purposes={"coins": self.coins, "subscription": self.subscriptions}, transfer_events=self.payouts,
        )

    # --- content -----------------------------------------------------------------------------
    @cached_property
    def content_keyring(self) -> Keyring:
        """``LEGATO_CONTENT_KEY`` when set (comma-separated: the first seals), else the rotating keyring
        file in the data dir, created on first use with mode 0600."""
        if self.settings.content_key is not None:
            return Keyring.from_setting(self.settings.content_key.get_secret_value())
        return Keyring.from_file(self.settings.data_dir / "keys" / "content.keyring")

    @cached_property
    def content_cipher(self) -> ContentCipher:
        return ContentCipher(self.content_keyring)

    # --- health ------------------------------------------------------------------------------
    def check_database(self) -> dict[str, Any]:
        with self.session_factory() as session:
            session.execute(text("SELECT 1"))
        return {"backend": self.engine.dialect.name}

    def health_checks(self) -> dict[str, Any]:
        """Each dependency's name → a callable returning details or raising when it is down."""
        return {"database": self.check_database}

    def describe_adapters(self) -> dict[str, str]:
        return {
            "database": self.engine.dialect.name,
            "payments": self.payment_gateway.name,
            "payouts": self.payout_gateway.name,
        }

    def log_adapters(self) -> None:
        for port, adapter in self.describe_adapters().items():
            log.info("port %s uses %s", port, adapter, extra={"port": port, "adapter": adapter})

    # --- background work -----------------------------------------------------------------------
    def start_background(self) -> None:
        """Start the in-process worker when settings ask for it (``legato serve`` does)."""

    def stop_background(self) -> None:
        pass

    def close(self) -> None:
        self.engine.dispose()
