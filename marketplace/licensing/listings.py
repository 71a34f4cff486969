"""Listings: a writer offers a story's rights — media, territory, exclusivity, asking fee — to studios.

Only the story's author may list it, and only a story that has published chapters each with an issued
certificate of authorship: what a studio licenses is registered, timestamped text whose chain of title
it can check. A work under an upheld dispute cannot be listed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import Forbidden, InvalidRequest, InvalidTransition, NotFound
from marketplace.licensing.catalog import WorkCatalog, WorkInfo, public_work, registered_work
from marketplace.licensing.models import LicenseListing, ListingStatus
from marketplace.licensing.offers import end_negotiations
from marketplace.licensing.terms import (
    CURRENCY,
    Actor,
    money,
    normalize_media,
    normalize_territory,
    refuse_if_disputed,
)


class Listings:
    def __init__(self, *, catalog: WorkCatalog) -> None:
        self.catalog = catalog

    def public_work(self, session: Session, story_id: str) -> WorkInfo:
        return public_work(session, self.catalog, story_id)

    def registered_work(self, session: Session, story_id: str) -> WorkInfo:
        return registered_work(session, self.catalog, story_id)

    def create(self, session: Session, *, actor: Actor, story_id: str, media: str | Sequence[str],
               territory: str, exclusive: bool, asking_fee_cents: int, notes: str = "") -> LicenseListing:
        work = self.public_work(session, story_id)
        if work.author_id != actor.id:
            raise Forbidden("Only the story's author can list it.", details={"story_id": story_id})
        refuse_if_disputed(session, story_id)
        self.registered_work(session, story_id)
        if type(exclusive) is not bool:
            raise InvalidRequest("exclusive must be true or false.")
        listing = LicenseListing(
            story_id=story_id, writer_id=actor.id, media=list(normalize_media(media)),
            territory=normalize_territory(territory), exclusive=exclusive,
            asking_fee_cents=money(asking_fee_cents, "asking_fee_cents", minimum=1), currency=CURRENCY,
            notes=notes or "", status=ListingStatus.active,
        )
        session.add(listing)
        session.flush()
        return listing

    def get(self, session: Session, listing_id: str, *, for_update: bool = False) -> LicenseListing:
        query = select(LicenseListing).where(LicenseListing.id == listing_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        listing = session.scalars(query).first()
        if listing is None:
            raise NotFound("No such listing.", details={"listing_id": listing_id})
        return listing

    def close(self, session: Session, *, actor: Actor, listing_id: str) -> LicenseListing:
        """The writer takes the listing down; live negotiations on it end as ``expired``. Agreements
        already made are not affected."""
        listing = self.get(session, listing_id, for_update=True)
        if listing.writer_id != actor.id and not actor.is_admin:
            raise Forbidden("Only the listing's writer can close it.", details={"listing_id": listing_id})
        if listing.status == ListingStatus.closed:
            raise InvalidTransition("The listing is already closed.",
                                    details={"from": listing.status.value, "to": ListingStatus.closed.value})
        listing.status = ListingStatus.closed
        end_negotiations(session, listing_id=listing.id, note="listing closed")
        session.flush()
        return listing

    def suspend_story(self, session: Session, story_id: str) -> int:
        """An upheld dispute takes every active listing of the work down and ends its negotiations."""
        listings = list(session.scalars(select(LicenseListing).where(
            LicenseListing.story_id == story_id, LicenseListing.status == ListingStatus.active)))
        for listing in listings:
            listing.status = ListingStatus.suspended
        end_negotiations(session, story_id=story_id, note="work under an upheld dispute")
        return len(listings)

