"""Offers: a studio and a writer negotiate a license on a listing, under one state machine.

The whole machine is :data:`TRANSITIONS`; no other code changes an offer's status::

    open ──counter──▶ countered ──counter──▶ countered …
     │                    │
     ├─accept────────────┼──▶ accepted   (becomes an agreement awaiting payment)
     ├─reject────────────┼──▶ rejected
     ├─withdraw──────────┼──▶ withdrawn
     └─expire────────────┴──▶ expired    (nobody answered in time, the listing closed, the work was disputed)

Whose move it is follows from ``proposed_by``, the party whose terms are on the table: the *other* party
answers them (counter, accept, reject) and the proposer may take them back (withdraw). So a studio cannot
accept its own offer, and a writer who countered waits for the studio. Any move the table does not allow
— from a final state, or by the wrong party — is ``INVALID_STATE_TRANSITION`` (409). People who are not
a party do not see the offer at all (404); admins see every offer but do not negotiate.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.errors import (
    Forbidden,
    InvalidRequest,
    InvalidTransition,
    LicenseTermEnded,
    LicenseTermInPast,
    ListingClosed,
    NotFound,
)
from marketplace.licensing.agreements import Agreements
from marketplace.licensing.models import (
    LicenseListing,
    LicenseOffer,
    ListingStatus,
    OfferEvent,
    OfferStatus,
)
from marketplace.licensing.terms import Actor, Terms, iso_seconds, refuse_if_disputed
from registry.db import utcnow


class Action(enum.StrEnum):
    counter = "counter"
    accept = "accept"
    reject = "reject"
    withdraw = "withdraw"
    expire = "expire"


class Mover(enum.StrEnum):
    """Who may make a move: the party answering the terms on the table, the party who proposed them,
    or the system (time, a closed listing, a dispute)."""

    answerer = "answerer"
    proposer = "proposer"
    system = "system"


_O, _A, _M = OfferStatus, Action, Mover
TRANSITIONS: dict[tuple[OfferStatus, Action], tuple[OfferStatus, Mover]] = {
    (_O.open, _A.counter): (_O.countered, _M.answerer),
    (_O.open, _A.accept): (_O.accepted, _M.answerer),
    (_O.open, _A.reject): (_O.rejected, _M.answerer),
    (_O.open, _A.withdraw): (_O.withdrawn, _M.proposer),
    (_O.open, _A.expire): (_O.expired, _M.system),
    (_O.countered, _A.counter): (_O.countered, _M.answerer),
    (_O.countered, _A.accept): (_O.accepted, _M.answerer),
    (_O.countered, _A.reject): (_O.rejected, _M.answerer),
    (_O.countered, _A.withdraw): (_O.withdrawn, _M.proposer),
    (_O.countered, _A.expire): (_O.expired, _M.system),
}
LIVE = frozenset(s for s, _ in TRANSITIONS)
STUDIO, WRITER, SYSTEM = "studio", "writer", "system"


def answerer(offer: LicenseOffer) -> str:
    return WRITER if offer.proposed_by == STUDIO else STUDIO


def next_status(offer: LicenseOffer, action: Action, party: str) -> OfferStatus:
    """The table lookup, with the mover check; raises ``INVALID_STATE_TRANSITION`` for anything else."""
    found = TRANSITIONS.get((offer.status, action))
    if found is None:
        allowed = sorted(a.value for s, a in TRANSITIONS if s == offer.status and a != Action.expire)
        raise InvalidTransition(f"An offer that is {offer.status.value} cannot be {action.value}ed.",
                                details={"from": offer.status.value, "action": action.value,
                                         "allowed": allowed})
    status, mover = found
    expected = {Mover.answerer: answerer(offer), Mover.proposer: offer.proposed_by,
                Mover.system: SYSTEM}[mover]
    if party != expected:
        raise InvalidTransition(
            f"Only the {expected} can {action.value} now: "
            f"the terms on the table are the {offer.proposed_by}'s.",
            details={"from": offer.status.value, "action": action.value, "party": party,
                     "turn": answerer(offer), "proposed_by": offer.proposed_by})
    return status


def move(session: Session, offer: LicenseOffer, action: Action, *, party: str, actor_id: str | None,
         terms: Mapping[str, Any] | None = None, note: str | None = None) -> OfferStatus:
    """Apply one transition and record it in the offer's history."""
    before = offer.status
    after = next_status(offer, action, party)
    session.add(OfferEvent(offer_id=offer.id, action=action.value, actor_id=actor_id, party=party,
                           from_status=before.value, to_status=after.value,
                           terms=dict(terms) if terms is not None else None, note=note))
    offer.status = after
    return after


def end_negotiations(session: Session, *, note: str, listing_id: str | None = None,
                     story_id: str | None = None) -> int:
    """Expire every live offer on a listing (or on every listing of a story), recording why."""
    query = select(LicenseOffer).where(LicenseOffer.status.in_(LIVE))
    query = query.where(LicenseOffer.listing_id == listing_id) if listing_id else \
        query.where(LicenseOffer.story_id == story_id)
    offers = list(session.scalars(query.order_by(LicenseOffer.id).with_for_update()))
    for offer in offers:
        move(session, offer, Action.expire, party=SYSTEM, actor_id=None, note=note)
    session.flush()
    return len(offers)


def _refuse_ended(terms: Terms, now: datetime, error: type[LicenseTermInPast | LicenseTermEnded]) -> None:
    """A license whose whole period lies in the past grants nothing: refused when offered or countered
    (422 ``LICENSE_TERM_IN_PAST``) and when accepted after it ran out (409 ``LICENSE_TERM_ENDED``)."""
    if terms.end <= now:
        raise error("The license period has already ended.",
                    details={"end": iso_seconds(terms.end), "now": iso_seconds(now)})


class Offers:
    def __init__(self, *, agreements: Agreements, ttl: timedelta = timedelta(days=14)) -> None:
        if ttl <= timedelta(0):
            raise InvalidRequest("the offer time-to-live must be positive")
        self.agreements = agreements
        self.ttl = ttl

    # --- reading ---------------------------------------------------------------------------------
    def get(self, session: Session, offer_id: str, *, actor: Actor, for_update: bool = False) -> LicenseOffer:
        query = select(LicenseOffer).where(LicenseOffer.id == offer_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        offer = session.scalars(query).first()
        if offer is None or not (actor.is_admin or actor.id in (offer.studio_id, offer.writer_id)):
            raise NotFound("No such offer.", details={"offer_id": offer_id})
        return offer

    def list_for(self, session: Session, *, actor: Actor, status: OfferStatus | None = None,
                 limit: int = 100) -> list[LicenseOffer]:
        query = select(LicenseOffer)
        if not actor.is_admin:
            query = query.where(or_(LicenseOffer.studio_id == actor.id, LicenseOffer.writer_id == actor.id))
        if status is not None:
            query = query.where(LicenseOffer.status == status)
        query = query.order_by(LicenseOffer.updated_at.desc(), LicenseOffer.id).limit(limit)
        return list(session.scalars(query))

    def history(self, session: Session, offer: LicenseOffer) -> list[OfferEvent]:
        return list(session.scalars(select(OfferEvent).where(OfferEvent.offer_id == offer.id)
                                    .order_by(OfferEvent.id)))

    # --- moves -----------------------------------------------------------------------------------
    def make(self, session: Session, *, actor: Actor, listing: LicenseListing, terms: Mapping[str, Any],
             now: datetime | None = None) -> LicenseOffer:
        """A studio's first terms on an active listing."""
        now = now or utcnow()
        if actor.is_admin:
            raise Forbidden("Admins do not negotiate licenses; a studio account makes offers.")
        if listing.writer_id == actor.id:
            raise InvalidRequest("Writers do not make offers on their own listings.")
        parsed = self._fitting_terms(session, listing, terms)
        _refuse_ended(parsed, now, LicenseTermInPast)
        offer = LicenseOffer(listing_id=listing.id, story_id=listing.story_id, studio_id=actor.id,
                             writer_id=listing.writer_id, status=OfferStatus.open, terms=parsed.to_json(),
                             fee_cents=parsed.fee_cents, proposed_by=STUDIO, round=1,
                             expires_at=now + self.ttl)
        session.add(offer)
        session.flush()
        session.add(OfferEvent(offer_id=offer.id, action="offer", actor_id=actor.id, party=STUDIO,
                               from_status=None, to_status=OfferStatus.open.value, terms=offer.terms))
        session.flush()
        return offer

    def act(self, session: Session, *, actor: Actor, offer_id: str, action: Action,
            terms: Mapping[str, Any] | None = None, now: datetime | None = None) -> LicenseOffer:
        """counter / accept / reject / withdraw by one of the two parties. Accepting creates the agreement
        (refused, with the offer unchanged, if the terms now overlap another license)."""
        now = now or utcnow()
        offer = self.get(session, offer_id, actor=actor, for_update=True)
        if actor.id == offer.studio_id:
            party = STUDIO
        elif actor.id == offer.writer_id:
            party = WRITER
        else:
            raise Forbidden("Only the studio and the writer negotiate an offer.",
                            details={"offer_id": offer_id})
        if action == Action.expire:
            raise InvalidTransition("Offers expire by themselves.", details={"action": action.value})
        if offer.status in LIVE and offer.expires_at <= now:
            move(session, offer, Action.expire, party=SYSTEM, actor_id=None, note="no answer in time")
            session.flush()
        next_status(offer, action, party)  # refuse a wrong move before any other check
        listing = session.get(LicenseListing, offer.listing_id)
        if action == Action.counter:
            parsed = self._fitting_terms(session, listing, terms or {})
            _refuse_ended(parsed, now, LicenseTermInPast)
            offer.terms, offer.fee_cents = parsed.to_json(), parsed.fee_cents
            move(session, offer, action, party=party, actor_id=actor.id, terms=offer.terms)
            offer.proposed_by, offer.round, offer.expires_at = party, offer.round + 1, now + self.ttl
        elif action == Action.accept:
            _refuse_ended(self._fitting_terms(session, listing, offer.terms), now, LicenseTermEnded)
            agreement = self.agreements.create(session, offer=offer, now=now)
            move(session, offer, action, party=party, actor_id=actor.id, note=f"agreement {agreement.id}")
            offer.agreement_id = agreement.id
        else:
            move(session, offer, action, party=party, actor_id=actor.id)
        offer.updated_at = now
        session.flush()
        return offer

    def expire_due(self, session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
        """The worker's sweep: live offers past ``expires_at`` become ``expired``."""
        now = now or utcnow()
        offers = list(session.scalars(
            select(LicenseOffer).where(LicenseOffer.status.in_(LIVE), LicenseOffer.expires_at <= now)
            .order_by(LicenseOffer.expires_at).limit(limit).with_for_update(skip_locked=True)))
        for offer in offers:
            move(session, offer, Action.expire, party=SYSTEM, actor_id=None, note="no answer in time")
        session.flush()
        return len(offers)

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _fitting_terms(session: Session, listing: LicenseListing | None, raw: Mapping[str, Any]) -> Terms:
        """Terms must stay inside what the listing offers: its media, and exclusivity only if offered."""
        if listing is None or listing.status != ListingStatus.active:
            raise ListingClosed("The listing is not open for offers.",
                                details={"listing_status": listing.status.value if listing else None})
        refuse_if_disputed(session, listing.story_id)
        terms = Terms.parse(raw)
        outside = sorted(set(terms.media) - set(listing.media))
        if outside:
            raise InvalidRequest(f"The listing does not offer {', '.join(outside)} rights.",
                                 details={"listing_media": listing.media, "requested": list(terms.media)})
        if terms.exclusive and not listing.exclusive:
            raise InvalidRequest("The listing offers non-exclusive rights only.")
        return terms
