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

from accounts.credentials import AccessTokens
from accounts.service import Accounts
from accounts.wiring import build_accounts, jwt_secret
from api.db import make_engine, make_session_factory
from api.read_grants import MarketplaceReadGrants
from api.request_context import current_base_url
from api.settings import Settings
from api.worker import Worker
from api.works import ContentWorks
from content.access import ReadGrants
from content.crypto import ContentCipher, Keyring
from content.wiring import build_content_cipher
from marketplace.licensing.agreements import Agreements
from marketplace.licensing.chain_of_title import ChainOfTitle
from marketplace.licensing.disputes import Disputes
from marketplace.licensing.license_payments import LicensePayments
from marketplace.licensing.listings import Listings
from marketplace.licensing.offers import Offers
from marketplace.money.coins import Coins, packages_from_config
from marketplace.money.gateways.local import LocalPayoutGateway, LocalTestGateway
from marketplace.money.gateways.protocol import PaymentGateway, PayoutGateway
from marketplace.money.gateways.stripe_gateway import StripeGateway, StripePayoutGateway
from marketplace.money.payments import Payments
from marketplace.money.payouts import Payouts
from marketplace.money.subscriptions import SubscriptionPlan, Subscriptions
from marketplace.money.tips import Tips
from marketplace.money.unlocks import Unlocks
from marketplace.wiring import MarketplaceServices, build_marketplace
from registry.anchoring import Anchorer
from registry.certificate_verify import Report, verify_certificate
from registry.errors import ChainError, ConfigurationError, Unavailable
from registry.fingerprint_key import FingerprintKey
from registry.ipfs.protocol import Pinner
from registry.keystore import read_or_create_secret
from registry.models import CertificateState
from registry.service import Registry
from registry.signing_keys import SigningKeys
from registry.similarity.protocol import SimilarityIndex
from registry.timestamp.protocol import Timestamper
from registry.trust import Trust
from registry.wiring import RegistryWiring, trust_document

if TYPE_CHECKING:
    from registry.chain.web3_chain import Web3Chain

log = logging.getLogger("legato.container")


def registry_wiring(settings: Settings) -> RegistryWiring:
    """The registry's part of the settings, as the explicit values ``registry.wiring`` takes. The
    Container and the CLI's read-only commands (``legato verify``, ``legato trust export``) share it."""
    s = settings
    return RegistryWiring(
        data_dir=s.data_dir,
        signing_key_pem=s.signing_key.get_secret_value().encode() if s.signing_key is not None else None,
        tsa_url=s.tsa_url, tsa_cert=s.tsa_cert, tsa_timeout=s.tsa_timeout_seconds,
        ipfs_api=s.ipfs_api, ipfs_pinning_url=s.ipfs_pinning_url,
        ipfs_pinning_token=s.ipfs_pinning_token.get_secret_value() if s.ipfs_pinning_token else None,
        ipfs_gateway_url=s.ipfs_gateway_url,
        chain_rpc_url=s.chain_rpc_url,
        chain_private_key=s.chain_private_key.get_secret_value() if s.chain_private_key else None,
        registry_address=s.registry_address, license_registry_address=s.license_registry_address,
        chain_confirmations=s.chain_confirmations, chain_tx_timeout=s.chain_tx_timeout_seconds,
        redis_url=s.redis_url,
        max_text_chars=s.max_text_chars, block_containment=s.plagiarism_block_containment,
        block_jaccard=s.plagiarism_block_jaccard,
        batch_max_size=s.batch_max_size, batch_max_age=timedelta(seconds=s.batch_max_age_seconds),
    )


class Container:
    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        settings.ensure_data_dir()
        self.engine = engine or make_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
        self.session_factory: sessionmaker[Session] = make_session_factory(self.engine)

    # --- accounts ----------------------------------------------------------------------------
    @cached_property
    def jwt_secret(self) -> bytes:
        configured = self.settings.jwt_secret
        return jwt_secret(configured=configured.get_secret_value() if configured is not None else None,
                          keys_dir=self.settings.data_dir / "keys")

    @cached_property
    def accounts(self) -> Accounts:
        s = self.settings
        return build_accounts(
            jwt_secret=self.jwt_secret,
            access_ttl_seconds=s.access_token_ttl_seconds,
            refresh_ttl_seconds=s.refresh_token_ttl_seconds,
            argon2_time_cost=s.argon2_time_cost,
            argon2_memory_cost_kib=s.argon2_memory_cost_kib,
            login_max_failures=s.login_max_failures,
            login_max_failures_per_ip=s.login_max_failures_per_ip,
            login_window_seconds=s.login_window_seconds,
        )

    @property
    def tokens(self) -> AccessTokens:
        """The access-token checker every authenticated request uses (the accounts service's own)."""
        return self.accounts.tokens

    # --- registry ports ------------------------------------------------------------------------
    @cached_property
    def registry_wiring(self) -> RegistryWiring:
        """The registry's builder, from these settings (see :func:`registry_wiring`)."""
        return registry_wiring(self.settings)

    @cached_property
    def signer(self) -> SigningKeys:
        """The platform's signing keys: the newest signs, the retired ones stay published for verifiers."""
        return self.registry_wiring.signer()

    @cached_property
    def timestamper(self) -> Timestamper:
        return self.registry_wiring.timestamper()

    @cached_property
    def pinner(self) -> Pinner:
        return self.registry_wiring.pinner()

    @cached_property
    def chain(self) -> Web3Chain:
        return self.registry_wiring.chain()

    @cached_property
    def fingerprint_key(self) -> FingerprintKey:
        return self.registry_wiring.fingerprint_key()

    @cached_property
    def similarity_index(self) -> SimilarityIndex:
        return self.registry_wiring.similarity_index(key_id=self.fingerprint_key.key_id)

    @cached_property
    def registry(self) -> Registry:
        return self.registry_wiring.registry(
            timestamper=self.timestamper, signer=self.signer, index=self.similarity_index, pinner=self.pinner,
            fingerprint_key=self.fingerprint_key,
        )

    @cached_property
    def anchorer(self) -> Anchorer:
        return self.registry_wiring.anchorer(registry=self.registry, chain=self.chain, pinner=self.pinner)

    def base_url(self) -> str:
        """Where this deployment's links point: ``LEGATO_PUBLIC_URL``, else the base URL of the request
        being served (outside a request: the address ``legato serve`` listens on)."""
        return self.settings.public_url or current_base_url()

    def trust(self) -> Trust:
        """This deployment's trust document (``GET /.well-known/legato-trust.json``). Built on each call:
        a rotation in another process shows at once. With the chain down it still names the keys and
        the configured addresses."""
        w = self.registry_wiring
        return trust_document(
            keys=self.signer, tsa_roots_pem=self.timestamper.trust_roots_pem(), chain=self.chain,
            registry_address=w.registry_address, license_registry_address=w.license_registry_address,
            platform=self.base_url(), source="platform's trust",
        )

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
    def marketplace(self) -> MarketplaceServices:
        """Every money and licensing service, built together by the marketplace's own builder."""
        s = self.settings
        return build_marketplace(
            session_factory=self.session_factory,
            catalog=self.works,
            chain=lambda: self.chain,  # opened on first use; a chain set on the container later is seen
            signer=self.signer,
            pinner=self.pinner,
            # The registry is built on the first dispute, not with the marketplace.
            open_fingerprint=lambda registration: self.registry.open_fingerprint(registration),
            payment_gateway=self.payment_gateway,
            payout_gateway=self.payout_gateway,
            webhook_secret=self.webhook_secret,
            webhook_tolerance_seconds=s.stripe_webhook_tolerance_seconds,
            public_url=self.base_url,
            coin_value_cents=s.coin_value_cents,
            coin_packages=packages_from_config(s.coin_packages) if s.coin_packages else None,
            plans=[SubscriptionPlan(**p) for p in s.subscription_plans] if s.subscription_plans else None,
            tip_writer_share_pct=s.tip_writer_share_pct,
            payout_minimum_cents=s.payout_minimum_cents,
            license_writer_share_pct=s.license_writer_share_pct,
            license_offer_ttl=timedelta(days=s.license_offer_ttl_days),
            license_payment_window=timedelta(days=s.license_payment_window_days),
        )

    # The services by the names the routes, the CLI and the tests use.
    @property
    def coins(self) -> Coins:
        return self.marketplace.money.coins

    @property
    def subscriptions(self) -> Subscriptions:
        return self.marketplace.money.subscriptions

    @property
    def unlocks(self) -> Unlocks:
        return self.marketplace.money.unlocks

    @property
    def tips(self) -> Tips:
        return self.marketplace.money.tips

    @property
    def payouts(self) -> Payouts:
        return self.marketplace.money.payouts

    @property
    def payments(self) -> Payments:
        return self.marketplace.money.payments

    # --- licensing ---------------------------------------------------------------------------
    @cached_property
    def works(self) -> ContentWorks:
        """The content service as the marketplace's ``WorkCatalog``."""
        return ContentWorks()

    @property
    def listings(self) -> Listings:
        return self.marketplace.licensing.listings

    @property
    def agreements(self) -> Agreements:
        return self.marketplace.licensing.agreements

    @property
    def offers(self) -> Offers:
        return self.marketplace.licensing.offers

    @property
    def license_payments(self) -> LicensePayments:
        return self.marketplace.licensing.license_payments

    @property
    def disputes(self) -> Disputes:
        return self.marketplace.licensing.disputes

    @property
    def chain_of_title(self) -> ChainOfTitle:
        return self.marketplace.licensing.chain_of_title

    def licensing_round(self) -> dict[str, object]:
        """The worker's licensing job (``marketplace.licensing.background``)."""
        return self.marketplace.licensing.background.round()

    def after_payment(self) -> None:
        """Grant freshly paid licenses once a payment event has committed; never raises."""
        self.marketplace.licensing.background.after_payment()

    # --- content -----------------------------------------------------------------------------
    @cached_property
    def content_cipher(self) -> ContentCipher:
        """``LEGATO_CONTENT_KEY`` when set (comma-separated: the first seals), else the rotating keyring
        file in the data dir, created on first use with mode 0600."""
        key = self.settings.content_key
        return build_content_cipher(content_key=key.get_secret_value() if key is not None else None,
                                    keys_dir=self.settings.data_dir / "keys")

    @property
    def content_keyring(self) -> Keyring:
        return self.content_cipher.keyring

    @cached_property
    def read_grants(self) -> ReadGrants:
        """Content's port for "has this reader paid for, or subscribed to, it?", answered by the
        marketplace."""
        return MarketplaceReadGrants(subscriptions=self.subscriptions)

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
