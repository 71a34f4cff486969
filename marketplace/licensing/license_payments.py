"""The license fee's money: the ``license`` checkout purpose, its 85/15 split, receipts, reversals, refunds.

Postings (+ credits the account), F the fee, ``(w, p) = split(F, 85)``: the writer gets ``⌊F·85/100⌋``
and the platform the remainder, so the two add up to F to the cent.

* paid: ``payments(gateway) −F, earnings(writer) +w, revenue +p`` — key ``checkout:<id>:paid``, so any
  number of events about one payment book it once. Every paid checkout is booked, even one that cannot be
  applied (the agreement was already paid by another checkout, or cancelled and its slot taken, or the
  work is under an upheld dispute): that payment is marked ``refund_due`` and the worker refunds it.
* reversal to a cumulative refunded/disputed total R (from R₀): ``d = R − R₀``, ``(w₁, p₁) = split(R)``,
  ``(w₀, p₀) = split(R₀)``: ``payments +d, revenue −(p₁−p₀)``, and the writer's part ``w₁−w₀`` comes
  back from their earnings as far as they still hold it; what was already paid out is carried by the
  platform's ``losses`` and recorded as the payment's ``shortfall_cents``. A refunded license is an
  unwound sale, so unlike coins (where readers' refunds never claw back writers) the writer's share goes
  back — but never below zero.
* reinstatement (a dispute won after a reversal): the reverse, repaying ``losses`` (the shortfall) first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import InvalidRequest, LicenseOverlap, MarketplaceError, PaymentGatewayError
from marketplace.licensing.agreement_rules import (
    Event,
    advance,
    check_held_overlap,
    lock_work,
    locked_agreement,
)
from marketplace.licensing.license_documents import build_receipt, sign_document
from marketplace.licensing.models import AgreementStatus, LicenseAgreement, LicensePayment, PaymentStatus
from marketplace.licensing.terms import Terms, blocking_dispute
from marketplace.money import ledger
from marketplace.money.models import Checkout
from marketplace.money.payments import Payments
from registry.db import new_id, utcnow
from registry.signing import PlatformKey

log = logging.getLogger("legato.licensing")
LICENSE_WRITER_SHARE_PCT = 85  # docs/architecture.md: licensing 85% writer / 15% platform


class LicensePayments:
    """The ``license`` :class:`~marketplace.money.payments.CheckoutPurpose`.

    It moves agreements by the shared rules (:mod:`.agreement_rules`), not through the
    :class:`~.agreements.Agreements` service: ``Payments`` is built with this purpose, and ``Agreements``
    with ``Payments``, so neither needs the other first."""

    def __init__(self, *, signer: PlatformKey, writer_share_pct: int = LICENSE_WRITER_SHARE_PCT) -> None:
        if type(writer_share_pct) is not int or not 0 <= writer_share_pct <= 100:
            raise InvalidRequest("the writer's share is an integer percentage")
        self.signer = signer
        self.writer_share_pct = writer_share_pct

    # --- CheckoutPurpose -------------------------------------------------------------------------
    def on_paid(self, session: Session, checkout: Checkout) -> str:
        agreement = session.scalars(select(LicenseAgreement).where(LicenseAgreement.id == checkout.reference)
                                    .with_for_update().execution_options(populate_existing=True)).first()
        if agreement is None:
            log.error("license checkout %s names no agreement (%s)", checkout.id, checkout.reference)
            return "unknown_agreement"
        if session.get(LicensePayment, checkout.id) is not None:
            return "already_credited"
        writer_cents, platform_cents = ledger.split(checkout.amount_cents, self.writer_share_pct)
        legs = [(ledger.gateway_payments(checkout.gateway), -checkout.amount_cents)]
        if writer_cents:
            legs.append((ledger.earnings(agreement.writer_id), writer_cents))
        if platform_cents:
            legs.append((ledger.platform_revenue(), platform_cents))
        booked = ledger.transfer(
            session, key=f"checkout:{checkout.id}:paid", kind=ledger.TransferKind.license_payment,
            reference=checkout.id, legs=legs,
            memo={"agreement_id": agreement.id, "story_id": agreement.story_id,
                  "writer_id": agreement.writer_id, "studio_id": agreement.studio_id,
                  "fee_cents": checkout.amount_cents},
        )
        applied, why = self._applies(session, agreement)
        if applied:
            advance(agreement, Event.pay)
            agreement.paid_at = checkout.paid_at or utcnow()
            agreement.last_error = None
        receipt_id = new_id()
        receipt = sign_document(build_receipt(
            receipt_id=receipt_id, issued_at=utcnow(), agreement_id=agreement.id, checkout_id=checkout.id,
            payer_id=checkout.user_id, payee_id=agreement.writer_id, amount_cents=checkout.amount_cents,
            currency=checkout.currency, gateway=checkout.gateway, payment_ref=checkout.payment_intent or "",
            paid_at=checkout.paid_at or utcnow(), writer_cents=writer_cents, platform_cents=platform_cents,
            writer_share_pct=self.writer_share_pct, transfer_id=booked.transfer.id, applied=applied),
            self.signer)
        session.add(LicensePayment(
            checkout_id=checkout.id, agreement_id=agreement.id, writer_id=agreement.writer_id,
            applied=applied,
            status=PaymentStatus.settled if applied else PaymentStatus.refund_due,
            amount_cents=checkout.amount_cents, writer_cents=writer_cents, platform_cents=platform_cents,
            transfer_id=booked.transfer.id, receipt_id=receipt_id, receipt=receipt,
        ))
        session.flush()
        if not applied:
            log.warning("license payment %s will be refunded: %s", checkout.id, why)
            return f"license fee booked, refund due ({why})"
        return f"license fee booked: {writer_cents} writer / {platform_cents} platform"

    def _applies(self, session: Session, agreement: LicenseAgreement) -> tuple[bool, str]:
        """Whether this payment pays the agreement, or must go back."""
        dispute = blocking_dispute(session, agreement.story_id)
        if dispute is not None:
            return False, f"work under upheld dispute {dispute.id}"
        already = session.scalars(select(LicensePayment.checkout_id).where(
            LicensePayment.agreement_id == agreement.id, LicensePayment.applied.is_(True))).first()
        if already is not None:
            return False, f"agreement already paid by checkout {already}"
        if agreement.status == AgreementStatus.awaiting_payment:
            return True, ""
        if agreement.status == AgreementStatus.cancelled:
            # A late payment: honour it if the slot is still free (the grant re-checks the chain).
            lock_work(session, agreement.story_id)
            try:
                terms = Terms.parse(agreement.terms_document["terms"])
                check_held_overlap(session, agreement.story_id, terms, ref=agreement.id)
            except LicenseOverlap as e:
                return False, f"cancelled agreement's slot was taken: {e.message}"
            return True, ""
        return False, f"agreement is {agreement.status.value}"

    def on_reversal(self, session: Session, checkout: Checkout, *, target_cents: int, key: str) -> str:
        payment = session.scalars(select(LicensePayment).where(LicensePayment.checkout_id == checkout.id)
                                  .with_for_update().execution_options(populate_existing=True)).first()
        if payment is None:
            return "no_license_payment"
        before = checkout.reversed_cents
        delta = target_cents - before
        w0, p0 = ledger.split(before, self.writer_share_pct)
        w1, p1 = ledger.split(target_cents, self.writer_share_pct)
        writer_delta, platform_delta = w1 - w0, p1 - p0
        earnings = ledger.earnings(payment.writer_id)
        legs: list[tuple[ledger.AccountKey, int]] = [(ledger.gateway_payments(checkout.gateway), delta)]
        if delta > 0:
            held = ledger.locked_balances(session, [earnings])[earnings]
            taken = min(writer_delta, held)
            short = writer_delta - taken
            legs += [(earnings, -taken), (ledger.platform_revenue(), -platform_delta),
                     (ledger.platform_losses(), -short)]
            payment.shortfall_cents += short
            kind = ledger.TransferKind.license_reversal
        else:
            repay = min(payment.shortfall_cents, -writer_delta)
            legs += [(ledger.platform_losses(), repay), (earnings, -writer_delta - repay),
                     (ledger.platform_revenue(), -platform_delta)]
            payment.shortfall_cents -= repay
            kind = ledger.TransferKind.license_reinstatement
        legs = [(account, amount) for account, amount in legs if amount]
        ledger.transfer(session, key=key, kind=kind, reference=checkout.id, legs=legs,
                        memo={"agreement_id": payment.agreement_id, "target_cents": target_cents,
                              "shortfall_cents": payment.shortfall_cents})
        self._follow_reversal(session, payment, full=target_cents >= checkout.amount_cents,
                              reinstated=delta < 0)
        session.flush()
        return f"{kind.value}: {delta} cents ({writer_delta} writer, {platform_delta} platform)"

    def _follow_reversal(self, session: Session, payment: LicensePayment, *, full: bool,
                         reinstated: bool) -> None:
        agreement = locked_agreement(session, payment.agreement_id)
        if full:
            payment.status = PaymentStatus.refunded
            if payment.applied and agreement.status == AgreementStatus.refund_pending:
                advance(agreement, Event.refunded)
            elif payment.applied and agreement.status in (AgreementStatus.active,
                                                          AgreementStatus.paid_pending_grant):
                advance(agreement, Event.reverse)
        elif reinstated and payment.status == PaymentStatus.refunded:
            payment.status = PaymentStatus.settled if payment.applied else PaymentStatus.refund_due
            payment.refund_requested_at = None
            if payment.applied and agreement.status == AgreementStatus.reversed:
                advance(agreement, Event.reinstate)

    # --- the worker's refunds --------------------------------------------------------------------
    def request_refunds(self, session: Session, payments: Payments, *, now: datetime | None = None,
                        limit: int = 20) -> int:
        """Ask the gateway to refund every payment that must go back. The ledger moves when the gateway's
        ``charge.refunded`` comes back through the webhook (at once with the local gateway)."""
        due = list(session.scalars(select(LicensePayment).where(
            LicensePayment.status == PaymentStatus.refund_due, LicensePayment.refund_requested_at.is_(None))
            .limit(limit)))
        asked = 0
        for payment in due:
            try:
                with session.begin_nested():
                    payments.refund(session, payment.checkout_id, requested_by="licensing")
            except PaymentGatewayError as e:
                log.warning("license refund deferred",
                            extra={"checkout_id": payment.checkout_id, "error": e.message})
                continue
            except MarketplaceError as e:  # nothing left to refund: the gateway already did it
                log.info("license refund not needed",
                         extra={"checkout_id": payment.checkout_id, "why": e.message})
            payment.refund_requested_at = now or utcnow()
            asked += 1
        session.flush()
        return asked
