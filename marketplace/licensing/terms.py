"""The licensing vocabulary: who acts, media codes, terms, their canonical hash, chain ids, the overlap
rule and the dispute gate.

Everything here is what more than one licensing module must agree on byte for byte: the terms document
whose JCS SHA-256 is the agreement's ``terms_hash`` (and the on-chain ``termsHash``), how a story id
becomes the ``LicenseRegistry``'s ``workId``, how an agreement and a medium become a ``grantId``.
docs/licensing.md states each rule so anyone can recompute them.

Stories, chapters and users reach licensing through the catalog port (:mod:`marketplace.licensing.catalog`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import InvalidRequest, WorkDisputed
from marketplace.licensing.catalog import Party, WorkInfo
from marketplace.licensing.models import Dispute, DisputeStatus
from registry.certificate import canonical_json

# The LicenseRegistry stores a medium as a uint8 and only compares it; these codes are Legato's.
# 0 is never used, so an unset field can never pass for a medium. Append only: codes are on chain.
MEDIA: dict[str, int] = {"film": 1, "tv": 2, "games": 3, "audio": 4, "print": 5, "translation": 6}
MEDIUM_NAMES: dict[int, str] = {code: name for name, code in MEDIA.items()}
CURRENCY = "USD"
TERMS_SCHEMA = "legato.license-terms/v1"
MAX_FEE_CENTS = 10**12  # ten billion dollars: a typo guard, not a business rule
BLOCKING_DISPUTES = (DisputeStatus.upheld, DisputeStatus.settled)


# --- who acts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the routes authenticated them. Admins see everything and resolve disputes;
    they do not negotiate on anyone's behalf."""

    id: str
    is_admin: bool = False


# --- terms ---------------------------------------------------------------------------------------


def normalize_media(value: str | Sequence[str]) -> tuple[str, ...]:
    """One medium or several, as names; duplicates dropped, ordered by code so equal sets compare equal."""
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise InvalidRequest("At least one medium is required.", details={"media": list(MEDIA)})
    unknown = sorted({str(n) for n in names} - MEDIA.keys())
    if unknown:
        raise InvalidRequest(f"Unknown media: {', '.join(unknown)}.", details={"allowed": list(MEDIA)})
    return tuple(sorted(set(names), key=MEDIA.__getitem__))


def normalize_territory(value: str) -> str:
    territory = " ".join(str(value).split())
    if not 1 <= len(territory) <= 100:
        raise InvalidRequest("A territory of 1 to 100 characters is required (e.g. 'worldwide', 'US, CA').")
    return territory


def money(value: object, name: str, *, minimum: int) -> int:
    if type(value) is not int or not minimum <= value <= MAX_FEE_CENTS:
        raise InvalidRequest(f"{name} must be an integer of cents, at least {minimum}.",
                             details={name: value})
    return value


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _moment(value: object, name: str) -> datetime:
    """A term's start or end as an aware UTC datetime. A calendar date (``"2027-01-01"``) is a whole UTC
    day: a start date begins at its 00:00 UTC, an end date ends at 00:00 UTC of the next day (the period
    is half-open). Terms are stored and hashed as the resulting times, so a date and the time it means
    give the same terms hash."""
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            value = date.fromisoformat(value)
        except ValueError as e:
            raise InvalidRequest(f"{name} is not a calendar date.", details={name: value}) from e
    if isinstance(value, date) and not isinstance(value, datetime):
        day = datetime(value.year, value.month, value.day, tzinfo=UTC)
        try:
            value = day + timedelta(days=1) if name == "end" else day
        except OverflowError as e:
            raise InvalidRequest("The license end is too far in the future.",
                                 details={name: str(value)}) from e
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as e:
            raise InvalidRequest(f"{name} is not an ISO 8601 time.", details={name: value}) from e
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidRequest(f"{name} must be a time with a UTC offset.", details={name: str(value)})
    if value.microsecond:
        raise InvalidRequest(f"{name} must be whole seconds (the chain records seconds).",
                             details={name: value.isoformat()})
    if value.timestamp() < 0:
        raise InvalidRequest(f"{name} must not be before 1970 (the chain records unsigned seconds).",
                             details={name: value.isoformat()})
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Terms:
    """What a studio and a writer negotiate. The period is half-open ``[start, end)`` in whole seconds,
    as the ``LicenseRegistry`` records it. ``revenue_share_pct`` is the writer's share of the studio's
    revenue from the adaptation, recorded in the terms (and their hash); Legato does not collect it."""

    media: tuple[str, ...]
    territory: str
    exclusive: bool
    start: datetime
    end: datetime
    fee_cents: int
    revenue_share_pct: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Terms:
        exclusive = raw.get("exclusive")
        if type(exclusive) is not bool:
            raise InvalidRequest("exclusive must be true or false.")
        share = raw.get("revenue_share_pct", 0)
        if type(share) is not int or not 0 <= share <= 100:
            raise InvalidRequest("revenue_share_pct must be an integer from 0 to 100.",
                                 details={"revenue_share_pct": share})
        start, end = _moment(raw.get("start"), "start"), _moment(raw.get("end"), "end")
        if end <= start:
            raise InvalidRequest("The license must end after it starts.",
                                 details={"start": iso_seconds(start), "end": iso_seconds(end)})
        if end.timestamp() >= 2**64:
            raise InvalidRequest("The license end is too far in the future.")
        return cls(media=normalize_media(raw.get("media") or ()), territory=normalize_territory(
            raw.get("territory", "")), exclusive=exclusive, start=start, end=end,
            fee_cents=money(raw.get("fee_cents"), "fee_cents", minimum=1), revenue_share_pct=share)

    def to_json(self) -> dict[str, Any]:
        return {"media": list(self.media), "territory": self.territory, "exclusive": self.exclusive,
                "start": iso_seconds(self.start), "end": iso_seconds(self.end), "fee_cents": self.fee_cents,
                "currency": CURRENCY, "revenue_share_pct": self.revenue_share_pct}

    @property
    def period(self) -> tuple[int, int]:
        return int(self.start.timestamp()), int(self.end.timestamp())


def iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def terms_document(*, agreement_id: str, work: WorkInfo, licensor: Party, licensee: Party,
                   licensee_address: str, terms: Terms) -> dict[str, Any]:
    """Exactly what the agreement's ``terms_hash`` covers: the work and the registered texts licensed
    (by certificate id and content hash), both parties, the licensee's chain address and the terms."""
    return {
        "schema": TERMS_SCHEMA,
        "agreement_id": agreement_id,
        "work": {"story_id": work.story_id, "title": work.title,
                 "work_id": "0x" + work_id(work.story_id).hex(),
                 "chapters": [{"chapter_id": c.chapter_id, "number": c.number,
                               "certificate_id": c.certificate_id, "sha256": c.sha256}
                              for c in work.chapters]},
        "licensor": {"id": licensor.id, "display_name": licensor.display_name},
        "licensee": {"id": licensee.id, "display_name": licensee.display_name, "address": licensee_address},
        "terms": terms.to_json(),
    }


def terms_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 (JCS) bytes of the terms document."""
    return hashlib.sha256(canonical_json(dict(document))).hexdigest()


# --- chain identifiers ---------------------------------------------------------------------------


def work_id(story_id: str) -> bytes:
    """The ``LicenseRegistry`` ``workId`` of a story: ``sha256("legato.work/v1\\0" || story_id)``."""
    return hashlib.sha256(b"legato.work/v1\x00" + story_id.encode()).digest()


def grant_id(agreement_id: str, medium: str) -> bytes:
    """One grant per agreement and medium: ``sha256("legato.grant/v1\\0" || agreement_id || "\\0" ||
    medium)``. Derived, never random, so a retried grant is the same grant and cannot be recorded twice."""
    return hashlib.sha256(b"legato.grant/v1\x00" + agreement_id.encode() + b"\x00" + medium.encode()).digest()


def licensee_address(party: Party) -> str:
    """The studio's wallet when its profile has one; else an address derived from its id
    (``sha256("legato.licensee/v1\\0" || user_id)[:20]``) that names the studio but that nobody holds a
    key for. A studio that wants grants under its own wallet sets it before the agreement is made."""
    if party.wallet:
        return to_checksum_address(party.wallet)
    return to_checksum_address(hashlib.sha256(b"legato.licensee/v1\x00" + party.id.encode()).digest()[:20])


# --- the overlap rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A licensed (work, medium, period): what the overlap rule compares. ``ref`` names its holder."""

    medium: int
    start: int
    end: int
    exclusive: bool
    ref: str


def slots(terms: Terms, ref: str) -> list[Slot]:
    start, end = terms.period
    return [Slot(MEDIA[m], start, end, terms.exclusive, ref) for m in terms.media]


def first_conflict(existing: Iterable[Slot], wanted: Iterable[Slot]) -> tuple[Slot, Slot] | None:
    """The contract's ``findConflict`` rule, per medium: an exclusive slot overlaps any other slot, a
    non-exclusive one only exclusive slots; periods are half-open. Territory does not enter it, because
    the contract has none: two exclusive grants for different territories of one medium and period are
    refused (docs/licensing.md)."""
    existing = list(existing)
    for new in wanted:
        for old in existing:
            if old.medium == new.medium and (old.exclusive or new.exclusive) \
                    and new.start < old.end and old.start < new.end:
                return new, old
    return None


# --- the dispute gate ----------------------------------------------------------------------------


def blocking_dispute(session: Session, story_id: str) -> Dispute | None:
    return session.scalars(select(Dispute).where(Dispute.story_id == story_id,
                                                 Dispute.status.in_(BLOCKING_DISPUTES))).first()


def refuse_if_disputed(session: Session, story_id: str) -> None:
    dispute = blocking_dispute(session, story_id)
    if dispute is not None:
        raise WorkDisputed("This work is under an upheld dispute.",
                           details={"story_id": story_id, "dispute_id": dispute.id})
