"""Content's :class:`~content.access.ReadGrants` port answered by the marketplace.

Content decides who reads a paid chapter but does not know about coins or subscriptions; the marketplace
knows those but not chapters' rules. The gateway, which may import both, joins them here, and the
Container passes the result to content's functions (``container.read_grants``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.money.subscriptions import Subscriptions
from marketplace.money.unlocks import has_unlocked


class MarketplaceReadGrants:
    """Unlocks paid in coins, and subscriptions active now."""

    def __init__(self, *, subscriptions: Subscriptions) -> None:
        self._subscriptions = subscriptions

    def has_unlocked(self, session: Session, reader_id: str, chapter_id: str) -> bool:
        return has_unlocked(session, reader_id, chapter_id)

    def is_subscribed(self, session: Session, user_id: str) -> bool:
        return self._subscriptions.is_subscribed(session, user_id)
