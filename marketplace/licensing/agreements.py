"""Agreements: accepted terms, frozen and hashed, paid through a checkout, granted on chain, certified.

The agreement's state machine is :data:`TRANSITIONS`; nothing else changes ``status``::

    awaiting_payment ──pay──▶ paid_pending_grant ──grant──▶ active
        │    ▲                     │      │                  │
     cancel  └──pay (late, slot   refuse  reverse ◀──────────┘
        ▼        still free)       ▼      ▼
    cancelled                refund_pending ──refunded──▶ refunded
                                          reversed ──reinstate──▶ paid_pending_grant

Money never moves for terms that collide with another license: when an offer is accepted the work's
listings are locked and the terms are checked against every agreement that holds or may hold its slot
(awaiting payment, paid, active, reversed) *and* against the ``LicenseRegistry`` on chain, before the
agreement and its checkout exist. An unpaid agreement keeps its slot until it is paid, cancelled, or its
payment window passes.

The chain is never called inside a database transaction: :meth:`Agreements.grant_one` claims the agreement
(one caller at a time, under a lease) while it reads what to grant, commits, sends one grant per medium
(idempotent on the derived ``grantId``, so a retry after a crash or a lost receipt reads the earlier grant
back), then records the receipts and issues the license certificate
in a second transaction. Chain down → the agreement stays ``paid_pending_grant`` and the worker retries;
chain refuses (an overlapping grant appeared) → ``refund_pending`` and the fee goes back.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from marketplace.errors import Forbidden, InvalidRequest, InvalidTransition, LicenseOverlap, NotFound
from marketplace.licensing.certificate import build_license, sign_document
from marketplace.licensing.listings import registered_work
from marketplace.licensing.models import (
    AgreementStatus,
    LicenseAgreement,
    LicenseCertificate,
    LicenseListing,
    LicenseOffer,
    LicensePayment,
    PaymentStatus,
)
from marketplace.licensing.terms import (
    MEDIA,
    MEDIUM_NAMES,
    Actor,
    Slot,
    Terms,
    WorkCatalog,
    blocking_dispute,
    first_conflict,
    grant_id,
    licensee_address,
    refuse_if_disputed,
    slots,
    terms_document,
    terms_hash,
    work_id,
)
from marketplace.money.models import Checkout, CheckoutStatus
from marketplace.money.payments import CheckoutOrder
from registry import certificate as cert_mod
from registry.chain import Chain, LicenseReceipt
from registry.db import new_id, utcnow
from registry.errors import ChainError, PinningUnavailable, Unavailable
from registry.errors import LicenseOverlap as ChainLicenseOverlap
from registry.ipfs import Pinner, cid_for_bytes
from registry.signing import PlatformKey

if TYPE_CHECKING:
    from marketplace.money.payments import Payments

log = logging.getLogger("legato.licensing")
PURPOSE = "license"


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


def lock_work(session: Session, story_id: str) -> None:
    """Serialize whatever may take a slot of the work (an acceptance, a late payment reviving a cancelled
    agreement): every agreement comes from an offer on one of the work's listings, so locking those rows
    (``FOR UPDATE``, in id order) makes the overlap check and the insert atomic on PostgreSQL. SQLite
    serializes writers anyway (``BEGIN IMMEDIATE``)."""
    session.scalars(select(LicenseListing.id).where(LicenseListing.story_id == story_id)
                    .order_by(LicenseListing.id).with_for_update()).all()


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


class Agreements:
    def __init__(
        self, *, catalog: WorkCatalog, chain: Callable[[], Chain], signer: PlatformKey, pinner: Pinner,
        payments: Callable[[], Payments], payment_window: timedelta = timedelta(days=7),
        retry_after: timedelta = timedelta(seconds=30), grant_lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self.catalog = catalog
        # Providers, not instances: the chain is opened (and the embedded chain's process lock taken) only
        # when a grant or an overlap check needs it, and Payments is built with this service as a purpose.
        self._chain = chain
        self._payments = payments
        self.signer = signer
        self.pinner = pinner
        self.payment_window = payment_window
        self.retry_after = retry_after
        # Longer than a grant can take (a resent transaction, confirmations), so a live holder keeps it.
        self.grant_lease = grant_lease

    @property
    def chain(self) -> Chain:
        return self._chain()

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
    def check_overlap(self, session: Session, story_id: str, terms: Terms, *, ref: str,
                      on_chain: bool = True) -> None:
        """Refuse terms that collide with an agreement holding its slot, or with a grant on chain."""
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
        if on_chain:
            self.check_overlap_on_chain(story_id, terms, ref=ref)

    def check_overlap_on_chain(self, story_id: str, terms: Terms, *, ref: str) -> None:
        """The ``LicenseRegistry``'s view: every grant on the work except this agreement's own."""
        own = {grant_id(ref, m) for m in terms.media}
        granted = [Slot(g.media, g.start, g.end, g.exclusive, _hex(g.grant_id))
                   for g in self.chain.grants_of(work_id(story_id)) if g.grant_id not in own]
        clash = first_conflict(granted, slots(terms, ref))
        if clash is not None:
            new, old = clash
            raise LicenseOverlap(
                f"These terms overlap grant {old.ref} recorded in the LicenseRegistry for "
                f"{MEDIUM_NAMES[new.medium]} rights.",
                details={"conflicting_grant_id": old.ref, "medium": MEDIUM_NAMES[new.medium]})

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
        checkout = self._payments().start_checkout(session, user_id=agreement.studio_id, order=order)
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

    def refuse(self, session: Session, agreement: LicenseAgreement, reason: str) -> None:
        """A paid agreement that cannot be granted: its fee goes back (the worker asks the gateway)."""
        advance(agreement, Event.refuse)
        agreement.last_error = reason[:2000]
        for payment in session.scalars(select(LicensePayment).where(
                LicensePayment.agreement_id == agreement.id, LicensePayment.applied.is_(True),
                LicensePayment.status == PaymentStatus.settled)):
            payment.status = PaymentStatus.refund_due
        session.flush()

    # --- granting on chain -----------------------------------------------------------------------
    def grant_due(self, sessions: sessionmaker[Session], *, now: datetime | None = None,
                  limit: int = 20) -> dict[str, str]:
        now = now or utcnow()
        with sessions.begin() as session:
            ids = list(session.scalars(select(LicenseAgreement.id).where(
                LicenseAgreement.status == AgreementStatus.paid_pending_grant,
                or_(LicenseAgreement.next_attempt_at.is_(None), LicenseAgreement.next_attempt_at <= now))
                .order_by(LicenseAgreement.paid_at).limit(limit)))
        return {agreement_id: self.grant_one(sessions, agreement_id, now=now) for agreement_id in ids}

    def grant_one(self, sessions: sessionmaker[Session], agreement_id: str, *,
                  now: datetime | None = None) -> str:
        """Grant one paid agreement on chain. Only the holder of the agreement's grant claim talks to
        the chain: the claim is taken in the same transaction that checks the status, so a payment's
        own grant and a worker round racing it cannot both send (and then mistake the other's grant for
        an overlap). A claim whose lease ran out (its holder died) can be taken over; the grant ids are
        derived, so the new holder reads back whatever the old one managed to record."""
        now = now or utcnow()
        claim = new_id()
        with sessions.begin() as session:
            agreement = self.get(session, agreement_id, for_update=True)
            if agreement.status != AgreementStatus.paid_pending_grant:
                return f"skipped ({agreement.status.value})"
            if agreement.grant_claimed_until is not None and agreement.grant_claimed_until > now:
                return "skipped (being granted)"
            dispute = blocking_dispute(session, agreement.story_id)
            if dispute is not None:
                self.refuse(session, agreement, f"work under upheld dispute {dispute.id}")
                return "refused: work disputed"
            agreement.grant_claim, agreement.grant_claimed_until = claim, now + self.grant_lease
            terms = Terms.parse(agreement.terms_document["terms"])
            story_id, address, digest = agreement.story_id, agreement.licensee_address, agreement.terms_hash
        try:
            self.check_overlap_on_chain(story_id, terms, ref=agreement_id)
            receipts = [self._grant_medium(agreement_id, story_id, address, digest, terms, medium)
                        for medium in terms.media]
        except (LicenseOverlap, ChainLicenseOverlap) as e:
            with sessions.begin() as session:
                agreement = self.get(session, agreement_id, for_update=True)
                if not self._holds(agreement, claim):
                    return "skipped (claim lost)"
                self._release(agreement)
                self.refuse(session, agreement, f"{e.code}: {e.message}")
            log.warning("license grant refused", extra={"agreement_id": agreement_id, "error": e.message})
            return "refused: overlap"
        except (Unavailable, ChainError, ValueError) as e:
            with sessions.begin() as session:
                agreement = self.get(session, agreement_id, for_update=True)
                if not self._holds(agreement, claim):
                    return "skipped (claim lost)"
                self._release(agreement)
                agreement.grant_attempts += 1
                agreement.last_error = f"{getattr(e, 'code', type(e).__name__)}: {e}"[:2000]
                agreement.next_attempt_at = now + self.retry_after * min(agreement.grant_attempts, 20)
            log.warning("license grant deferred", extra={"agreement_id": agreement_id, "error": str(e)})
            return "waiting for the chain"
        with sessions.begin() as session:
            agreement = self.get(session, agreement_id, for_update=True)
            if not self._holds(agreement, claim):
                return f"skipped ({agreement.status.value}, claim lost)"
            self._release(agreement)
            agreement.grants = [self._grant_json(medium, receipt)
                                for medium, receipt in zip(terms.media, receipts, strict=True)]
            advance(agreement, Event.grant)
            agreement.activated_at = agreement.activated_at or now
            agreement.last_error, agreement.next_attempt_at = None, None
            if self.certificate(session, agreement.id) is None:
                self.issue_certificate(session, agreement, now=now)
        log.info("license granted", extra={"agreement_id": agreement_id, "tx": receipts[0].tx_hash})
        return "active"

    def _grant_medium(self, agreement_id: str, story_id: str, address: str, digest: str, terms: Terms,
                      medium: str) -> LicenseReceipt:
        """Send one medium's grant. A refusal that names this very grant is not an overlap: the grant
        was recorded (by a holder whose lease ran out, or before a crash) between the chain adapter's
        look-up and its conflict check, so it is read back and, if its terms are ours, used."""
        gid = grant_id(agreement_id, medium)
        try:
            return self.chain.grant_license(
                grant_id=gid, work_id=work_id(story_id), licensee=address, terms_hash=bytes.fromhex(digest),
                media=MEDIA[medium], start=terms.period[0], end=terms.period[1], exclusive=terms.exclusive)
        except ChainLicenseOverlap as e:
            if str(e.details.get("conflicting_grant_id", "")).lower() != _hex(gid):
                raise
            own = self.chain.find_grant(gid)
            if own is None:
                raise ChainError("this agreement's own grant is not readable yet",
                                 details={"grant_id": _hex(gid)}) from e
            if own.grant.terms_hash != bytes.fromhex(digest):
                raise ChainError("this agreement's grant id holds other terms on chain",
                                 details={"grant_id": _hex(gid)}) from e
            return own

    @staticmethod
    def _holds(agreement: LicenseAgreement, claim: str) -> bool:
        return agreement.status == AgreementStatus.paid_pending_grant and agreement.grant_claim == claim

    @staticmethod
    def _release(agreement: LicenseAgreement) -> None:
        agreement.grant_claim, agreement.grant_claimed_until = None, None

    @staticmethod
    def _grant_json(medium: str, r: LicenseReceipt) -> dict[str, Any]:
        g = r.grant
        return {"medium": medium, "media_code": g.media, "grant_id": _hex(g.grant_id),
                "work_id": _hex(g.work_id), "licensee": g.licensee, "terms_hash": _hex(g.terms_hash),
                "start": g.start, "end": g.end, "exclusive": g.exclusive, "chain_id": r.chain_id,
                "contract": r.contract, "tx_hash": r.tx_hash, "block_number": r.block_number,
                "granted_at": g.granted_at}

    # --- the license certificate -----------------------------------------------------------------
    def issue_certificate(self, session: Session, agreement: LicenseAgreement, *,
                          now: datetime | None = None) -> LicenseCertificate:
        payment = session.scalars(select(LicensePayment).where(
            LicensePayment.agreement_id == agreement.id, LicensePayment.applied.is_(True))).first()
        if payment is None:
            raise InvalidRequest("An agreement without a payment cannot be certified.",
                                 details={"agreement_id": agreement.id})
        receipt = cert_mod.json_loads(payment.receipt)
        certificate_id = new_id()
        body = sign_document(build_license(
            certificate_id=certificate_id, issued_at=now or utcnow(), agreement_id=agreement.id,
            terms_document=agreement.terms_document, terms_hash=agreement.terms_hash, receipt=receipt,
            receipt_bytes=payment.receipt, grants=agreement.grants), self.signer)
        row = LicenseCertificate(id=certificate_id, agreement_id=agreement.id, body=body,
                                 cid=cid_for_bytes(body))
        session.add(row)
        session.flush()
        self._pin(row)
        return row

    def _pin(self, row: LicenseCertificate) -> None:
        try:
            cid = self.pinner.add(row.body, name=f"legato-license-{row.agreement_id}")
        except PinningUnavailable as e:
            log.warning("license certificate pin deferred", extra={"agreement_id": row.agreement_id,
                                                                    "error": e.message})
            return
        if cid == row.cid:
            row.pinned_at = utcnow()
        else:
            log.error("pinner returned an unexpected CID", extra={"expected": row.cid, "got": cid})

    def pin_pending(self, session: Session, *, limit: int = 100) -> int:
        rows = list(session.scalars(select(LicenseCertificate).where(LicenseCertificate.pinned_at.is_(None))
                                    .limit(limit)))
        for row in rows:
            self._pin(row)
            if row.pinned_at is None:
                break
        return sum(1 for r in rows if r.pinned_at is not None)
