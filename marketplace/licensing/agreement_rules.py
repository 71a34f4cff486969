"""The rules every license agreement obeys, in one module that each service moving agreements imports.

The agreement's state machine is :data:`TRANSITIONS`; nothing else changes ``status``::

    awaiting_payment ──pay──▶ paid_pending_grant ──grant──▶ active
        │    ▲                     │      │                  │
     cancel  └──pay (late, slot   refuse  reverse ◀──────────┘
        ▼        still free)       ▼      ▼
    cancelled                refund_pending ──refunded──▶ refunded
                                          reversed ──reinstate──▶ paid_pending_grant

Making an agreement (:mod:`.agreements`), paying for it (:mod:`.license_payments`), granting it on chain
(:mod:`.grants`) and blocking it under a dispute (:mod:`.disputes`) all move agreements. They share these
rules, not each other: so none of those services needs another to be built first, and the money side
(``Payments``, which calls the license payments as a checkout purpose) never needs the agreements back.

Money never moves for terms that collide with another license: an agreement holds its slot of the work
(work, medium, period) while it is awaiting payment, paid, active or reversed (:data:`OCCUPYING`), and
:func:`lock_work` serializes everything that may take a slot.
"""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import InvalidTransition, LicenseOverlap, NotFound
from marketplace.licensing.models import (
    AgreementStatus,
    LicenseAgreement,
    LicenseListing,
    LicensePayment,
    PaymentStatus,
)
from marketplace.licensing.terms import (
    MEDIUM_NAMES,
    Slot,
    Terms,
    first_conflict,
    grant_id,
    slots,
    work_id,
)
from registry.chain.protocol import Chain


class Event(enum.StrEnum):
    pay = "pay"
    cancel = "cancel"
    grant = "grant"
    refuse = "refuse"
    reverse = "reverse"
    reinstate = "reinstate"
    refunded = "refunded"


_S, _E = AgreementStatus, Event
TRANSITIONS: dict[tuple[AgreementStatus, Event], AgreementStatus] = {
    (_S.awaiting_payment, _E.pay): _S.paid_pending_grant,
    (_S.awaiting_payment, _E.cancel): _S.cancelled,
    (_S.cancelled, _E.pay): _S.paid_pending_grant,        # a late payment while the slot is still free
    (_S.paid_pending_grant, _E.grant): _S.active,
    (_S.paid_pending_grant, _E.refuse): _S.refund_pending,  # the chain refused, or the work was disputed
    (_S.paid_pending_grant, _E.reverse): _S.reversed,
    (_S.active, _E.reverse): _S.reversed,                   # the studio's payment refunded or charged back
    (_S.reversed, _E.reinstate): _S.paid_pending_grant,     # dispute won: granting again reads grants back
    (_S.refund_pending, _E.refunded): _S.refunded,
}
# Agreements that hold, or may come to hold, their slot of the work.
OCCUPYING = (_S.awaiting_payment, _S.paid_pending_grant, _S.active, _S.reversed)


def advance(agreement: LicenseAgreement, event: Event) -> AgreementStatus:
    after = TRANSITIONS.get((agreement.status, event))
    if after is None:
        raise InvalidTransition(f"An agreement that is {agreement.status.value} cannot take '{event.value}'.",
                                details={"from": agreement.status.value, "event": event.value})
    agreement.status = after
    return after


def locked_agreement(session: Session, agreement_id: str) -> LicenseAgreement:
    """The agreement's row, locked (``FOR UPDATE``) and re-read, for a service about to move it."""
    agreement = session.scalars(select(LicenseAgreement).where(LicenseAgreement.id == agreement_id)
                                .with_for_update().execution_options(populate_existing=True)).first()
    if agreement is None:
        raise NotFound("No such agreement.", details={"agreement_id": agreement_id})
    return agreement


def refuse(session: Session, agreement: LicenseAgreement, reason: str) -> None:
    """A paid agreement that cannot be granted: its fee goes back (the worker asks the gateway)."""
    advance(agreement, Event.refuse)
    agreement.last_error = reason[:2000]
    for payment in session.scalars(select(LicensePayment).where(
            LicensePayment.agreement_id == agreement.id, LicensePayment.applied.is_(True),
            LicensePayment.status == PaymentStatus.settled)):
        payment.status = PaymentStatus.refund_due
    session.flush()


# --- slots -----------------------------------------------------------------------------------------


def lock_work(session: Session, story_id: str) -> None:
    """Serialize whatever may take a slot of the work (an acceptance, a late payment reviving a cancelled
    agreement): every agreement comes from an offer on one of the work's listings, so locking those rows
    (``FOR UPDATE``, in id order) makes the overlap check and the insert atomic on PostgreSQL. SQLite
    serializes writers anyway (``BEGIN IMMEDIATE``)."""
    session.scalars(select(LicenseListing.id).where(LicenseListing.story_id == story_id)
                    .order_by(LicenseListing.id).with_for_update()).all()


def check_held_overlap(session: Session, story_id: str, terms: Terms, *, ref: str) -> None:
    """Refuse terms that collide with an agreement holding its slot of the work (``ref`` excepted)."""
    held: list[Slot] = []
    for other in session.scalars(select(LicenseAgreement).where(
            LicenseAgreement.story_id == story_id, LicenseAgreement.status.in_(OCCUPYING),
            LicenseAgreement.id != ref)):
        held += slots(Terms.parse(other.terms_document["terms"]), other.id)
    clash = first_conflict(held, slots(terms, ref))
    if clash is not None:
        new, old = clash
        raise LicenseOverlap(
            f"These terms overlap agreement {old.ref} for {MEDIUM_NAMES[new.medium]} rights.",
            details={"conflicting_agreement_id": old.ref, "medium": MEDIUM_NAMES[new.medium]})


def check_chain_overlap(chain: Chain, story_id: str, terms: Terms, *, ref: str) -> None:
    """The ``LicenseRegistry``'s view: every grant on the work except this agreement's own."""
    own = {grant_id(ref, m) for m in terms.media}
    granted = [Slot(g.media, g.start, g.end, g.exclusive, hex0x(g.grant_id))
               for g in chain.grants_of(work_id(story_id)) if g.grant_id not in own]
    clash = first_conflict(granted, slots(terms, ref))
    if clash is not None:
        new, old = clash
        raise LicenseOverlap(
            f"These terms overlap grant {old.ref} recorded in the LicenseRegistry for "
            f"{MEDIUM_NAMES[new.medium]} rights.",
            details={"conflicting_grant_id": old.ref, "medium": MEDIUM_NAMES[new.medium]})


def hex0x(value: bytes) -> str:
    """Bytes as the chain prints them (``0x``-hex), for grant ids, work ids and hashes."""
    return "0x" + value.hex()
