"""The catalog port: what licensing needs from the content service, and the two questions it asks of it.

Licensing never imports ``content`` or ``accounts`` (siblings and lower layers stay apart): stories,
chapters and users reach it as the small values below, through :class:`WorkCatalog`, which the gateway
implements over the content tables (``api/works.py``) and the wiring hands in. Whether a story may be
shown (:func:`public_work`) and whether every published chapter carries a certificate of authorship
(:func:`registered_work`) are decided here, once, for listings, agreements and the chain of title.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import NotFound, WorkNotRegistered
from registry.models import CertificateState


@dataclass(frozen=True)
class ChapterRef:
    chapter_id: str
    number: int
    title: str
    certificate_id: str | None
    registration_id: str | None
    sha256: str | None


@dataclass(frozen=True)
class WorkInfo:
    """A story as the marketplace sees it: its published chapters only."""

    story_id: str
    title: str
    author_id: str
    author_name: str
    public: bool  # False for a draft story
    chapters: tuple[ChapterRef, ...]


@dataclass(frozen=True)
class Party:
    id: str
    display_name: str
    role: str
    wallet: str | None


class WorkCatalog(Protocol):
    """What the marketplace needs from the content service (implemented in ``api/works.py``)."""

    def work(self, session: Session, story_id: str) -> WorkInfo | None: ...

    def party(self, session: Session, user_id: str) -> Party | None: ...


def public_work(session: Session, catalog: WorkCatalog, story_id: str) -> WorkInfo:
    """The story as the marketplace may show it: not a draft, or ``NOT_FOUND``."""
    work = catalog.work(session, story_id)
    if work is None or not work.public:
        raise NotFound("No such story.", details={"story_id": story_id})
    return work


def registered_work(session: Session, catalog: WorkCatalog, story_id: str) -> WorkInfo:
    """The story with every published chapter certified, or ``WORK_NOT_REGISTERED`` naming the chapters
    that are not (no registration yet, or one still waiting for its timestamp)."""
    work = public_work(session, catalog, story_id)
    wanted = [c.certificate_id for c in work.chapters if c.certificate_id]
    issued = set(session.scalars(
        select(CertificateState.certificate_id).where(CertificateState.certificate_id.in_(wanted))
    )) if wanted else set()
    missing = [c.chapter_id for c in work.chapters if c.certificate_id not in issued]
    if not work.chapters or missing:
        raise WorkNotRegistered(
            "Only a story whose published chapters all have a certificate of authorship can be licensed.",
            details={"story_id": story_id, "published_chapters": len(work.chapters),
                     "chapters_without_certificate": missing})
    return work
