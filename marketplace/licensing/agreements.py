"""Agreements: accepted terms, frozen and hashed, awaiting the studio's payment through a checkout.

An agreement is made when a writer or a studio accepts an offer: the work's listings are locked and the
terms are checked against every agreement that holds or may hold its slot *and* against the
``LicenseRegistry`` on chain, before the agreement and its checkout exist. An unpaid agreement keeps its
slot until it is paid, cancelled, or its payment window passes. What happens next lives beside this
module: the fee's money in :mod:`.license_payments`, the grant on chain and the license certificate in
:mod:`.grants`, the state machine and the overlap checks they share in :mod:`.agreement_rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.errors import Forbidden, InvalidTransition, NotFound
from marketplace.licensing.agreement_rules import (
    Event,
    advance,
    check_chain_overlap,
    check_held_overlap,
    lock_work,
)
from marketplace.licensing.catalog import WorkCatalog, registered_work
from marketplace.licensing.models import AgreementStatus, LicenseAgreement, LicenseCertificate, LicenseOffer
from marketplace.licensing.terms import (
    Actor,
    Terms,
    licensee_address,
    refuse_if_disputed,
    terms_document,
    terms_hash,
)
from marketplace.money.models import Checkout, CheckoutStatus
from marketplace.money.payments import CheckoutOrder, Payments
from registry.chain.protocol import Chain
from registry.db import new_id, utcnow

PURPOSE = "license"  # the checkout purpose whose payments :class:`~.license_payments.LicensePayments` books


class Agreements:
    """Making, reading, paying for and cancelling agreements (the routes' and the worker's entry)."""

    def __init__(self, *, catalog: WorkCatalog, chain: Callable[[], Chain], payments: Payments,
                 payment_window: timedelta = timedelta(days=7)) -> None:
        self.catalog = catalog
        # A provider, not an instance: the chain is opened (and the embedded chain's process lock taken)
        # only when an overlap check needs it, and a replaced chain (an operator's, a test's) is seen.
        self._chain = chain
        self.payments = payments
        self.payment_window = payment_window

    # --- reading ---------------------------------------------------------------------------------
    def get(self, session: Session, agreement_id: str, *, actor: Actor | None = None,
            for_update: bool = False) -> LicenseAgreement:
        query = select(LicenseAgreement).where(LicenseAgreement.id == agreement_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        agreement = session.scalars(query).first()
        if agreement is None or (actor is not None and not actor.is_admin
                                 and actor.id not in (agreement.studio_id, agreement.writer_id)):
            raise NotFound("No such agreement.", details={"agreement_id": agreement_id})
        return agreement

    def list_for(self, session: Session, *, actor: Actor, limit: int = 100) -> list[LicenseAgreement]:
        query = select(LicenseAgreement)
        if not actor.is_admin:
            query = query.where(or_(LicenseAgreement.studio_id == actor.id,
                                    LicenseAgreement.writer_id == actor.id))
        return list(session.scalars(query.order_by(LicenseAgreement.created_at.desc()).limit(limit)))

    def of_work(self, session: Session, story_id: str) -> list[LicenseAgreement]:
        return list(session.scalars(select(LicenseAgreement).where(LicenseAgreement.story_id == story_id)
                                    .order_by(LicenseAgreement.created_at)))

    def certificate(self, session: Session, agreement_id: str) -> LicenseCertificate | None:
        return session.scalars(select(LicenseCertificate)
                               .where(LicenseCertificate.agreement_id == agreement_id)).first()

    def checkout_of(self, session: Session, agreement: LicenseAgreement) -> Checkout | None:
        return session.get(Checkout, agreement.checkout_id) if agreement.checkout_id else None

    # --- the overlap check -----------------------------------------------------------------------
    def check_overlap(self, session: Session, story_id: str, terms: Terms, *, ref: str) -> None:
        """Refuse terms that collide with an agreement holding its slot, or with a grant on chain."""
        check_held_overlap(session, story_id, terms, ref=ref)
        check_chain_overlap(self._chain(), story_id, terms, ref=ref)

    # --- making and paying -----------------------------------------------------------------------
    def create(self, session: Session, *, offer: LicenseOffer,
               now: datetime | None = None) -> LicenseAgreement:
        """The accepted offer's terms, frozen and hashed, in ``awaiting_payment`` with a checkout."""
        now = now or utcnow()
        lock_work(session, offer.story_id)
        refuse_if_disputed(session, offer.story_id)
        work = registered_work(session, self.catalog, offer.story_id)
        licensor = self.catalog.party(session, offer.writer_id)
        licensee = self.catalog.party(session, offer.studio_id)
        if licensor is None or licensee is None:
            raise NotFound("A party to this offer no longer exists.", details={"offer_id": offer.id})
        terms = Terms.parse(offer.terms)
        agreement_id = new_id()
        self.check_overlap(session, offer.story_id, terms, ref=agreement_id)
        address = licensee_address(licensee)
        document = terms_document(agreement_id=agreement_id, work=work, licensor=licensor, licensee=licensee,
                                  licensee_address=address, terms=terms)
        agreement = LicenseAgreement(
            id=agreement_id, offer_id=offer.id, listing_id=offer.listing_id, story_id=offer.story_id,
            writer_id=offer.writer_id, studio_id=offer.studio_id, status=AgreementStatus.awaiting_payment,
            terms_document=document, terms_hash=terms_hash(document), fee_cents=terms.fee_cents,
            licensee_address=address, work_id=document["work"]["work_id"], grants=[],
            payment_due_at=now + self.payment_window, created_at=now,
        )
        session.add(agreement)
        session.flush()
        self._open_checkout(session, agreement)
        return agreement

    def _open_checkout(self, session: Session, agreement: LicenseAgreement) -> Checkout:
        title = agreement.terms_document["work"]["title"]
        media = ", ".join(agreement.terms_document["terms"]["media"])
        order = CheckoutOrder(
            purpose=PURPOSE, reference=agreement.id, description=f"License: {title} ({media})"[:200],
            amount_cents=agreement.fee_cents, currency=agreement.currency,
            attributes={"agreement_id": agreement.id, "story_id": agreement.story_id},
        )
        checkout = self.payments.start_checkout(session, user_id=agreement.studio_id, order=order)
        agreement.checkout_id = checkout.id
        session.flush()
        return checkout

    def checkout(self, session: Session, *, actor: Actor, agreement_id: str) -> Checkout:
        """The studio's way to pay: the agreement's open checkout, or a new one if it expired or failed."""
        agreement = self.get(session, agreement_id, actor=actor, for_update=True)
        if actor.id != agreement.studio_id:
            raise Forbidden("Only the licensee pays for the license.", details={"agreement_id": agreement_id})
        if agreement.status != AgreementStatus.awaiting_payment:
            raise InvalidTransition("This agreement is not awaiting payment.",
                                    details={"from": agreement.status.value, "event": Event.pay.value})
        refuse_if_disputed(session, agreement.story_id)
        current = self.checkout_of(session, agreement)
        if current is not None and current.status in (CheckoutStatus.open, CheckoutStatus.paid):
            return current
        return self._open_checkout(session, agreement)

    def cancel(self, session: Session, *, actor: Actor, agreement_id: str) -> LicenseAgreement:
        """The studio (or an admin) walks away from an unpaid agreement; its slot is freed."""
        agreement = self.get(session, agreement_id, actor=actor, for_update=True)
        if actor.id != agreement.studio_id and not actor.is_admin:
            raise Forbidden("Only the licensee or an admin cancels an unpaid agreement.")
        advance(agreement, Event.cancel)
        by = "the licensee" if actor.id == agreement.studio_id else "an admin"
        agreement.last_error = f"cancelled by {by}"
        session.flush()
        return agreement

    def cancel_overdue(self, session: Session, *, now: datetime | None = None) -> int:
        now = now or utcnow()
        overdue = list(session.scalars(select(LicenseAgreement).where(
            LicenseAgreement.status == AgreementStatus.awaiting_payment,
            LicenseAgreement.payment_due_at <= now).with_for_update(skip_locked=True)))
        for agreement in overdue:
            advance(agreement, Event.cancel)
            agreement.last_error = "payment window passed"
        session.flush()
        return len(overdue)
