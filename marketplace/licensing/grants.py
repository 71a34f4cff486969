"""Granting paid agreements on the ``LicenseRegistry``, then certifying them: the license certificate.

The chain is never called inside a database transaction: :meth:`Grants.grant_one` claims the agreement
(one caller at a time, under a lease) while it reads what to grant, commits, sends one grant per medium
(idempotent on the derived ``grantId``, so a retry after a crash or a lost receipt reads the earlier grant
back), then records the receipts and issues the license certificate in a second transaction. Chain down
→ the agreement stays ``paid_pending_grant`` and the worker retries; chain refuses (an overlapping grant
appeared) → ``refund_pending`` and the fee goes back. The certificate is pinned to IPFS when it is
issued, or by the worker's round while IPFS is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from marketplace.errors import InvalidRequest, LicenseOverlap
from marketplace.licensing.agreement_rules import (
    Event,
    advance,
    check_chain_overlap,
    hex0x,
    locked_agreement,
    refuse,
)
from marketplace.licensing.license_documents import build_license, sign_document
from marketplace.licensing.models import AgreementStatus, LicenseAgreement, LicenseCertificate, LicensePayment
from marketplace.licensing.terms import MEDIA, Terms, blocking_dispute, grant_id, work_id
from registry import certificate as cert_mod
from registry.chain.protocol import Chain, LicenseReceipt
from registry.db import new_id, utcnow
from registry.errors import ChainError, PinningUnavailable, Unavailable
from registry.errors import LicenseOverlap as ChainLicenseOverlap
from registry.ipfs import Pinner, cid_for_bytes
from registry.signing import PlatformKey

log = logging.getLogger("legato.licensing")


class Grants:
    def __init__(
        self, *, chain: Callable[[], Chain], signer: PlatformKey, pinner: Pinner,
        retry_after: timedelta = timedelta(seconds=30), grant_lease: timedelta = timedelta(minutes=10),
    ) -> None:
        # A provider, not an instance: the chain is opened (and the embedded chain's process lock taken)
        # only when there is something to grant, and a replaced chain (an operator's, a test's) is seen.
        self._chain = chain
        self.signer = signer
        self.pinner = pinner
        self.retry_after = retry_after
        # Longer than a grant can take (a resent transaction, confirmations), so a live holder keeps it.
        self.grant_lease = grant_lease

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
            agreement = locked_agreement(session, agreement_id)
            if agreement.status != AgreementStatus.paid_pending_grant:
                return f"skipped ({agreement.status.value})"
            if agreement.grant_claimed_until is not None and agreement.grant_claimed_until > now:
                return "skipped (being granted)"
            dispute = blocking_dispute(session, agreement.story_id)
            if dispute is not None:
                refuse(session, agreement, f"work under upheld dispute {dispute.id}")
                return "refused: work disputed"
            agreement.grant_claim, agreement.grant_claimed_until = claim, now + self.grant_lease
            terms = Terms.parse(agreement.terms_document["terms"])
            story_id, address, digest = agreement.story_id, agreement.licensee_address, agreement.terms_hash
        try:
            check_chain_overlap(self._chain(), story_id, terms, ref=agreement_id)
            receipts = [self._grant_medium(agreement_id, story_id, address, digest, terms, medium)
                        for medium in terms.media]
        except (LicenseOverlap, ChainLicenseOverlap) as e:
            with sessions.begin() as session:
                agreement = locked_agreement(session, agreement_id)
                if not self._holds(agreement, claim):
                    return "skipped (claim lost)"
                self._release(agreement)
                refuse(session, agreement, f"{e.code}: {e.message}")
            log.warning("license grant refused", extra={"agreement_id": agreement_id, "error": e.message})
            return "refused: overlap"
        except (Unavailable, ChainError, ValueError) as e:
            with sessions.begin() as session:
                agreement = locked_agreement(session, agreement_id)
                if not self._holds(agreement, claim):
                    return "skipped (claim lost)"
                self._release(agreement)
                agreement.grant_attempts += 1
                agreement.last_error = f"{getattr(e, 'code', type(e).__name__)}: {e}"[:2000]
                agreement.next_attempt_at = now + self.retry_after * min(agreement.grant_attempts, 20)
            log.warning("license grant deferred", extra={"agreement_id": agreement_id, "error": str(e)})
            return "waiting for the chain"
        with sessions.begin() as session:
            agreement = locked_agreement(session, agreement_id)
            if not self._holds(agreement, claim):
                return f"skipped ({agreement.status.value}, claim lost)"
            self._release(agreement)
            agreement.grants = [self._grant_json(medium, receipt)
                                for medium, receipt in zip(terms.media, receipts, strict=True)]
            advance(agreement, Event.grant)
            agreement.activated_at = agreement.activated_at or now
            agreement.last_error, agreement.next_attempt_at = None, None
            if session.scalars(select(LicenseCertificate.id).where(
                    LicenseCertificate.agreement_id == agreement.id)).first() is None:
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
            return self._chain().grant_license(
                grant_id=gid, work_id=work_id(story_id), licensee=address, terms_hash=bytes.fromhex(digest),
                media=MEDIA[medium], start=terms.period[0], end=terms.period[1], exclusive=terms.exclusive)
        except ChainLicenseOverlap as e:
            if str(e.details.get("conflicting_grant_id", "")).lower() != hex0x(gid):
                raise
            own = self._chain().find_grant(gid)
            if own is None:
                raise ChainError("this agreement's own grant is not readable yet",
                                 details={"grant_id": hex0x(gid)}) from e
            if own.grant.terms_hash != bytes.fromhex(digest):
                raise ChainError("this agreement's grant id holds other terms on chain",
                                 details={"grant_id": hex0x(gid)}) from e
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
        return {"medium": medium, "media_code": g.media, "grant_id": hex0x(g.grant_id),
                "work_id": hex0x(g.work_id), "licensee": g.licensee, "terms_hash": hex0x(g.terms_hash),
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
