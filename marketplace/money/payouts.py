"""Payouts: a writer's earnings leave Legato through the :class:`PayoutGateway`, and the statement
that explains every cent of them.

A payout is two steps with a commit in between, because the gateway call cannot be rolled back:

1. :meth:`Payouts.request` — ``earnings −A, payout_in_flight +A`` and a ``requested`` row, committed;
2. :meth:`Payouts.execute` — the gateway call with idempotency key ``legato-payout-<id>``:

   * paid → ``payout_in_flight −A, payouts(gateway) +A`` (settled, the money is outside);
   * refused (``GatewayDeclined``) → ``payout_in_flight −A, earnings +A`` (failed, money back);
   * pending → stays in flight until :meth:`settle` reports the outcome;
   * no answer (``PaymentGatewayError``) → stays ``requested``: the outcome is unknown, so nothing is
     returned until a retry with the same key (``legato payouts retry``) gets a definite answer.

A paid payout the gateway later pulls back (Stripe ``transfer.reversed``) returns to earnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_utils import is_checksum_address, to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import (
    GatewayDeclined,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    PaymentGatewayError,
)
from marketplace.money import ledger
from marketplace.money.gateways.protocol import PayoutGateway
from marketplace.money.ledger import Entry, Kind, TransferKind
from marketplace.money.models import Payout, PayoutDestination, PayoutStatus
from registry.db import new_id

# Earnings statement sources, by the transfer kind that credited or debited earnings.
SOURCES: dict[str, str] = {
    TransferKind.unlock: "unlocks",
    TransferKind.tip: "tips",
    TransferKind.subscription_pool: "subscriptions",
    TransferKind.license_payment: "licensing",
    TransferKind.license_reversal: "licensing",
    TransferKind.license_reinstatement: "licensing",
    TransferKind.payout_request: "payouts",
    TransferKind.payout_failed: "payouts",
    TransferKind.payout_reversed: "payouts",
}
SOURCE_NAMES = ("unlocks", "tips", "subscriptions", "licensing", "payouts", "other")

PayoutGuard = Callable[[Session, str], None]

# Where a payout can go, one pattern per kind of destination a gateway pays. The gateway then says
# which kinds it pays (Stripe: Connect accounts only).
DESTINATION_KINDS: dict[str, re.Pattern[str]] = {
    "stripe_connect": re.compile(r"acct_[A-Za-z0-9]{1,64}"),
    # M-Pesa: a Safaricom (Kenya, 2547…/2541…) or Vodacom (Tanzania, 2556…/2557…) MSISDN.
    "mpesa": re.compile(r"mpesa:\+?(?:254[17]|255[67])\d{8}"),
    "evm": re.compile(r"0x[0-9a-fA-F]{40}"),
    "local": re.compile(r"local:[A-Za-z0-9-]{1,64}"),
}


def destination_kind(destination: str) -> str:
    """The kind of a well-formed destination, or ``INVALID_REQUEST`` naming the accepted forms. An EVM
    address in mixed case must carry a valid EIP-55 checksum (a typo is caught before money leaves);
    the zero address is refused."""
    value = destination if isinstance(destination, str) else ""
    kind = next((k for k, pattern in DESTINATION_KINDS.items() if pattern.fullmatch(value)), None)
    if kind == "evm":
        mixed = value[2:] != value[2:].lower() and value[2:] != value[2:].upper()
        if (mixed and not is_checksum_address(value)) or int(value, 16) == 0:
            kind = None
    if kind is None:
        raise InvalidRequest(
            "Not a payout destination: use a Stripe Connect account (acct_…), an M-Pesa number "
            "(mpesa:2547XXXXXXXX) or an EVM address (0x… with a valid checksum).",
            details={"accepted": sorted(DESTINATION_KINDS)},
        )
    return kind


def normalize_destination(destination: str) -> str:
    kind = destination_kind(destination)
    if kind == "evm":
        return to_checksum_address(destination)
    if kind == "mpesa":
        return "mpesa:" + destination.removeprefix("mpesa:").lstrip("+")
    return destination


@dataclass(frozen=True)
class EarningsStatement:
    user_id: str
    currency: str
    available_cents: int
    in_flight_cents: int
    by_source: dict[str, int]  # net cents per source over all time; payouts are negative
    payouts: list[Payout]
    entries: list[Entry]


class Payouts:
    def __init__(
        self, *, gateway: PayoutGateway, minimum_cents: int, currency: str = "USD",
        guards: Sequence[PayoutGuard] = (),
    ) -> None:
        if type(minimum_cents) is not int or minimum_cents <= 0:
            raise InvalidRequest("the payout minimum must be a positive integer of cents")
        self.gateway = gateway
        self.minimum_cents = minimum_cents
        self._currency = currency
        # Checks another part of the marketplace may need before money leaves (e.g. upheld disputes).
        self._guards = tuple(guards)

    # --- destination -----------------------------------------------------------------------------
    def set_destination(self, session: Session, *, user_id: str, destination: str) -> PayoutDestination:
        """Checked twice: well-formed as some kind of destination, then payable by this gateway."""
        destination = normalize_destination(destination)
        self.gateway.validate_destination(destination)
        row = session.get(PayoutDestination, user_id)
        if row is None:
            row = PayoutDestination(user_id=user_id, destination=destination)
            session.add(row)
        row.destination = destination
        session.flush()
        return row

    def destination_for(self, session: Session, user_id: str) -> str | None:
        row = session.get(PayoutDestination, user_id)
        return row.destination if row else self.gateway.default_destination(user_id)

    # --- the two steps ---------------------------------------------------------------------------
    def request(self, session: Session, *, user_id: str, amount_cents: int | None = None) -> Payout:
        """Step 1: move earnings in flight. The caller commits before calling :meth:`execute`."""
        for guard in self._guards:
            guard(session, user_id)
        destination = self.destination_for(session, user_id)
        if destination is None:
            raise InvalidRequest("Set a payout destination first.")
        available = ledger.locked_balances(session, [ledger.earnings(user_id)])[ledger.earnings(user_id)]
        amount = available if amount_cents is None else amount_cents
        if type(amount) is not int or amount < self.minimum_cents:
            raise InvalidRequest(f"The payout minimum is {self.minimum_cents} cents.",
                                 details={"minimum_cents": self.minimum_cents, "amount_cents": amount,
                                          "available_cents": available})
        if amount > available:
            raise InsufficientFunds("Not enough earnings for this payout.",
                                    details={"available_cents": available, "amount_cents": amount})
        payout = Payout(id=new_id(), user_id=user_id, amount_cents=amount, currency=self._currency,
                        destination=destination, gateway=self.gateway.name)
        session.add(payout)
        ledger.transfer(session, key=f"payout:{payout.id}:request", kind=TransferKind.payout_request,
                        reference=payout.id, legs=[(ledger.earnings(user_id), -amount),
                                                   (ledger.payout_in_flight(user_id), amount)])
        session.flush()
        return payout

    def execute(self, session: Session, payout_id: str) -> Payout:
        """Step 2: call the gateway for a ``requested`` payout; safe to repeat."""
        payout = self._locked(session, payout_id)
        if payout.status != PayoutStatus.requested:
            return payout
        try:
            sent = self.gateway.send(payout_id=payout.id, destination=payout.destination,
                                     amount_cents=payout.amount_cents, currency=payout.currency,
                                     idempotency_key=f"legato-payout-{payout.id}")
        except GatewayDeclined as e:
            self._return(session, payout, PayoutStatus.failed, e.message)
            return payout
        except PaymentGatewayError as e:
            payout.failure_reason = f"outcome unknown, will retry: {e.message}"[:500]
            session.flush()
            return payout
        payout.gateway_ref = sent.gateway_ref
        payout.failure_reason = None
        if sent.status == "paid":
            self._settle(session, payout)
        else:
            payout.status = PayoutStatus.pending
        session.flush()
        return payout

    def settle(
        self, session: Session, payout_id: str, *, succeeded: bool, reason: str | None = None
    ) -> Payout:
        """The later outcome of a ``pending`` payout (gateway status or event)."""
        payout = self._locked(session, payout_id)
        if payout.status != PayoutStatus.pending:
            return payout
        if succeeded:
            self._settle(session, payout)
        else:
            self._return(session, payout, PayoutStatus.failed, reason or "refused by the payout gateway")
        return payout

    def on_transfer_reversed(self, session: Session, *, gateway_ref: str, amount_cents: int) -> str:
        """Stripe ``transfer.reversed``: ``amount_cents`` is the cumulative amount reversed."""
        payout = session.scalars(select(Payout).where(Payout.gateway_ref == gateway_ref)
                                 .with_for_update().execution_options(populate_existing=True)).first()
        if payout is None:
            return "unknown_transfer"
        delta = min(amount_cents, payout.amount_cents) - payout.reversed_cents
        if payout.status not in (PayoutStatus.paid, PayoutStatus.reversed) or delta <= 0:
            return "no_change"
        ledger.transfer(session, key=f"payout:{payout.id}:reversed:{payout.reversed_cents + delta}",
                        kind=TransferKind.payout_reversed, reference=payout.id,
                        legs=[(ledger.gateway_payouts(payout.gateway), -delta),
                              (ledger.earnings(payout.user_id), delta)])
        payout.reversed_cents += delta
        payout.status = PayoutStatus.reversed
        session.flush()
        return f"payout_reversed: {delta} cents back to earnings"

    def retry_requested(self, session: Session) -> list[Payout]:
        ids = list(session.scalars(select(Payout.id).where(Payout.status == PayoutStatus.requested)))
        return [self.execute(session, pid) for pid in ids]

    def _locked(self, session: Session, payout_id: str) -> Payout:
        payout = session.scalars(select(Payout).where(Payout.id == payout_id)
                                 .with_for_update().execution_options(populate_existing=True)).first()
        if payout is None:
            raise NotFound("No such payout.", details={"payout_id": payout_id})
        return payout

    def _settle(self, session: Session, payout: Payout) -> None:
        ledger.transfer(session, key=f"payout:{payout.id}:settled", kind=TransferKind.payout_settled,
                        reference=payout.id,
                        legs=[(ledger.payout_in_flight(payout.user_id), -payout.amount_cents),
                              (ledger.gateway_payouts(payout.gateway), payout.amount_cents)])
        payout.status = PayoutStatus.paid
        session.flush()

    def _return(self, session: Session, payout: Payout, status: PayoutStatus, reason: str) -> None:
        ledger.transfer(session, key=f"payout:{payout.id}:failed", kind=TransferKind.payout_failed,
                        reference=payout.id,
                        legs=[(ledger.payout_in_flight(payout.user_id), -payout.amount_cents),
                              (ledger.earnings(payout.user_id), payout.amount_cents)])
        payout.status = status
        payout.failure_reason = reason[:500]
        session.flush()

    # --- statement -------------------------------------------------------------------------------
    def statement(self, session: Session, user_id: str, *, limit: int = 20) -> EarningsStatement:
        by_source = dict.fromkeys(SOURCE_NAMES, 0)
        for kind, total in ledger.totals_by_transfer_kind(session, ledger.earnings(user_id)).items():
            by_source[SOURCES.get(kind, "other")] += total
        payouts = list(session.scalars(select(Payout).where(Payout.user_id == user_id)
                                       .order_by(Payout.created_at.desc()).limit(limit)))
        return EarningsStatement(
            user_id=user_id, currency=self._currency,
            available_cents=ledger.balance(session, ledger.earnings(user_id)),
            in_flight_cents=ledger.balance(session, ledger.payout_in_flight(user_id)),
            by_source=by_source, payouts=payouts,
            entries=ledger.entries(session, user_id, [Kind.earnings, Kind.payout_in_flight], limit=limit),
        )
