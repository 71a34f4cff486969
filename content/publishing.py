"""Publishing: every published text is registered first, so every published chapter has a certificate.

The registry is called inside the caller's transaction before anything about the chapter changes. When it
refuses the text (``PLAGIARISM_SUSPECTED``, or unusable text) the error propagates, the transaction rolls
back and the chapter stays exactly as it was; the HTTP layer returns the registry's 409 with its evidence.

Each registered text is kept as a :class:`ChapterVersion` (sealed under its own associated data), and the
chapter carries the newest one's ``registration_id``, ``certificate_id`` and ``sha256``. The registry
decides work identity: the same author's edited text becomes a new version of the same registered work.

Publishing a chapter of a draft story moves the story to ``ongoing``: publishing is the author's explicit
act of going live, and a published chapter inside an invisible story would serve no reader. The
registration's author is always the story's author, also when an admin publishes on their behalf.

Scheduled chapters are published by the worker through :func:`publish_due`. A refusal there cannot be
answered with a 409, so it is recorded on the chapter (status ``publish_failed`` and ``publish_error``)
and not retried; any other failure is retried on later rounds, at most ``MAX_SCHEDULED_ATTEMPTS`` times.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from content.crypto import ContentCipher, version_aad
from content.errors import InvalidPublishTime, InvalidStateTransition
from content.models.stories import Chapter, ChapterStatus, ChapterVersion, Story, StoryStatus
from content.stories import set_status
from content.texts import chapter_text, count_words, replace_text
from registry.errors import InvalidContent, PlagiarismSuspected, RegistryError
from registry.service import Author

if TYPE_CHECKING:
    from registry.service import Registered, Registry

log = logging.getLogger("legato.content")

MAX_SCHEDULED_ATTEMPTS = 5
# Refusals that will not change by trying again: recorded on the chapter, not retried.
FINAL_REFUSALS: tuple[type[RegistryError], ...] = (PlagiarismSuspected, InvalidContent)


def registration_title(story: Story, chapter: Chapter) -> str:
    return f"{story.title} — {chapter.number}. {chapter.title}"[:300]


def _register(session: Session, registry: Registry, story: Story, chapter: Chapter, text: str) -> Registered:
    author = session.get(User, story.author_id)
    if author is None:
        raise RuntimeError(f"story {story.id} has no author row")
    return registry.register(
        session, text=text, title=registration_title(story, chapter),
        author=Author(id=author.id, display_name=author.public_name, wallet=author.wallet_address),
        story_id=story.id, chapter_id=chapter.id,
    )


def _add_version(
    session: Session, cipher: ContentCipher, chapter: Chapter, text: str, registered: Registered,
    actor_id: str | None,
) -> ChapterVersion:
    number = 1 + (session.scalar(
        select(func.max(ChapterVersion.version)).where(ChapterVersion.chapter_id == chapter.id)
    ) or 0)
    reg = registered.registration
    sealed = cipher.seal(text, version_aad(chapter.id, number))
    version = ChapterVersion(
        chapter_id=chapter.id, version=number, title=chapter.title, word_count=count_words(text),
        key_id=sealed.key_id, body_enc=sealed.blob, sha256=reg.sha256, registration_id=reg.id,
        certificate_id=reg.certificate_id, work_id=reg.work_id, created_by=actor_id,
    )
    session.add(version)
    chapter.current_version = number
    chapter.registration_id, chapter.certificate_id, chapter.sha256 = reg.id, reg.certificate_id, reg.sha256
    return version


def publish(
    session: Session, cipher: ContentCipher, registry: Registry, chapter: Chapter, story: Story, *,
    actor_id: str | None = None, now: datetime | None = None,
) -> Chapter:
    """Register the chapter's text and publish it. Publishing a published chapter changes nothing.

    The chapter row is re-read under ``FOR UPDATE`` first: racing publishes queue on it, and each one
    after the first sees it published and returns it, so one text makes one version and one certificate."""
    session.refresh(chapter, with_for_update=True)
    if chapter.status == ChapterStatus.published:
        return chapter
    text = chapter_text(cipher, chapter)
    registered = _register(session, registry, story, chapter, text)
    _add_version(session, cipher, chapter, text, registered, actor_id)
    now = now or datetime.now(UTC)
    chapter.status = ChapterStatus.published
    chapter.published_at = chapter.published_at or now
    chapter.publish_at = None
    chapter.publish_error = None
    chapter.updated_at = now
    if story.status == StoryStatus.draft:
        set_status(session, story, StoryStatus.ongoing)
    session.flush()
    log.info("chapter published", extra={"chapter_id": chapter.id, "certificate_id": chapter.certificate_id})
    return chapter


def register_new_text(
    session: Session, cipher: ContentCipher, registry: Registry, chapter: Chapter, story: Story, text: str, *,
    actor: User,
) -> ChapterVersion | None:
    """New text for a published chapter: registered, then stored as the next version. The chapter row is
    locked and its current hash re-read, so racing edits take version numbers one after the other."""
    current_sha256 = session.scalar(select(Chapter.sha256).where(Chapter.id == chapter.id).with_for_update())
    prepared = registry.prepare(text)
    if prepared.sha256 == current_sha256:
        replace_text(cipher, chapter, text)
        return None
    registered = _register(session, registry, story, chapter, text)
    replace_text(cipher, chapter, text)
    return _add_version(session, cipher, chapter, text, registered, actor.id)


def schedule(chapter: Chapter, publish_at: datetime, *, now: datetime | None = None) -> Chapter:
    now = now or datetime.now(UTC)
    if chapter.status == ChapterStatus.published:
        raise InvalidStateTransition("The chapter is already published.",
                                     details={"from": chapter.status.value, "to": "scheduled"})
    if publish_at <= now:
        raise InvalidPublishTime("The publish time must be in the future.",
                                 details={"publish_at": publish_at.isoformat(), "now": now.isoformat()})
    chapter.status = ChapterStatus.scheduled
    chapter.publish_at = publish_at
    chapter.publish_error = None
    chapter.publish_attempts = 0
    return chapter


def unschedule(chapter: Chapter) -> Chapter:
    if chapter.status not in (ChapterStatus.scheduled, ChapterStatus.publish_failed):
        raise InvalidStateTransition("The chapter is not scheduled.",
                                     details={"from": chapter.status.value, "to": "draft"})
    chapter.status = ChapterStatus.draft
    chapter.publish_at = None
    return chapter


@dataclass
class DueReport:
    published: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)


def _record_failure(chapter: Chapter, code: str, message: str, details: dict[str, object]) -> None:
    chapter.status = ChapterStatus.publish_failed
    chapter.publish_error = json.dumps({"code": code, "message": message, "details": details}, default=str)


def publish_due(
    session: Session, now: datetime, *, registry: Registry, cipher: ContentCipher, limit: int = 50,
) -> DueReport:
    """Publish scheduled chapters whose time has come, each in its own savepoint."""
    report = DueReport()
    due = list(session.scalars(
        select(Chapter).where(Chapter.status == ChapterStatus.scheduled, Chapter.publish_at <= now)
        .order_by(Chapter.publish_at, Chapter.number).limit(limit).with_for_update(skip_locked=True)
    ))
    for chapter in due:
        story = session.get(Story, chapter.story_id)
        if story is None:
            continue
        try:
            with session.begin_nested():
                publish(session, cipher, registry, chapter, story, now=now)
        except FINAL_REFUSALS as e:
            _record_failure(chapter, e.code, e.message, e.details)
            report.failed.append(chapter.id)
            log.warning("scheduled publish refused", extra={"chapter_id": chapter.id, "code": e.code})
        except Exception as e:
            chapter.publish_attempts += 1
            log.exception("scheduled publish failed", extra={"chapter_id": chapter.id})
            if chapter.publish_attempts >= MAX_SCHEDULED_ATTEMPTS:
                _record_failure(
                    chapter, "PUBLISH_FAILED", f"Gave up after {chapter.publish_attempts} attempts.",
                    {"last_error": type(e).__name__},
                )
                report.failed.append(chapter.id)
            else:
                report.retrying.append(chapter.id)
        else:
            report.published.append(chapter.id)
    session.flush()
    return report
