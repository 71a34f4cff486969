"""Tips: a reader gives a writer coins with an optional message.

Split: 90% writer / 10% platform (the issue leaves it open). A tip is a gift, so the writer gets the
larger share than for a sale; the platform's 10% still covers payment fees on the coins. Same rounding
rule as unlocks: the writer gets ``floor(value·90/100)`` cents, the platform the remainder.

Tips are not naturally idempotent (the same reader may tip the same writer twice on purpose), so the
caller supplies an idempotency key — the HTTP ``Idempotency-Key`` header — and a retried request with
the same key returns the first tip.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, InvalidRequest
from marketplace.money import ledger
from marketplace.money.coins import coin_spend_legs
from marketplace.money.ledger import TransferKind
from marketplace.money.models import Tip
from registry.db import new_id

TIP_WRITER_SHARE_PCT = 90
MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class TipResult:
    tip: Tip
    created: bool


class Tips:
    def __init__(self, *, coin_value_cents: int, writer_share_pct: int = TIP_WRITER_SHARE_PCT) -> None:
        if type(coin_value_cents) is not int or coin_value_cents <= 0:
            raise InvalidRequest("coin_value_cents must be a positive integer")
        self._coin_value = coin_value_cents
        self._pct = writer_share_pct

    @property
    def writer_share_pct(self) -> int:
        return self._pct

    def tip(
        self, session: Session, *, tipper_id: str, writer_id: str, coins: int, message: str | None = None,
        idempotency_key: str | None = None,
    ) -> TipResult:
        """The caller has checked that ``writer_id`` is a writer (users live in ``api``)."""
        if tipper_id == writer_id:
            raise InvalidRequest("You cannot tip yourself.")
        if message is not None and len(message) > MAX_MESSAGE_CHARS:
            raise InvalidRequest(f"A tip message has at most {MAX_MESSAGE_CHARS} characters.")
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
            raise InvalidRequest("An idempotency key has 1-100 characters.")
        key = f"tip:{tipper_id}:{idempotency_key or new_id()}"
        legs, writer_cents, platform_cents = coin_spend_legs(
            payer_id=tipper_id, payee_id=writer_id, coins=coins, coin_value_cents=self._coin_value,
            payee_share_pct=self._pct,
        )
        result = ledger.transfer(session, key=key, kind=TransferKind.tip, reference=writer_id, legs=legs,
                                 memo={"writer_id": writer_id, "coins": coins})
        if not result.created:
            existing = session.scalars(select(Tip).where(Tip.transfer_id == result.transfer.id)).one()
            if existing.message != message:
                raise Conflict("This idempotency key was used for a different tip.")
            return TipResult(existing, created=False)
        row = Tip(tipper_id=tipper_id, writer_id=writer_id, coins=coins, writer_cents=writer_cents,
                  platform_cents=platform_cents, message=message, transfer_id=result.transfer.id)
        session.add(row)
        session.flush()
        return TipResult(row, created=True)
