"""Stories seen as licensable works: the content service behind the marketplace's ``WorkCatalog`` port,
the performance figures studios browse by, and the ownership view (the studio's chain-of-title check).

This is the one place that reads both the content tables and the licensing tables; the dependency rule
(``marketplace`` never imports ``api``) puts it here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from accounts.models import User
from content.models.reading import Follow, LibraryEntry, ReadingProgress
from content.models.stories import Chapter, ChapterStatus, Story, StoryStatus
from content.stories import stats_for
from marketplace.licensing.catalog import ChapterRef, Party, WorkInfo
from marketplace.licensing.chain_of_title import sees_terms
from marketplace.licensing.models import AgreementStatus, LicenseListing, ListingStatus
from marketplace.licensing.terms import MEDIUM_NAMES, Actor, work_id
from registry.chain.protocol import ChainReader
from registry.errors import RegistryError
from registry.models import CertificateState, Registration

ANCHOR_FIELDS = ("chain_id", "contract", "tx_hash", "block_number", "merkle_root")
COMPLETED_PCT = 90.0  # a reader who reached 90% of the latest published chapter has caught up


class ContentWorks:
    """The :class:`~marketplace.licensing.catalog.WorkCatalog` over stories, chapters and users."""

    def work(self, session: Session, story_id: str) -> WorkInfo | None:
        story = session.get(Story, story_id)
        if story is None:
            return None
        author = session.get(User, story.author_id)
        chapters = session.scalars(select(Chapter).where(
            Chapter.story_id == story_id, Chapter.status == ChapterStatus.published).order_by(Chapter.number))
        return WorkInfo(
            story_id=story.id, title=story.title, author_id=story.author_id,
            author_name=author.public_name if author else "", public=story.status != StoryStatus.draft,
            chapters=tuple(ChapterRef(chapter_id=c.id, number=c.number, title=c.title,
                                      certificate_id=c.certificate_id, registration_id=c.registration_id,
                                      sha256=c.sha256) for c in chapters),
        )

    def party(self, session: Session, user_id: str) -> Party | None:
        user = session.get(User, user_id)
        if user is None:
            return None
        return Party(id=user.id, display_name=user.public_name, role=user.role.value,
                     wallet=user.wallet_address)


# --- performance metrics -------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    published_chapters: int
    reads: int               # (reader, chapter) pairs with reading progress
    unique_readers: int
    completion_rate: float   # share of readers who reached COMPLETED_PCT of the latest published chapter
    reading_seconds: int
    followers: int           # the author's followers
    library_saves: int
    rating_average: float | None
    rating_count: int


def metrics_for(session: Session, stories: list[Story]) -> dict[str, Metrics]:
    """Figures for a page of stories in a few grouped queries (no per-story round trips)."""
    ids = [s.id for s in stories]
    if not ids:
        return {}
    stats = stats_for(session, ids)
    reads = {sid: (int(n), int(u), int(sec or 0)) for sid, n, u, sec in session.execute(
        select(ReadingProgress.story_id, func.count(), func.count(distinct(ReadingProgress.reader_id)),
               func.sum(ReadingProgress.seconds)).where(ReadingProgress.story_id.in_(ids))
        .group_by(ReadingProgress.story_id))}
    latest = (select(Chapter.story_id, func.max(Chapter.number).label("number"))
              .where(Chapter.story_id.in_(ids), Chapter.status == ChapterStatus.published)
              .group_by(Chapter.story_id).subquery())
    finished = dict(session.execute(
        select(Chapter.story_id, func.count(distinct(ReadingProgress.reader_id)))
        .join(latest, (latest.c.story_id == Chapter.story_id) & (latest.c.number == Chapter.number))
        .join(ReadingProgress, ReadingProgress.chapter_id == Chapter.id)
        .where(ReadingProgress.percentage >= COMPLETED_PCT).group_by(Chapter.story_id)).all())
    authors = {s.author_id for s in stories}
    followers = dict(session.execute(select(Follow.followee_id, func.count()).where(
        Follow.followee_id.in_(authors)).group_by(Follow.followee_id)).all())
    saves = dict(session.execute(select(LibraryEntry.story_id, func.count()).where(
        LibraryEntry.story_id.in_(ids)).group_by(LibraryEntry.story_id)).all())
    out = {}
    for story in stories:
        n, unique, seconds = reads.get(story.id, (0, 0, 0))
        s = stats[story.id]
        out[story.id] = Metrics(
            published_chapters=s.chapter_count, reads=n, unique_readers=unique,
            completion_rate=round(int(finished.get(story.id, 0)) / unique, 4) if unique else 0.0,
            reading_seconds=seconds, followers=int(followers.get(story.author_id, 0)),
            library_saves=int(saves.get(story.id, 0)), rating_average=s.rating_average,
            rating_count=s.rating_count)
    return out


# --- browsing listings ---------------------------------------------------------------------------

SORTS = ("newest", "reads", "unique_readers", "rating", "followers", "fee_low", "fee_high")


def browse_listings(
    session: Session, *, q: str | None = None, media: str | None = None, genre: str | None = None,
    exclusive: bool | None = None, max_fee_cents: int | None = None, story_id: str | None = None,
    sort: str = "newest", offset: int = 0, limit: int = 20,
) -> tuple[list[tuple[LicenseListing, Story, User | None, Metrics]], int]:
    """Active listings of visible stories, filtered, with each story's metrics, sorted. Sorting by a
    metric needs every match's figures, so the filtered set is ranked in memory (bounded by the number
    of active listings, which is small next to the stories)."""
    query = (select(LicenseListing, Story).join(Story, Story.id == LicenseListing.story_id)
             .where(LicenseListing.status == ListingStatus.active, Story.status != StoryStatus.draft))
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(func.lower(Story.title).like(like), func.lower(Story.description).like(like)))
    if genre:
        query = query.where(func.lower(Story.genre) == genre.lower())
    if exclusive is not None:
        query = query.where(LicenseListing.exclusive.is_(exclusive))
    if max_fee_cents is not None:
        query = query.where(LicenseListing.asking_fee_cents <= max_fee_cents)
    if story_id:
        query = query.where(LicenseListing.story_id == story_id)
    rows = [(listing, story) for listing, story in session.execute(query)
            if media is None or media in listing.media]
    stories = list({story.id: story for _, story in rows}.values())
    metrics = metrics_for(session, stories)
    author_ids = {s.author_id for s in stories}
    authors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(author_ids)))}
    keys = {
        "newest": lambda r: (-r[0].created_at.timestamp(), r[0].id),
        "reads": lambda r: (-metrics[r[1].id].reads, r[0].id),
        "unique_readers": lambda r: (-metrics[r[1].id].unique_readers, r[0].id),
        "rating": lambda r: (-(metrics[r[1].id].rating_average or 0), -metrics[r[1].id].rating_count,
                             r[0].id),
        "followers": lambda r: (-metrics[r[1].id].followers, r[0].id),
        "fee_low": lambda r: (r[0].asking_fee_cents, r[0].id),
        "fee_high": lambda r: (-r[0].asking_fee_cents, r[0].id),
    }
    rows.sort(key=keys[sort])
    page = rows[offset:offset + limit]
    return [(listing, story, authors.get(story.author_id), metrics[story.id])
            for listing, story in page], len(rows)


# --- ownership -----------------------------------------------------------------------------------


def ownership(session: Session, *, work: WorkInfo, agreements: list[Any], disputes: list[Any],
              chain: Callable[[], ChainReader], actor: Actor) -> dict[str, Any]:
    """Who owns the work and what is already licensed: the author, every published chapter's certificate
    and where it is anchored, the licenses Legato knows (terms only for their parties) and the grants the
    ``LicenseRegistry`` holds — read from the chain itself, so a studio sees what the contract will
    enforce."""
    regs = {r.id: r for r in session.scalars(select(Registration).where(
        Registration.id.in_([c.registration_id for c in work.chapters if c.registration_id])))}
    chapters = []
    for c in work.chapters:
        reg = regs.get(c.registration_id or "")
        state = session.scalars(
            select(CertificateState).where(CertificateState.certificate_id == c.certificate_id)
            .order_by(CertificateState.id.desc())).first() if c.certificate_id else None
        anchor = json.loads(state.body).get("anchor") if state else None
        chapters.append({
            "chapter_id": c.chapter_id, "number": c.number, "title": c.title,
            "certificate_id": c.certificate_id,
            "registration_id": c.registration_id, "registration_status": reg.status.value if reg else None,
            "sha256": c.sha256, "certificate_cid": state.cid if state else None,
            "registered_at": reg.tsa_gen_time if reg else None,
            "anchor": {k: anchor[k] for k in ANCHOR_FIELDS} if anchor else None,
        })
    licenses = []
    for a in agreements:
        if a.status in (AgreementStatus.cancelled, AgreementStatus.refunded) and not sees_terms(actor, a):
            continue
        terms = a.terms_document["terms"]
        entry = {"agreement_id": a.id, "status": a.status.value, "media": terms["media"],
                 "territory": terms["territory"], "exclusive": terms["exclusive"], "start": terms["start"],
                 "end": terms["end"], "licensee": a.terms_document["licensee"], "grants": a.grants}
        if sees_terms(actor, a):
            entry |= {"fee_cents": a.fee_cents, "revenue_share_pct": terms["revenue_share_pct"],
                      "terms_hash": a.terms_hash}
        licenses.append(entry)
    try:
        grants: list[dict[str, Any]] | None = [
            {"grant_id": "0x" + g.grant_id.hex(), "medium": MEDIUM_NAMES.get(g.media, str(g.media)),
             "licensee": g.licensee, "start": g.start, "end": g.end, "exclusive": g.exclusive,
             "terms_hash": "0x" + g.terms_hash.hex(), "block_number": g.block_number}
            for g in chain().grants_of(work_id(work.story_id))]
        chain_error = None
    except RegistryError as e:
        grants, chain_error = None, f"{e.code}: {e.message}"
    return {
        "story_id": work.story_id, "title": work.title, "work_id": "0x" + work_id(work.story_id).hex(),
        "author": {"id": work.author_id, "display_name": work.author_name}, "chapters": chapters,
        "all_chapters_certified": bool(chapters) and all(c["certificate_cid"] for c in chapters),
        "licenses": licenses, "on_chain_grants": grants, "chain_error": chain_error,
        "disputes": [{"dispute_id": d.id, "status": d.status.value, "filed_at": d.created_at,
                      "original_registration_id": d.original_registration_id,
                      "copy_registration_id": d.copy_registration_id}
                     for d in disputes if d.status.value not in ("dismissed", "withdrawn")],
    }


__all__ = ["SORTS", "ContentWorks", "Metrics", "browse_listings", "metrics_for", "ownership"]
