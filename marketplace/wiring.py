"""The marketplace's builder: explicit collaborators and settings in, live money and licensing services out.

Nothing here reads the environment or picks an adapter: the gateway (``api/wiring.py``) chooses the
payment and payout gateways, the chain, the pinner and the signing keys from its settings, implements the
catalog port over the content service, and calls :func:`build_marketplace` once.

The order below is the dependency order, with no cycle: the license fee's checkout purpose
(:class:`~marketplace.licensing.license_payments.LicensePayments`) needs only the signer, so ``Payments``
is built with it, and then ``Agreements`` with ``Payments``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from marketplace.licensing.agreements import PURPOSE as LICENSE_PURPOSE
from marketplace.licensing.agreements import Agreements
from marketplace.licensing.background import LicensingBackground
from marketplace.licensing.catalog import WorkCatalog
from marketplace.licensing.chain_of_title import ChainOfTitle
from marketplace.licensing.disputes import Disputes
from marketplace.licensing.grants import Grants
from marketplace.licensing.license_payments import LicensePayments
from marketplace.licensing.listings import Listings
from marketplace.licensing.offers import Offers
from marketplace.money.coins import CoinPackage, Coins, default_coin_packages
from marketplace.money.gateways.protocol import PaymentGateway, PayoutGateway
from marketplace.money.payments import Payments
from marketplace.money.payouts import Payouts
from marketplace.money.subscriptions import DEFAULT_PLANS, SubscriptionPlan, Subscriptions
from marketplace.money.tips import Tips
from marketplace.money.unlocks import Unlocks
from registry.chain.protocol import Chain
from registry.fingerprint import Fingerprint
from registry.ipfs import Pinner
from registry.models import Registration
from registry.signing import PlatformKey


@dataclass(frozen=True)
class MoneyServices:
    coins: Coins
    subscriptions: Subscriptions
    unlocks: Unlocks
    tips: Tips
    payouts: Payouts
    payments: Payments


@dataclass(frozen=True)
class LicensingServices:
    listings: Listings
    offers: Offers
    agreements: Agreements
    license_payments: LicensePayments
    grants: Grants
    disputes: Disputes
    chain_of_title: ChainOfTitle
    background: LicensingBackground


@dataclass(frozen=True)
class MarketplaceServices:
    money: MoneyServices
    licensing: LicensingServices


def build_marketplace(
    *,
    session_factory: sessionmaker[Session],
    catalog: WorkCatalog,
    chain: Callable[[], Chain],
    signer: PlatformKey,
    pinner: Pinner,
    open_fingerprint: Callable[[Registration], Fingerprint],
    payment_gateway: PaymentGateway,
    payout_gateway: PayoutGateway,
    webhook_secret: str,
    webhook_tolerance_seconds: int,
    public_url: str | Callable[[], str],
    coin_value_cents: int,
    coin_packages: Sequence[CoinPackage] | None = None,
    plans: Sequence[SubscriptionPlan] | None = None,
    tip_writer_share_pct: int,
    payout_minimum_cents: int,
    license_writer_share_pct: int,
    license_offer_ttl: timedelta,
    license_payment_window: timedelta,
) -> MarketplaceServices:
    """Every money and licensing service, wired to each other.

    ``chain`` is a provider, called whenever a service needs the chain: opening it loads web3 and takes
    the embedded chain's process lock, which only granting and overlap checks should pay for, and a chain
    the caller replaces later is the one used. ``open_fingerprint`` unseals a registration's stored
    fingerprint for a dispute's comparison (the registry's key). ``public_url`` is the base of the links
    checkouts return to, or a callable when it depends on the request. Without ``coin_packages`` the
    default packages at ``coin_value_cents``; without ``plans`` the default subscription plan."""
    license_payments = LicensePayments(signer=signer, writer_share_pct=license_writer_share_pct)
    coins = Coins(packages=coin_packages or default_coin_packages(coin_value_cents))
    subscriptions = Subscriptions(plans=plans or DEFAULT_PLANS)
    payouts = Payouts(gateway=payout_gateway, minimum_cents=payout_minimum_cents,
                      guards=[Disputes.payout_guard])
    payments = Payments(
        gateway=payment_gateway, webhook_secret=webhook_secret,
        webhook_tolerance_seconds=webhook_tolerance_seconds, public_url=public_url,
        purposes={"coins": coins, "subscription": subscriptions, LICENSE_PURPOSE: license_payments},
        transfer_events=payouts,
    )
    money = MoneyServices(
        coins=coins, subscriptions=subscriptions, unlocks=Unlocks(coin_value_cents=coin_value_cents),
        tips=Tips(coin_value_cents=coin_value_cents, writer_share_pct=tip_writer_share_pct),
        payouts=payouts, payments=payments,
    )

    listings = Listings(catalog=catalog)
    agreements = Agreements(catalog=catalog, chain=chain, payments=payments,
                            payment_window=license_payment_window)
    offers = Offers(agreements=agreements, ttl=license_offer_ttl)
    grants = Grants(chain=chain, signer=signer, pinner=pinner)
    licensing = LicensingServices(
        listings=listings, offers=offers, agreements=agreements, license_payments=license_payments,
        grants=grants, disputes=Disputes(listings=listings, open_fingerprint=open_fingerprint),
        chain_of_title=ChainOfTitle(catalog=catalog, agreements=agreements, signer=signer),
        background=LicensingBackground(sessions=session_factory, offers=offers, agreements=agreements,
                                       grants=grants, license_payments=license_payments, payments=payments),
    )
    return MarketplaceServices(money=money, licensing=licensing)
