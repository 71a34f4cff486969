"""Licensing work done outside a request: the worker's round, and the grant right after a payment.

Both are here rather than in the gateway so the wiring and the worker only call them: what a round does
and in which transactions is a licensing decision. The chain is never called inside a transaction
(:mod:`.grants`), so the round commits its sweeps before it grants and grants before it refunds.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from marketplace.licensing.agreements import Agreements
from marketplace.licensing.grants import Grants
from marketplace.licensing.license_payments import LicensePayments
from marketplace.licensing.offers import Offers
from marketplace.money.payments import Payments

log = logging.getLogger("legato.licensing")


class LicensingBackground:
    def __init__(self, *, sessions: sessionmaker[Session], offers: Offers, agreements: Agreements,
                 grants: Grants, license_payments: LicensePayments, payments: Payments) -> None:
        self.sessions = sessions
        self.offers = offers
        self.agreements = agreements
        self.grants = grants
        self.license_payments = license_payments
        self.payments = payments

    def round(self) -> dict[str, object]:
        """The worker's licensing job: expire offers, cancel unpaid agreements past their window, grant
        paid ones on chain (outside any transaction), refund payments that must go back, pin certificates."""
        out: dict[str, object] = {}
        with self.sessions.begin() as session:  # commits, or rolls back on error
            out["offers_expired"] = self.offers.expire_due(session)
            out["agreements_cancelled"] = self.agreements.cancel_overdue(session)
        out["grants"] = self.grants.grant_due(self.sessions)
        with self.sessions.begin() as session:  # commits, or rolls back on error
            out["refunds_requested"] = self.license_payments.request_refunds(session, self.payments)
            out["certificates_pinned"] = self.grants.pin_pending(session)
        return out

    def after_payment(self) -> None:
        """Run after a payment event's transaction commits (a background task of the webhook and confirm
        routes): grant freshly paid licenses now rather than at the worker's next round. Never raises;
        whatever fails here the worker does again."""
        try:
            self.grants.grant_due(self.sessions)
        except Exception:  # the worker retries; the payment response has been sent already
            log.exception("granting paid licenses after a payment failed; the worker will retry")
