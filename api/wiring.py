"""The one place that turns :class:`Settings` into live objects: engine, adapters, services.

Every port's adapter is chosen here and nowhere else, and the choice is logged at start so an operator
sees at a glance whether the server talks to a real TSA, chain and IPFS node or to the embedded ones.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from accounts.credentials import PasswordHashing, Tokens
from accounts.service import Accounts
from api.db import make_engine, make_session_factory, session_scope
from api.request_context import current_base_url
from api.settings import Settings
from api.worker import Worker
from api.works import ContentWorks
from content.access import ReadGrants, install_read_grants
from content.crypto import ContentCipher, Keyring
from marketplace.licensing.agreements import Agreements
from marketplace.licensing.chain_of_title import ChainOfTitle
from marketplace.licensing.disputes import Disputes
from marketplace.licensing.listings import Listings
from marketplace.licensing.offers import Offers
from marketplace.licensing.payments import LicensePayments
from marketplace.money.coins import Coins, default_coin_packages, packages_from_config
from marketplace.money.gateways import (
    LocalPayoutGateway,
    LocalTestGateway,
    PaymentGateway,
    PayoutGateway,
    StripeGateway,
    StripePayoutGateway,
)
from marketplace.money.payments import Payments
from marketplace.money.payouts import Payouts
from marketplace.money.subscriptions import DEFAULT_PLANS, SubscriptionPlan, Subscriptions
from marketplace.money.tips import Tips
from marketplace.money.unlocks import Unlocks, has_unlocked
from registry.anchoring import Anchorer
from registry.errors import ChainError, ConfigurationError, Unavailable
from registry.fingerprint_key import FingerprintKey
from registry.ipfs import KuboPinner, LocalBlockstore, Pinner, PinningServicePinner
from registry.keystore import read_or_create_secret
from registry.models import CertificateState
from registry.service import Registry
from registry.signing_keys import SigningKeys
from registry.similarity import MemoryLSHIndex, RedisLSHIndex, SimilarityIndex
from registry.timestamp import EmbeddedTSA, RemoteTSA, Timestamper
from registry.trust import Trust
from registry.verify import Report, verify_certificate

if TYPE_CHECKING:
    from registry.chain import Web3Chain

log = logging.getLogger("legato.container")


class Container:
    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        settings.ensure_data_dir()
        self.engine = engine or make_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
        self.session_factory: sessionmaker[Session] = make_session_factory(self.engine)
        # Content's port for "has this reader paid for / subscribed to it?", answered by the marketplace.
        install_read_grants(ReadGrants(
            has_unlocked=has_unlocked,
            is_subscribed=lambda session, user_id: self.subscriptions.is_subscribed(session, user_id),
        ))

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
            max_failures_per_ip=s.login_max_failures_per_ip,
            failure_window=s.login_window_seconds,
        )

    # --- registry ports ------------------------------------------------------------------------
    @cached_property
    def signer(self) -> SigningKeys:
        """The platform's signing keys: the newest signs, the retired ones stay published for verifiers."""
        if self.settings.signing_key is not None:
            return SigningKeys.from_pem(self.settings.signing_key.get_secret_value().encode())
        return SigningKeys.from_data_dir(self.settings.data_dir)

    @cached_property
    def timestamper(self) -> Timestamper:
        s = self.settings
        if s.tsa_url:
            roots = [s.tsa_cert.read_bytes()] if s.tsa_cert else []
            return RemoteTSA(s.tsa_url, roots_pem=roots, timeout=s.tsa_timeout_seconds)
        return EmbeddedTSA(s.data_dir)

    @cached_property
    def pinner(self) -> Pinner:
        s = self.settings
        if s.ipfs_api:
            return KuboPinner(api=s.ipfs_api)
        blockstore = LocalBlockstore(root=s.data_dir / "ipfs")
        if s.ipfs_pinning_url:
            token = s.ipfs_pinning_token.get_secret_value() if s.ipfs_pinning_token else ""
            origins = [s.ipfs_gateway_url] if s.ipfs_gateway_url else None
            return PinningServicePinner(
                endpoint=s.ipfs_pinning_url, token=token, blockstore=blockstore, origins=origins
            )
        return blockstore

    @cached_property
    def chain(self) -> Web3Chain:
        from registry.chain import Web3Chain, embedded_chain  # web3 and py-evm load only when used

        s = self.settings
        if s.chain_rpc_url:
            key = s.chain_private_key.get_secret_value() if s.chain_private_key else None
            return Web3Chain.from_rpc(
                s.chain_rpc_url,
                private_key=key,
                registry_address=s.registry_address,
                license_registry_address=s.license_registry_address,
                confirmations=s.chain_confirmations,
                tx_timeout=s.chain_tx_timeout_seconds,
                state_dir=s.data_dir / "chain",
            )
        return embedded_chain(s.data_dir, tx_timeout=s.chain_tx_timeout_seconds)

    @cached_property
    def fingerprint_key(self) -> FingerprintKey:
        """Seals stored fingerprints and keys their signatures; ``keys/fingerprint.key`` in the data dir."""
        return FingerprintKey.load_or_create(self.settings.data_dir)

    @cached_property
    def similarity_index(self) -> SimilarityIndex:
        key_id = self.fingerprint_key.key_id
        if self.settings.redis_url:
            return RedisLSHIndex(url=self.settings.redis_url, key_id=key_id)
        return MemoryLSHIndex(key_id=key_id)

    @cached_property
    def registry(self) -> Registry:
        s = self.settings
        return Registry(
            timestamper=self.timestamper,
            signer=self.signer,
            index=self.similarity_index,
            pinner=self.pinner,
            fingerprint_key=self.fingerprint_key,
            max_chars=s.max_text_chars,
            block_containment=s.plagiarism_block_containment,
            block_jaccard=s.plagiarism_block_jaccard,
            index_is_shared=bool(s.redis_url),
        )

    @cached_property
    def anchorer(self) -> Anchorer:
        s = self.settings
        return Anchorer(
            registry=self.registry,
            chain=self.chain,
            pinner=self.pinner,
            max_size=s.batch_max_size,
            max_age=timedelta(seconds=s.batch_max_age_seconds),
        )

    def base_url(self) -> str:
        """Where this deployment's links point: ``LEGATO_PUBLIC_URL``, else the base URL of the request
        being served (outside a request: the address ``legato serve`` listens on)."""
        return self.settings.public_url or current_base_url()

    def trust(self) -> Trust:
        """This deployment's trust document (``GET /.well-known/legato-trust.json``). Built on each call:
        a rotation in another process shows at once. With the chain down it still names the keys and
        the configured addresses."""
        s = self.settings
        chain_id, registry, license_registry = None, s.registry_address, s.license_registry_address
        try:
            chain_id = self.chain.chain_id()
            registry, license_registry = self.chain.registry_address(), self.chain.license_registry_address()
        except (Unavailable, ConfigurationError, ChainError) as e:
            log.warning("the trust document lacks chain details: %s", e.message)
        return Trust(keys=self.signer.entries(), tsa_roots_pem=self.timestamper.trust_roots_pem(),
                     chain_id=chain_id, registry=registry, license_registry=license_registry,
                     platform=self.base_url(), source="platform's trust")

    def held_certificate(self, certificate_id: str) -> list[bytes] | None:
        """Every state's bytes this deployment issued under ``certificate_id``; None if it holds none."""
        with self.session_factory() as session:
            bodies = session.scalars(
                select(CertificateState.body).where(CertificateState.certificate_id == certificate_id[:64])
            ).all()
        return [bytes(b) for b in bodies] or None

    def verify_certificate(self, data: bytes, text: bytes | str | None, expected_cid: str | None) -> Report:
        """Verification as ``legato verify`` does it, pinned to this deployment's own trust, chain and
        records: a certificate under an id this server issued with other bytes fails ``origin``."""
        return verify_certificate(
            data,
            text=text,
            chain=self.chain,
            expected_cid=expected_cid,
            trust=self.trust(),
            held=self.held_certificate,
        )

    def certificate_pdf(self, certificate_id: str) -> tuple[bytes, str]:
        """The certificate's latest state as a PDF page, and its CID."""
        from registry.certificate_pdf import render_pdf_cached

        with self.session_factory() as session:
            state = self.registry.latest_certificate(session, certificate_id)
            body, cid = bytes(state.body), state.cid
        return render_pdf_cached(body, cid, self.base_url()), cid

    def sync_signing_keys(self) -> object:
        """The worker's job: record key authorizations and retirements the chain has not seen yet."""
        try:
            pending = self.signer.pending_on(self.chain.chain_id(), self.chain.registry_address())
            return self.signer.sync_chain(self.chain) if pending else []
        except Unavailable as e:
            return f"waiting: {e.code}"  # the next round tries again

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
            return LocalTestGateway(
                public_url=self.base_url, webhook_secret=self.webhook_secret
            )
        if s.stripe_webhook_secret is None:
            log.warning("LEGATO_STRIPE_WEBHOOK_SECRET is unset: every Stripe webhook will be refused")
        return StripeGateway(secret_key=s.stripe_secret_key.get_secret_value(), api_base=s.stripe_api_base)

    @cached_property
    def payout_gateway(self) -> PayoutGateway:
        s = self.settings
        if s.stripe_secret_key is None:
            return LocalPayoutGateway()
        return StripePayoutGateway(
            secret_key=s.stripe_secret_key.get_secret_value(), api_base=s.stripe_api_base
        )

    @cached_property
    def coins(self) -> Coins:
        s = self.settings
        packages = (
            packages_from_config(s.coin_packages)
            if s.coin_packages
            else default_coin_packages(s.coin_value_cents)
        )
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
        return Payouts(
            gateway=self.payout_gateway,
            minimum_cents=self.settings.payout_minimum_cents,
            guards=[Disputes.payout_guard],
        )

    @cached_property
    def payments(self) -> Payments:
        s = self.settings
        return Payments(
            gateway=self.payment_gateway,
            webhook_secret=self.webhook_secret,
            webhook_tolerance_seconds=s.stripe_webhook_tolerance_seconds,
            public_url=self.base_url,
            purposes={
                "coins": self.coins,
                "subscription": self.subscriptions,
                "license": self.license_payments,
            },
            transfer_events=self.payouts,
        )

    # --- licensing ---------------------------------------------------------------------------
    @cached_property
    def works(self) -> ContentWorks:
        """The content service as the marketplace's ``WorkCatalog``."""
        return ContentWorks()

    @cached_property
    def listings(self) -> Listings:
        return Listings(catalog=self.works)

    @cached_property
    def agreements(self) -> Agreements:
        return Agreements(
            catalog=self.works,
            chain=lambda: self.chain,
            signer=self.signer,
            pinner=self.pinner,
            payments=lambda: self.payments,
            payment_window=timedelta(days=self.settings.license_payment_window_days),
        )

    @cached_property
    def offers(self) -> Offers:
        return Offers(agreements=self.agreements, ttl=timedelta(days=self.settings.license_offer_ttl_days))

    @cached_property
    def license_payments(self) -> LicensePayments:
        return LicensePayments(
            agreements=self.agreements,
            signer=self.signer,
            writer_share_pct=self.settings.license_writer_share_pct,
        )

    @cached_property
    def disputes(self) -> Disputes:
        return Disputes(listings=self.listings, agreements=self.agreements,
                        open_fingerprint=self.registry.open_fingerprint)

    @cached_property
    def chain_of_title(self) -> ChainOfTitle:
        return ChainOfTitle(catalog=self.works, agreements=self.agreements, signer=self.signer)

    def licensing_round(self) -> dict[str, object]:
        """The worker's licensing job: expire offers, cancel unpaid agreements past their window, grant
        paid ones on chain (outside any transaction), refund payments that must go back, pin certificates."""
        out: dict[str, object] = {}
        with session_scope(self.session_factory) as session:
            out["offers_expired"] = self.offers.expire_due(session)
            out["agreements_cancelled"] = self.agreements.cancel_overdue(session)
        out["grants"] = self.agreements.grant_due(self.session_factory)
        with session_scope(self.session_factory) as session:
            out["refunds_requested"] = self.license_payments.request_refunds(session, self.payments)
            out["certificates_pinned"] = self.agreements.pin_pending(session)
        return out

    def after_payment(self) -> None:
        """Run after a payment event's transaction commits (a background task of the webhook and confirm
        routes): grant freshly paid licenses now rather than at the worker's next round. Never raises;
        whatever fails here the worker does again."""
        try:
            self.agreements.grant_due(self.session_factory)
        except Exception:  # the worker retries; the payment response has been sent already
            log.exception("granting paid licenses after a payment failed; the worker will retry")

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
        return {
            "database": self.check_database,
            "chain": lambda: self.chain.health(),
            "tsa": lambda: self.timestamper.health(),
            "ipfs": lambda: self.pinner.health(),
        }

    def describe_adapters(self) -> dict[str, str]:
        return {
            "database": self.engine.dialect.name,
            "timestamps": self.timestamper.name,
            "chain": self.chain.name,
            "ipfs": self.pinner.name,
            "similarity_index": type(self.similarity_index).__name__,
            "payments": self.payment_gateway.name,
            "payouts": self.payout_gateway.name,
        }

    def log_adapters(self) -> None:
        for port, adapter in self.describe_adapters().items():
            log.info("port %s uses %s", port, adapter, extra={"port": port, "adapter": adapter})
        if self.settings.stripe_secret_key is None:
            log.warning("payments use the local test gateway: anyone can confirm their own checkout and get "
                        "coins for free; set LEGATO_STRIPE_SECRET_KEY before taking real money")

    # --- background work -----------------------------------------------------------------------
    @cached_property
    def worker(self) -> Worker:
        worker = Worker(self)
        worker.jobs.append(("licensing", self.licensing_round))
        worker.jobs.append(("signing_keys", self.sync_signing_keys))
        return worker

    def settle_contracts(self) -> None:
        """Resolve (on a dev or embedded chain: deploy) both registries now, so the trust document names
        them from the first certificate on instead of only after the first anchor. Best effort: a chain
        that is down is reported and settled later by the anchorer."""
        try:
            self.chain.registry_address()
            self.chain.license_registry_address()
        except (Unavailable, ConfigurationError, ChainError) as e:
            log.warning("registries not settled yet: %s", e.message)

    def start_background(self) -> None:
        """Start the in-process worker when settings ask for it (``legato serve`` does)."""
        if self.settings.run_worker:
            self.worker.start()

    def stop_background(self) -> None:
        if "worker" in self.__dict__:
            self.worker.stop()

    def close(self) -> None:
        """Release what the adapters hold: the embedded chain's single-process lock, HTTP clients."""
        for name in ("chain", "timestamper"):
            adapter = self.__dict__.get(name)
            close = getattr(adapter, "close", None)
            if close is not None:
                close()
        self.engine.dispose()
