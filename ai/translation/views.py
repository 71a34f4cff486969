"""What the writer, translator and reader are shown of a translation (plain dicts the HTTP schemas check).

The editor's view is side by side: each source paragraph of the version translated, its translation,
whether a person reviewed it, and its issues from the quality report; plus whether the original has
moved on (``stale``) and which of the new version's paragraphs changed. The reader's label says plainly
whether a person reviewed the machine's work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai.translation import sync, text
from ai.translation.jobs import ACTIVE_JOB, job_dict
from ai.translation.models import Translation, TranslationJob
from ai.translation.service import Translations, review_state
from content.models.stories import Chapter

LABELS = {
    "machine": "Machine translation, not reviewed",
    "partial": "Machine translation, partly reviewed",
    "reviewed": "Reviewed translation",
}


def staleness(session: Session, translations: Translations, translation: Translation) -> dict[str, Any]:
    chapter = session.get(Chapter, translation.chapter_id)
    current = chapter.current_version if chapter is not None else None
    if current is None or current == translation.source_version or not translation.segments:
        return {
            "stale": False,
            "current_version": current,
            "changed_paragraphs": [],
            "removed_paragraphs": [],
        }
    assert chapter is not None
    digests = text.digests(text.split(translations.source_text(session, chapter, current)))
    diff = sync.changes(translation.segments, digests)
    return {
        "stale": True,
        "current_version": current,
        "changed_paragraphs": diff["changed"],
        "removed_paragraphs": diff["removed"],
    }


def latest_job(session: Session, translation: Translation) -> TranslationJob | None:
    return session.scalars(
        select(TranslationJob)
        .where(TranslationJob.translation_id == translation.id)
        .order_by(TranslationJob.created_at.desc(), TranslationJob.id)
    ).first()


def meta(translation: Translation) -> dict[str, Any]:
    review = review_state(translation)
    return {
        "id": translation.id,
        "chapter_id": translation.chapter_id,
        "story_id": translation.story_id,
        "language": translation.language,
        "source_language": translation.source_language,
        "source_version": translation.source_version,
        "status": translation.status.value,
        "engine": translation.engine,
        "review": review,
        "label": LABELS[review],
        "score": translation.score,
        "published_at": translation.published_at,
        "certificate_id": translation.certificate_id,
        "sha256": translation.sha256,
    }


def editor_view(session: Session, translations: Translations, translation: Translation) -> dict[str, Any]:
    chapter = session.get(Chapter, translation.chapter_id)
    assert chapter is not None
    report = translation.report or {}
    issues = {f["index"]: f["issues"] for f in report.get("flagged", [])}
    paragraphs: list[dict[str, Any]] = []
    if translation.body_enc is not None:
        sources = text.split(translations.source_text(session, chapter, translation.source_version))
        targets = text.split(translations.text_of(translation))
        for i in range(max(len(sources), len(targets))):
            segment = translation.segments[i] if i < len(translation.segments) else {}
            paragraphs.append(
                {
                    "index": i,
                    "source": sources[i] if i < len(sources) else None,
                    "text": targets[i] if i < len(targets) else None,
                    "reviewed": bool(segment.get("reviewed")),
                    "issues": issues.get(i, []),
                }
            )
    job = latest_job(session, translation)
    active = job is not None and job.status in ACTIVE_JOB
    return {
        **meta(translation),
        **staleness(session, translations, translation),
        "translator_id": translation.translator_id,
        "reviewed_by": translation.reviewed_by,
        "report": translation.report,
        "paragraphs": paragraphs,
        "job": job_dict(job) if job is not None else None,
        "busy": active,
    }
