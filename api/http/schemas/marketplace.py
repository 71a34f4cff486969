"""Request and response bodies for ``/marketplace``: listings, offers, agreements, ownership, disputes.

Money fields are integers of cents named ``*_cents``. Media are names (``film``, ``tv``, ``games``,
``audio``, ``print``, ``translation``); a single name or a list is accepted. Times are ISO 8601 with an
offset, whole seconds (the chain records seconds); the license period is ``[start, end)``. License terms
also take calendar dates (``"2027-01-01"``): a start date means 00:00 UTC that day, an end date means
the license runs through that whole UTC day (it ends at 00:00 UTC the day after).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

MediumName = Literal["film", "tv", "games", "audio", "print", "translation"]
Media = MediumName | list[MediumName]


class ListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    story_id: str = Field(min_length=1, max_length=36)
    media: Media = Field(description="The rights on offer: one medium or several.")
    territory: str = Field(min_length=1, max_length=100, examples=["worldwide", "US, CA"])
    exclusive: bool
    asking_fee_cents: int = Field(gt=0, le=10**12)
    notes: str = Field("", max_length=5000)


class MetricsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    published_chapters: int
    reads: int
    unique_readers: int
    completion_rate: float = Field(description="Share of readers who reached 90% of the latest chapter.")
    reading_seconds: int
    followers: int = Field(description="The author's followers.")
    library_saves: int
    rating_average: float | None
    rating_count: int


class ListingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    story_id: str
    writer_id: str
    media: list[str]
    territory: str
    exclusive: bool
    asking_fee_cents: int
    currency: str
    notes: str
    status: str
    created_at: datetime
    updated_at: datetime
    title: str | None = None
    genre: str | None = None
    author_name: str | None = None
    metrics: MetricsOut | None = None


class ListingPage(BaseModel):
    items: list[ListingOut]
    total: int
    next_offset: int | None


def _plain_date(value: object) -> object:
    if isinstance(value, str) and not _DATE.fullmatch(value):
        raise ValueError("a calendar date is written YYYY-MM-DD")
    return value


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Only a plain YYYY-MM-DD is a date: a time without an offset stays an error, never becomes a date.
TermDate = Annotated[date, BeforeValidator(_plain_date)]


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    media: Media
    territory: str = Field(min_length=1, max_length=100)
    exclusive: bool
    start: AwareDatetime | TermDate
    end: AwareDatetime | TermDate
    fee_cents: int = Field(gt=0, le=10**12)
    revenue_share_pct: int = Field(0, ge=0, le=100, description="Writer's share of the adaptation's revenue.")

    def as_terms(self) -> dict[str, Any]:
        return self.model_dump()


class OfferEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    party: str
    actor_id: str | None
    from_status: str | None
    to_status: str
    terms: dict[str, Any] | None
    note: str | None
    created_at: datetime


class OfferOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    listing_id: str
    story_id: str
    studio_id: str
    writer_id: str
    status: str
    terms: dict[str, Any]
    fee_cents: int
    proposed_by: str = Field(description="The party whose terms are on the table.")
    turn: str | None = Field(None, description="The party who may accept, counter or reject now.")
    round: int
    expires_at: datetime
    agreement_id: str | None
    created_at: datetime
    updated_at: datetime
    history: list[OfferEventOut] = []


class AgreementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    offer_id: str
    listing_id: str
    story_id: str
    writer_id: str
    studio_id: str
    status: str
    terms: dict[str, Any]
    terms_document: dict[str, Any]
    terms_hash: str
    fee_cents: int
    currency: str
    licensee_address: str
    work_id: str
    checkout_id: str | None
    checkout_url: str | None = Field(None, description="Where the studio pays (shown to the studio).")
    checkout_status: str | None = None
    grants: list[dict[str, Any]]
    license_certificate_id: str | None = None
    license_certificate_cid: str | None = None
    last_error: str | None
    payment_due_at: datetime
    paid_at: datetime | None
    activated_at: datetime | None
    created_at: datetime


class OfferAccepted(BaseModel):
    offer: OfferOut
    agreement: AgreementOut


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    original_registration_id: str = Field(min_length=1, max_length=36, description="Your registration.")
    copy_registration_id: str = Field(min_length=1, max_length=36, description="The later, copying one.")
    statement: str = Field("", max_length=10_000)


class RulingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["upheld", "dismissed"]
    note: str | None = Field(None, max_length=10_000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=10_000)


class DisputeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    complainant_id: str
    respondent_id: str
    story_id: str
    original_registration_id: str
    copy_registration_id: str
    evidence: dict[str, Any]
    statement: str
    status: str
    resolution_note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime


class OwnershipChapter(BaseModel):
    chapter_id: str
    number: int
    title: str
    certificate_id: str | None
    registration_id: str | None
    registration_status: str | None
    sha256: str | None
    certificate_cid: str | None
    registered_at: datetime | None
    anchor: dict[str, Any] | None


class OwnershipOut(BaseModel):
    story_id: str
    title: str
    work_id: str = Field(description="The LicenseRegistry workId: sha256('legato.work/v1\\0' || story_id).")
    author: dict[str, Any]
    chapters: list[OwnershipChapter]
    all_chapters_certified: bool
    licenses: list[dict[str, Any]]
    on_chain_grants: list[dict[str, Any]] | None = Field(description="Null when the chain cannot be reached.")
    chain_error: str | None
    disputes: list[dict[str, Any]]
