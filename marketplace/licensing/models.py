"""Tables of the licensing marketplace: listings, offers and their history, agreements, license payments,
license certificates, disputes.

Like the money core's tables these hold user and story ids as plain strings (no foreign key into
``api``'s schema), and every amount is an integer of cents. Each table with a ``status`` column carries
one state machine; the allowed moves live next to the code that makes them
(``marketplace/licensing/offers.py``, ``marketplace/licensing/agreement_rules.py``,
``marketplace/licensing/disputes.py``), never in the routes.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = [
    "AgreementStatus",
    "Dispute",
    "DisputeStatus",
    "LicenseAgreement",
    "LicenseCertificate",
    "LicenseListing",
    "LicenseOffer",
    "LicensePayment",
    "ListingStatus",
    "OfferEvent",
    "OfferStatus",
    "PaymentStatus",
]


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class ListingStatus(enum.StrEnum):
    active = "active"        # open for offers
    closed = "closed"        # the writer took it down
    suspended = "suspended"  # the work is under an upheld dispute


class OfferStatus(enum.StrEnum):
    open = "open"            # the studio's first terms, the writer's turn
    countered = "countered"  # the latest terms are a counter-offer, the other party's turn
    accepted = "accepted"    # became an agreement
    rejected = "rejected"
    withdrawn = "withdrawn"
    expired = "expired"      # nobody answered in time, or the listing closed


class AgreementStatus(enum.StrEnum):
    awaiting_payment = "awaiting_payment"
    paid_pending_grant = "paid_pending_grant"  # the fee is in the ledger; the chain grant is not yet recorded
    active = "active"                          # granted on chain, license certificate issued
    cancelled = "cancelled"                    # never paid (cancelled, payment window passed, work disputed)
    refund_pending = "refund_pending"          # paid, but cannot be granted: the fee goes back
    refunded = "refunded"
    reversed = "reversed"                      # the studio's payment was fully refunded or charged back


class PaymentStatus(enum.StrEnum):
    settled = "settled"        # kept: the fee of the agreement it paid
    refund_due = "refund_due"  # a payment that must go back (duplicate, late, or an ungrantable agreement)
    refunded = "refunded"      # fully reversed


class DisputeStatus(enum.StrEnum):
    open = "open"
    upheld = "upheld"          # the work is a copy: not listable, not licensable, its writer's payouts frozen
    dismissed = "dismissed"
    withdrawn = "withdrawn"
    settled = "settled"        # upheld, remedy done: payouts unfrozen, the work stays blocked


class LicenseListing(Base):
    """A story offered for licensing: which rights (media), where (territory), exclusive or not, and the
    asking fee. ``media`` is a JSON list of medium names (``marketplace.licensing.terms.MEDIA``)."""

    __tablename__ = "license_listings"
    __table_args__ = (Index("ix_license_listings_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    story_id: Mapped[str] = mapped_column(String(36), index=True)
    writer_id: Mapped[str] = mapped_column(String(36), index=True)
    media: Mapped[list[str]] = mapped_column(JSON)
    territory: Mapped[str] = mapped_column(String(100))
    exclusive: Mapped[bool] = mapped_column(default=False)
    asking_fee_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ListingStatus] = mapped_column(_enum(ListingStatus), default=ListingStatus.active)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LicenseOffer(Base):
    """One negotiation between a studio and a listing's writer. ``terms`` are the latest terms on the
    table and ``proposed_by`` the party who put them there (``studio`` or ``writer``); the other party
    answers. Every move is an :class:`OfferEvent`."""

    __tablename__ = "license_offers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("license_listings.id"), index=True)
    story_id: Mapped[str] = mapped_column(String(36), index=True)
    studio_id: Mapped[str] = mapped_column(String(36), index=True)
    writer_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[OfferStatus] = mapped_column(_enum(OfferStatus), default=OfferStatus.open)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    fee_cents: Mapped[int] = mapped_column(BigInteger)
    proposed_by: Mapped[str] = mapped_column(String(8))
    round: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime]
    agreement_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OfferEvent(Base):
    """An offer's history, one row per move: who did what, from which state to which, with which terms."""

    __tablename__ = "license_offer_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("license_offers.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    party: Mapped[str] = mapped_column(String(8))  # studio | writer | system
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LicenseAgreement(Base):
    """Accepted terms, frozen: ``terms_document`` is exactly what ``terms_hash`` (SHA-256 of its JCS
    bytes) covers and what the on-chain grants carry. ``grants`` holds one receipt per medium once the
    ``LicenseRegistry`` recorded it."""

    __tablename__ = "license_agreements"
    __table_args__ = (Index("ix_license_agreements_status_paid", "status", "paid_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    offer_id: Mapped[str] = mapped_column(ForeignKey("license_offers.id"), unique=True)
    listing_id: Mapped[str] = mapped_column(ForeignKey("license_listings.id"), index=True)
    story_id: Mapped[str] = mapped_column(String(36), index=True)
    writer_id: Mapped[str] = mapped_column(String(36), index=True)
    studio_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[AgreementStatus] = mapped_column(_enum(AgreementStatus),
                                                    default=AgreementStatus.awaiting_payment)
    terms_document: Mapped[dict[str, Any]] = mapped_column(JSON)
    terms_hash: Mapped[str] = mapped_column(String(64))
    fee_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    licensee_address: Mapped[str] = mapped_column(String(42))
    work_id: Mapped[str] = mapped_column(String(66))
    checkout_id: Mapped[str | None] = mapped_column(String(36))
    grants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    grant_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    # The grant claim: whoever set ``grant_claim`` (while ``grant_claimed_until`` was past or unset) is the
    # one caller allowed to send this agreement's grants until the lease runs out (docs/licensing.md).
    grant_claim: Mapped[str | None] = mapped_column(String(36))
    grant_claimed_until: Mapped[datetime | None]
    payment_due_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LicensePayment(Base):
    """One paid checkout of a license fee, with the platform-signed receipt. ``applied`` says whether it
    paid its agreement (a second or late payment is booked, then refunded). ``shortfall_cents`` is what a
    reversal could not take back from the writer's earnings because it had been paid out: the platform
    carried it in ``losses``, and a won dispute repays that first."""

    __tablename__ = "license_payments"

    checkout_id: Mapped[str] = mapped_column(ForeignKey("checkouts.id"), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("license_agreements.id"), index=True)
    writer_id: Mapped[str] = mapped_column(String(36))
    applied: Mapped[bool] = mapped_column(default=False)
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus), default=PaymentStatus.settled)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    writer_cents: Mapped[int] = mapped_column(BigInteger)
    platform_cents: Mapped[int] = mapped_column(BigInteger)
    shortfall_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"))
    receipt_id: Mapped[str] = mapped_column(String(36), unique=True)
    receipt: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    refund_requested_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LicenseCertificate(Base):
    """The exact bytes of an agreement's signed ``legato.license/v1`` certificate and their CID.
    ``pinned_at`` stays null while IPFS is unreachable; the worker pins it later."""

    __tablename__ = "license_certificates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("license_agreements.id"), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    cid: Mapped[str] = mapped_column(String(120), index=True)
    pinned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dispute(Base):
    """A writer's claim that ``copy_registration_id`` copies their ``original_registration_id``, with the
    registry's exact comparison of the two as ``evidence``. ``story_id`` is the disputed (copying) work and
    ``respondent_id`` its writer."""

    __tablename__ = "license_disputes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    complainant_id: Mapped[str] = mapped_column(String(36), index=True)
    respondent_id: Mapped[str] = mapped_column(String(200), index=True)
    story_id: Mapped[str] = mapped_column(String(36), index=True)
    original_registration_id: Mapped[str] = mapped_column(String(36))
    copy_registration_id: Mapped[str] = mapped_column(String(36))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    statement: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DisputeStatus] = mapped_column(_enum(DisputeStatus), default=DisputeStatus.open)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
