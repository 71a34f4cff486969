"""Chapter unlocks, the money side: a reader pays a chapter's price in coins once, the writer earns 70%.

Idempotent per (reader, chapter) twice over: the :class:`Unlock` row is unique on the pair and the
ledger key is ``unlock:<reader>:<chapter>``, so two concurrent unlocks charge once and both callers get
the same unlock back. The content service calls :func:`has_unlocked` in its read check; the HTTP route
``POST /chapters/{id}/unlock`` resolves the chapter's writer and price and calls :meth:`Unlocks.unlock`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.errors import InvalidRequest
from marketplace.money import ledger
from marketplace.money.coins import coin_spend_legs
from marketplace.money.ledger import TransferKind
from marketplace.money.models import Unlock

UNLOCK_WRITER_SHARE_PCT = 70  # docs/architecture.md: coin spend on chapters is 70% writer / 30% platform


@dataclass(frozen=True)
class UnlockResult:
    unlock: Unlock
    charged: bool  # False when the reader had already unlocked the chapter


def has_unlocked(session: Session, reader_id: str, chapter_id: str) -> bool:
    return session.scalar(
        select(Unlock.id).where(Unlock.reader_id == reader_id, Unlock.chapter_id == chapter_id)
    ) is not None


def _find(session: Session, reader_id: str, chapter_id: str) -> Unlock | None:
    return session.scalars(
        select(Unlock).where(Unlock.reader_id == reader_id, Unlock.chapter_id == chapter_id)
    ).first()


class Unlocks:
    def __init__(self, *, coin_value_cents: int, writer_share_pct: int = UNLOCK_WRITER_SHARE_PCT) -> None:
        if type(coin_value_cents) is not int or coin_value_cents <= 0:
            raise InvalidRequest("coin_value_cents must be a positive integer")
        self._coin_value = coin_value_cents
        self._pct = writer_share_pct

    def unlock(
        self, session: Session, *, reader_id: str, writer_id: str, chapter_id: str, price_coins: int
    ) -> UnlockResult:
        """Charge ``price_coins`` from the reader's wallet for ``chapter_id``, once.

        Raises ``INSUFFICIENT_FUNDS`` when the wallet cannot pay, ``INVALID_REQUEST`` for a free
        chapter or a writer unlocking their own.
        """
        existing = _find(session, reader_id, chapter_id)
        if existing is not None:
            return UnlockResult(existing, charged=False)
        if reader_id == writer_id:
            raise InvalidRequest("Writers read their own chapters without unlocking them.")
        if type(price_coins) is not int or price_coins <= 0:
            raise InvalidRequest("Only a chapter with a positive price in coins can be unlocked.",
                                 details={"price_coins": price_coins})
        legs, writer_cents, platform_cents = coin_spend_legs(
            payer_id=reader_id, payee_id=writer_id, coins=price_coins, coin_value_cents=self._coin_value,
            payee_share_pct=self._pct,
        )
        result = ledger.transfer(
            session, key=f"unlock:{reader_id}:{chapter_id}", kind=TransferKind.unlock, reference=chapter_id,
            legs=legs, memo={"chapter_id": chapter_id, "writer_id": writer_id, "coins": price_coins},
        )
        if not result.created:
            # A concurrent unlock of the same chapter charged first and has committed its row.
            found = _find(session, reader_id, chapter_id)
            if found is not None:
                return UnlockResult(found, charged=False)
        row = Unlock(reader_id=reader_id, writer_id=writer_id, chapter_id=chapter_id, price_coins=price_coins,
                     writer_cents=writer_cents, platform_cents=platform_cents, transfer_id=result.transfer.id)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            found = _find(session, reader_id, chapter_id)
            if found is None:
                raise
            return UnlockResult(found, charged=False)
        return UnlockResult(row, charged=result.created)
