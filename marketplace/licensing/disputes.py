"""Disputes: a writer who finds their registered work copied in another registered work says so, with the
registry's evidence; an admin rules.

The evidence is the registry's own exact comparison (``registry.evidence.compare``, the check that
confirms plagiarism candidates before a registration is refused) of the two registrations' stored
fingerprints: Jaccard, containment, coverage and the copied passages located in both texts. Nothing the
complainant types is evidence; a pair of registrations in which the registry locates no copied passage
cannot be disputed.

State machine (:data:`TRANSITIONS`)::

    open ──uphold──▶ upheld ──settle──▶ settled
      ├──dismiss──▶ dismissed
      └──withdraw─▶ withdrawn

An upheld (or settled) dispute blocks the copying work: its listings are suspended and its negotiations
end, it cannot be listed or licensed, unpaid agreements on it are cancelled, paid but ungranted ones are
refunded; licenses already active stay (an admin may refund them through the payments API). While a
dispute is ``upheld`` its respondent's payouts are frozen (:meth:`Disputes.payout_guard`): earnings are one
account per writer in the ledger, so the whole balance waits rather than a guessed part of it. ``settled``
— the remedy is done (studios refunded, text taken down) — lifts the freeze; the work stays blocked.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, Forbidden, InvalidRequest, InvalidTransition, NotFound, WorkDisputed
from marketplace.licensing.agreement_rules import Event, advance, refuse
from marketplace.licensing.listings import Listings
from marketplace.licensing.models import AgreementStatus, Dispute, DisputeStatus, LicenseAgreement
from marketplace.licensing.terms import Actor
from registry.certificate import iso_utc
from registry.db import utcnow
from registry.errors import ConfigurationError
from registry.evidence import compare
from registry.fingerprint import Fingerprint
from registry.models import Registration


class Ruling(enum.StrEnum):
    uphold = "uphold"
    dismiss = "dismiss"
    withdraw = "withdraw"
    settle = "settle"


_D, _R = DisputeStatus, Ruling
TRANSITIONS: dict[tuple[DisputeStatus, Ruling], DisputeStatus] = {
    (_D.open, _R.uphold): _D.upheld,
    (_D.open, _R.dismiss): _D.dismissed,
    (_D.open, _R.withdraw): _D.withdrawn,
    (_D.upheld, _R.settle): _D.settled,
}


def _registration(session: Session, registration_id: str) -> Registration:
    reg = session.get(Registration, registration_id)
    if reg is None:
        raise NotFound("No such registration.", details={"registration_id": registration_id})
    return reg


def _registered_at(reg: Registration) -> tuple[datetime, datetime]:
    """Priority: the RFC 3161 time (whole seconds for most TSAs), then our own insertion time."""
    return (reg.tsa_gen_time or reg.created_at, reg.created_at)


def _summary(reg: Registration) -> dict[str, Any]:
    return {"registration_id": reg.id, "certificate_id": reg.certificate_id, "work_id": reg.work_id,
            "story_id": reg.story_id, "chapter_id": reg.chapter_id, "title": reg.title,
            "author_id": reg.author_id,
            "author_name": reg.author_name, "sha256": reg.sha256,
            "registered_at": iso_utc(reg.tsa_gen_time or reg.created_at)}


class Disputes:
    def __init__(self, *, listings: Listings,
                 open_fingerprint: Callable[[Registration], Fingerprint]) -> None:
        self.listings = listings
        self.open_fingerprint = open_fingerprint  # stored fingerprints are sealed: the registry opens them

    def file(self, session: Session, *, actor: Actor, original_registration_id: str,
             copy_registration_id: str, statement: str = "") -> Dispute:
        original = _registration(session, original_registration_id)
        copy = _registration(session, copy_registration_id)
        if original.author_id != actor.id:
            raise Forbidden("A dispute is filed by the author of the original registration.",
                            details={"original_registration_id": original.id})
        if copy.author_id == actor.id:
            raise InvalidRequest("Both registrations are yours: an edit is a new version, not a copy.")
        if copy.story_id is None:
            raise InvalidRequest("The copy is not a story published on Legato; there is nothing to block.")
        if _registered_at(original) >= _registered_at(copy):
            raise InvalidRequest("The original must have been registered before the copy.",
                                 details={"original": _summary(original), "copy": _summary(copy)})
        duplicate = session.scalars(select(Dispute.id).where(
            Dispute.original_registration_id == original.id, Dispute.copy_registration_id == copy.id,
            Dispute.status.in_((DisputeStatus.open, DisputeStatus.upheld, DisputeStatus.settled)))).first()
        if duplicate is not None:
            raise Conflict("This dispute has been filed already.", details={"dispute_id": duplicate})
        try:
            match = compare(self.open_fingerprint(copy), self.open_fingerprint(original), key=copy.id)
        except ConfigurationError as e:
            raise InvalidRequest("The two registrations cannot be compared.",
                                 details={"reason": e.message}) from e
        if not match.passages:
            raise InvalidRequest("The registry finds no passage of the original in the copy.",
                                 details={"original": _summary(original), "copy": _summary(copy)})
        dispute = Dispute(
            complainant_id=actor.id, respondent_id=copy.author_id, story_id=copy.story_id,
            original_registration_id=original.id, copy_registration_id=copy.id, statement=statement or "",
            evidence={"original": _summary(original), "copy": _summary(copy), "match": match.to_dict()},
            status=DisputeStatus.open,
        )
        session.add(dispute)
        session.flush()
        return dispute

    def get(self, session: Session, dispute_id: str, *, actor: Actor, for_update: bool = False) -> Dispute:
        query = select(Dispute).where(Dispute.id == dispute_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        dispute = session.scalars(query).first()
        parties = (dispute.complainant_id, dispute.respondent_id) if dispute is not None else ()
        if dispute is None or not (actor.is_admin or actor.id in parties):
            raise NotFound("No such dispute.", details={"dispute_id": dispute_id})
        return dispute

    def list_for(self, session: Session, *, actor: Actor,
                 status: DisputeStatus | None = None) -> list[Dispute]:
        query = select(Dispute)
        if not actor.is_admin:
            query = query.where(or_(Dispute.complainant_id == actor.id, Dispute.respondent_id == actor.id))
        if status is not None:
            query = query.where(Dispute.status == status)
        return list(session.scalars(query.order_by(Dispute.created_at.desc()).limit(200)))

    def of_work(self, session: Session, story_id: str) -> list[Dispute]:
        return list(session.scalars(select(Dispute).where(Dispute.story_id == story_id)
                                    .order_by(Dispute.created_at)))

    def rule(self, session: Session, *, actor: Actor, dispute_id: str, ruling: Ruling,
             note: str | None = None, now: datetime | None = None) -> Dispute:
        """uphold / dismiss / settle by an admin, withdraw by the complainant."""
        dispute = self.get(session, dispute_id, actor=actor, for_update=True)
        if ruling == Ruling.withdraw and actor.id != dispute.complainant_id:
            raise Forbidden("Only the complainant withdraws a dispute.")
        if ruling != Ruling.withdraw and not actor.is_admin:
            raise Forbidden("Disputes are resolved by an admin.")
        after = TRANSITIONS.get((dispute.status, ruling))
        if after is None:
            raise InvalidTransition(f"A dispute that is {dispute.status.value} cannot take '{ruling.value}'.",
                                    details={"from": dispute.status.value, "ruling": ruling.value})
        dispute.status = after
        dispute.resolution_note = note if note is not None else dispute.resolution_note
        dispute.resolved_by, dispute.resolved_at = actor.id, now or utcnow()
        if after == DisputeStatus.upheld:
            self._block(session, dispute)
        session.flush()
        return dispute

    def _block(self, session: Session, dispute: Dispute) -> None:
        self.listings.suspend_story(session, dispute.story_id)
        reason = f"work under upheld dispute {dispute.id}"
        for agreement in session.scalars(select(LicenseAgreement).where(
                LicenseAgreement.story_id == dispute.story_id,
                LicenseAgreement.status.in_((AgreementStatus.awaiting_payment,
                                             AgreementStatus.paid_pending_grant)))
                .order_by(LicenseAgreement.id).with_for_update()):
            if agreement.status == AgreementStatus.awaiting_payment:
                advance(agreement, Event.cancel)
                agreement.last_error = reason
            else:
                refuse(session, agreement, reason)

    @staticmethod
    def payout_guard(session: Session, user_id: str) -> None:
        """For :class:`~marketplace.money.payouts.Payouts`: no payout while an upheld dispute names the
        writer."""
        upheld = session.scalars(select(Dispute.id).where(Dispute.respondent_id == user_id,
                                                          Dispute.status == DisputeStatus.upheld)).first()
        if upheld is not None:
            raise WorkDisputed(
                "Payouts are frozen while an upheld dispute against your work is being remedied.",
                details={"dispute_id": upheld})
