"""Coins: the package catalogue, crediting a paid coin checkout, reversing it on refund or dispute, and
the wallet a reader sees.

Postings (signs: + credits the account):

* purchase of C coins for P cents: ``coin_issuance −C, wallet +C`` and ``payments(gateway) −P,
  coin_float +P``. The float holds the cash behind unspent coins; when the package has a bonus the float
  later pays out more than it took in and goes negative, which is the platform funding the bonus.
* reversal (refund/dispute) of r cents: coins back in proportion, ``floor(C·r_total/P)`` in total, taken
  from the wallet first; what the reader already spent becomes ``coin_debt`` (a receivable, negative).
  ``wallet −w, coin_debt −d, coin_issuance +(w+d)`` and ``payments +r, coin_float −r``.
* reinstatement (a dispute won after a reversal): the reverse postings, then any debt is settled.
* debt settlement, after every credit: ``wallet −x, coin_debt +x`` with x = min(debt, wallet).

The refund-after-spend policy is therefore: never a negative wallet, never a clawback from the writers
who were paid for the unlocks; the platform carries the shortfall in ``coin_float`` and records it
against the reader as ``coin_debt``, which their next coins pay off first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from marketplace.errors import InvalidRequest, NotFound
from marketplace.money import ledger
from marketplace.money.ledger import AccountKey, Entry, Kind, TransferKind
from marketplace.money.models import Checkout
from marketplace.money.payments import CheckoutOrder

PURPOSE = "coins"


@dataclass(frozen=True)
class CoinPackage:
    id: str
    name: str
    coins: int
    price_cents: int
    currency: str = "USD"
    bonus_pct: int = 0

    def __post_init__(self) -> None:
        for name in ("coins", "price_cents", "bonus_pct"):
            value = getattr(self, name)
            if type(value) is not int or value < 0 or (name != "bonus_pct" and value == 0):
                raise InvalidRequest(f"coin package {self.id!r}: {name} must be a positive integer")
        if self.currency != "USD":
            raise InvalidRequest(f"coin package {self.id!r}: only USD is supported")


def default_coin_packages(coin_value_cents: int) -> tuple[CoinPackage, ...]:
    """Four packages priced at face value, larger ones with bonus coins (rounded down)."""
    catalogue = (("handful", "Handful", 100, 0), ("pocket", "Pocket", 500, 10),
                 ("shelf", "Shelf", 1000, 15), ("library", "Library", 5000, 20))
    return tuple(
        CoinPackage(id=pid, name=name, coins=base + base * bonus // 100, price_cents=base * coin_value_cents,
                    bonus_pct=bonus)
        for pid, name, base, bonus in catalogue
    )


def packages_from_config(items: Iterable[Mapping[str, Any]]) -> tuple[CoinPackage, ...]:
    packages = tuple(CoinPackage(**dict(item)) for item in items)
    if len({p.id for p in packages}) != len(packages):
        raise InvalidRequest("coin package ids must be unique")
    return packages


@dataclass(frozen=True)
class WalletView:
    user_id: str
    coins: int
    coin_debt: int  # coins owed after a refund of spent coins, as a positive number
    earnings_cents: int
    payouts_in_flight_cents: int
    entries: list[Entry]


class Coins:
    """The ``coins`` checkout purpose and the wallet."""

    def __init__(self, *, packages: Sequence[CoinPackage]) -> None:
        if not packages:
            raise InvalidRequest("at least one coin package is required")
        self._packages = {p.id: p for p in packages}

    def packages(self) -> list[CoinPackage]:
        return list(self._packages.values())

    def order(self, package_id: str) -> CheckoutOrder:
        package = self._packages.get(package_id)
        if package is None:
            raise NotFound("No such coin package.", details={"package_id": package_id})
        return CheckoutOrder(
            purpose=PURPOSE, reference=package.id,
            description=f"{package.coins} Legato coins ({package.name})",
            amount_cents=package.price_cents, currency=package.currency, coins=package.coins,
        )

    # --- CheckoutPurpose ---------------------------------------------------------------------------
    def on_paid(self, session: Session, checkout: Checkout) -> str:
        key = f"checkout:{checkout.id}:paid"
        result = ledger.transfer(
            session, key=key, kind=TransferKind.coin_purchase, reference=checkout.id,
            memo={"package_id": checkout.reference, "coins": checkout.coins,
                  "price_cents": checkout.amount_cents},
            legs=[
                (ledger.coin_issuance(), -checkout.coins), (ledger.wallet(checkout.user_id), checkout.coins),
                (ledger.gateway_payments(checkout.gateway), -checkout.amount_cents),
                (ledger.coin_float(), checkout.amount_cents),
            ],
        )
        settle_coin_debt(session, checkout.user_id, key=f"{key}:debt")
        return f"credited {checkout.coins} coins" if result.created else "already_credited"

    def on_reversal(self, session: Session, checkout: Checkout, *, target_cents: int, key: str) -> str:
        target_coins = checkout.coins * target_cents // checkout.amount_cents
        delta_coins = target_coins - checkout.reversed_coins
        delta_cents = target_cents - checkout.reversed_cents
        user = checkout.user_id
        legs: list[tuple[AccountKey, int]] = []
        if delta_cents:
            legs += [(ledger.gateway_payments(checkout.gateway), delta_cents),
                     (ledger.coin_float(), -delta_cents)]
        debt = 0
        if delta_coins > 0:
            held = ledger.locked_balances(session, [ledger.wallet(user)])[ledger.wallet(user)]
            from_wallet = min(held, delta_coins)
            debt = delta_coins - from_wallet
            legs.append((ledger.coin_issuance(), delta_coins))
            if from_wallet:
                legs.append((ledger.wallet(user), -from_wallet))
            if debt:
                legs.append((ledger.coin_debt(user), -debt))
        elif delta_coins < 0:
            legs += [(ledger.coin_issuance(), delta_coins), (ledger.wallet(user), -delta_coins)]
        kind = TransferKind.coin_reinstatement if delta_cents < 0 else TransferKind.coin_reversal
        ledger.transfer(session, key=key, kind=kind, reference=checkout.id, legs=legs,
                        memo={"target_cents": target_cents, "coins": delta_coins, "debt": debt})
        checkout.reversed_coins = target_coins
        if delta_coins < 0:
            settle_coin_debt(session, user, key=f"{key}:debt")
        return f"{kind.value}: {delta_coins} coins, {delta_cents} cents, {debt} coins to debt"

    # --- wallet -----------------------------------------------------------------------------------
    def wallet(self, session: Session, user_id: str, *, limit: int = 20) -> WalletView:
        return WalletView(
            user_id=user_id,
            coins=ledger.balance(session, ledger.wallet(user_id)),
            coin_debt=-ledger.balance(session, ledger.coin_debt(user_id)),
            earnings_cents=ledger.balance(session, ledger.earnings(user_id)),
            payouts_in_flight_cents=ledger.balance(session, ledger.payout_in_flight(user_id)),
            entries=ledger.entries(session, user_id, list(Kind), limit=limit),
        )


def settle_coin_debt(session: Session, user_id: str, *, key: str) -> int:
    """Pay down a reader's coin debt from their wallet; returns the coins moved."""
    accounts = [ledger.wallet(user_id), ledger.coin_debt(user_id)]
    balances = ledger.locked_balances(session, accounts)
    owed, held = -balances[accounts[1]], balances[accounts[0]]
    amount = min(owed, held)
    if amount <= 0:
        return 0
    ledger.transfer(session, key=key, kind=TransferKind.coin_debt_settlement,
                    legs=[(accounts[0], -amount), (accounts[1], amount)])
    return amount


def coin_spend_legs(
    *, payer_id: str, payee_id: str, coins: int, coin_value_cents: int, payee_share_pct: int
) -> tuple[list[tuple[AccountKey, int]], int, int]:
    """Legs for spending coins on a writer: ``(legs, writer_cents, platform_cents)``.

    The coins are retired (``wallet −N, coin_issuance +N``) and their cash value ``V = N·coin_value``
    leaves the float: ``coin_float −V, earnings +floor(V·pct/100), revenue +rest``. The writer gets the
    floor and the platform the remainder, so the two sum to V exactly and no cent is made or lost.
    """
    if type(coins) is not int or coins <= 0:
        raise InvalidRequest("coins must be a positive integer", details={"coins": coins})
    value = coins * coin_value_cents
    writer_cents, platform_cents = ledger.split(value, payee_share_pct)
    legs: list[tuple[AccountKey, int]] = [
        (ledger.wallet(payer_id), -coins), (ledger.coin_issuance(), coins), (ledger.coin_float(), -value),
    ]
    if writer_cents:
        legs.append((ledger.earnings(payee_id), writer_cents))
    if platform_cents:
        legs.append((ledger.platform_revenue(), platform_cents))
    return legs, writer_cents, platform_cents
