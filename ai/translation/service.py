"""The translation workflow, from request to published text: who may do what, and the draft and refresh
work the worker runs.

request (the chapter's writer) → job → machine draft + quality report → edits by the writer or the
translator they invited → publish (the writer) → readers read it with ``?lang=``. Translations follow
the chapter's current version: once the original has a newer version the translation is *stale*, the
paragraphs that changed are listed (by paragraph digest, :mod:`ai.translation.sync`), and a refresh
re-translates only those, keeping the reviewed ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import User
from ai.errors import EngineUnavailable, Forbidden, InvalidRequest, InvalidState, NotFound, PairUnavailable
from ai.translation import jobs, quality, sync, text
from ai.translation.detect import Detection, detect
from ai.translation.glossary import glossary_for
from ai.translation.languages import normalize
from ai.translation.models import Translation, TranslationJob, TranslationStatus
from ai.translation.protocol import Pair, Segment, Translator
from content import access
from content.chapters import get_version
from content.crypto import ContentCipher, Sealed
from content.models.stories import Chapter, ChapterStatus, Story
from content.texts import version_text

# Text per engine call: progress and cancellation between chunks. Large, because each Apertium run
# starts a pipeline (~0.15 s of CPU): 100,000 characters (~17,000 words) keep that under 10%.
CHUNK_CHARS = 100_000


def chunks(indexes: list[int], sources: list[str], limit: int = CHUNK_CHARS) -> list[list[int]]:
    out: list[list[int]] = []
    size = limit
    for i in indexes:
        if size + len(sources[i]) > limit and (not out or out[-1]):
            out.append([])
            size = 0
        out[-1].append(i)
        size += len(sources[i])
    return out


def translation_aad(translation_id: str, revision: int) -> bytes:
    return f"legato-translation:{translation_id}:{revision}".encode()


class Translations:
    def __init__(
        self,
        *,
        translator: Translator,
        cipher: Callable[[], ContentCipher],
        max_paragraph_chars: int = 20_000,
        on_publish: Callable[[Session, Translation, str], None] | None = None,
    ) -> None:
        self.translator = translator
        self.on_publish = on_publish
        self._cipher = cipher
        self.max_paragraph_chars = max_paragraph_chars

    @property
    def cipher(self) -> ContentCipher:
        return self._cipher()

    # --- engine ------------------------------------------------------------------------------
    def pairs(self) -> list[Pair]:
        return self.translator.pairs()

    def check_pair(self, source: str, target: str) -> None:
        pairs = self.pairs()
        if not pairs:
            raise EngineUnavailable(
                "No translation engine is available: install apertium and its pairs (Debian: "
                "apertium-eng-spa…) or configure a provider.",
                details={"engine": self.translator.name},
            )
        if Pair(source, target) not in pairs:
            raise PairUnavailable(
                f"No {source}→{target} translation is available.",
                details={"source": source, "target": target, "available": [p.as_dict() for p in pairs]},
            )

    # --- texts -------------------------------------------------------------------------------
    def source_text(self, session: Session, chapter: Chapter, version: int | None = None) -> str:
        row = get_version(session, chapter, version or chapter.current_version or 0)
        if row is None:
            raise InvalidState(
                "The chapter has no published version to translate.", details={"chapter_id": chapter.id}
            )
        return version_text(self.cipher, row)

    def text_of(self, translation: Translation) -> str:
        if translation.body_enc is None or translation.key_id is None:
            return ""
        return self.cipher.open(
            Sealed(translation.key_id, translation.body_enc),
            translation_aad(translation.id, translation.revision),
        )

    def store_text(self, translation: Translation, paragraphs: list[str]) -> None:
        translation.revision += 1
        sealed = self.cipher.seal(
            text.join(paragraphs), translation_aad(translation.id, translation.revision)
        )
        translation.key_id, translation.body_enc = sealed.key_id, sealed.blob

    def detection(self, session: Session, chapter: Chapter, story: Story) -> Detection:
        return detect(self.source_text(session, chapter), story.language)

    # --- access ------------------------------------------------------------------------------
    @staticmethod
    def may_edit(user: User | None, story: Story, translation: Translation) -> bool:
        return access.can_edit_story(user, story) or (
            user is not None and translation.translator_id == user.id
        )

    def editable(self, session: Session, user: User, translation_id: str) -> tuple[Translation, Story]:
        translation = session.get(Translation, translation_id)
        story = session.get(Story, translation.story_id) if translation is not None else None
        if translation is None or story is None or not self.may_edit(user, story, translation):
            raise NotFound("No such translation.", details={"translation_id": translation_id})
        return translation, story

    def owned(self, session: Session, user: User, translation_id: str) -> tuple[Translation, Story]:
        translation, story = self.editable(session, user, translation_id)
        if not access.can_edit_story(user, story):
            raise Forbidden(
                "Only the chapter's writer can do this.", details={"translation_id": translation_id}
            )
        return translation, story

    def job_for(self, session: Session, user: User, job_id: str) -> TranslationJob:
        job = session.get(TranslationJob, job_id)
        if job is None:
            raise NotFound("No such job.", details={"job_id": job_id})
        try:
            self.editable(session, user, job.translation_id)
        except NotFound:
            raise NotFound("No such job.", details={"job_id": job_id}) from None
        return job

    # --- workflow ----------------------------------------------------------------------------
    def request(
        self, session: Session, user: User, chapter_id: str, language: str
    ) -> tuple[Translation, TranslationJob | None, bool]:
        """Ask for a machine draft of the chapter's current version in ``language``. Asking again
        returns the translation already there (and restarts one that failed or was cancelled)."""
        chapter, story = access.editable_chapter(session, chapter_id, user)
        if chapter.status != ChapterStatus.published or not chapter.current_version:
            raise InvalidState(
                "Publish the chapter before translating it.", details={"chapter_id": chapter_id}
            )
        target = normalize(language)
        found = self.detection(session, chapter, story)
        source = found.language
        if source is None:
            raise InvalidRequest(
                "The chapter's language cannot be told; set the story's language.",
                details={"chapter_id": chapter_id},
            )
        if source == target:
            raise InvalidRequest("The chapter is already in this language.", details={"language": target})
        self.check_pair(source, target)
        session.execute(select(Chapter.id).where(Chapter.id == chapter.id).with_for_update())
        translation = session.scalars(
            select(Translation).where(Translation.chapter_id == chapter.id, Translation.language == target)
        ).first()
        created = translation is None
        if translation is None:
            translation = Translation(
                chapter_id=chapter.id,
                story_id=story.id,
                language=target,
                source_language=source,
                source_version=chapter.current_version,
                engine=self.translator.name,
                requested_by=user.id,
                segments=[],
            )
            session.add(translation)
            session.flush()
        elif translation.status not in (TranslationStatus.failed, TranslationStatus.cancelled):
            active = session.scalars(
                select(TranslationJob).where(
                    TranslationJob.translation_id == translation.id,
                    TranslationJob.status.in_(jobs.ACTIVE_JOB),
                )
            ).first()
            return translation, active, False
        translation.status, translation.source_language = TranslationStatus.drafting, source
        translation.source_version, translation.engine = chapter.current_version, self.translator.name
        job = jobs.enqueue(session, translation, "draft", user.id)
        return translation, job, created

    def refresh(self, session: Session, user: User, translation_id: str) -> TranslationJob:
        translation, _ = self.editable(session, user, translation_id)
        chapter = session.get(Chapter, translation.chapter_id)
        if (
            translation.status not in (TranslationStatus.draft, TranslationStatus.published)
            or chapter is None
        ):
            raise InvalidState(
                "Only a finished draft or a published translation can be refreshed.",
                details={"status": translation.status.value},
            )
        if translation.source_version == chapter.current_version:
            raise InvalidState(
                "The translation already follows the current version.",
                details={"version": translation.source_version},
            )
        self.check_pair(translation.source_language, translation.language)
        return jobs.enqueue(session, translation, "refresh", user.id)

    def update(
        self,
        session: Session,
        user: User,
        translation_id: str,
        *,
        edits: dict[int, str],
        reviewed: list[int] | None,
        review_all: bool,
    ) -> Translation:
        """Replace paragraphs by index (each becomes reviewed) and mark others reviewed as they are."""
        translation, _ = self.editable(session, user, translation_id)
        if translation.status not in (TranslationStatus.draft, TranslationStatus.published):
            raise InvalidState(
                "The translation has no draft to edit yet.", details={"status": translation.status.value}
            )
        paragraphs = text.split(self.text_of(translation))
        segments = [dict(s) for s in translation.segments]
        for index in [*edits, *(reviewed or [])]:
            if not 0 <= index < len(paragraphs):
                raise InvalidRequest(
                    "No such paragraph.", details={"index": index, "paragraphs": len(paragraphs)}
                )
        for index, new in edits.items():
            parts = text.split(new)
            if len(parts) != 1 or len(new) > self.max_paragraph_chars:
                raise InvalidRequest(
                    "An edit replaces exactly one paragraph (no blank lines).", details={"index": index}
                )
            paragraphs[index] = parts[0]
        for index in (
            set(edits) | set(reviewed or []) | (set(range(len(paragraphs))) if review_all else set())
        ):
            segments[index]["reviewed"] = True
            segments[index]["edited"] = segments[index].get("edited", False) or index in edits
        self.store_text(translation, paragraphs)
        translation.segments = segments
        translation.reviewed_by, translation.reviewed_at = user.id, datetime.now(UTC)
        self.rescore(session, translation, paragraphs)
        return translation

    def rescore(self, session: Session, translation: Translation, paragraphs: list[str]) -> None:
        chapter = session.get(Chapter, translation.chapter_id)
        assert chapter is not None
        sources = text.split(self.source_text(session, chapter, translation.source_version))
        unknown = [[] if s.get("reviewed") else s.get("unknown", []) for s in translation.segments]
        glossary = glossary_for(session, translation.story_id, translation.language)
        translation.report = quality.report(sources, paragraphs, unknown=unknown, glossary=glossary)
        translation.score = translation.report["score"]

    def publish(self, session: Session, user: User, translation_id: str) -> Translation:
        """The writer makes the translation readable. A translation of an older version must be
        refreshed first: readers never get a text that no longer matches the original."""
        translation, _ = self.owned(session, user, translation_id)
        session.refresh(translation, with_for_update=True)
        if translation.status not in (TranslationStatus.draft, TranslationStatus.published):
            raise InvalidState(
                "Only a finished draft can be published.", details={"status": translation.status.value}
            )
        chapter = session.get(Chapter, translation.chapter_id)
        if chapter is None or chapter.current_version != translation.source_version:
            raise InvalidState(
                "The original has a newer version: refresh the translation first.",
                details={
                    "source_version": translation.source_version,
                    "current_version": chapter.current_version if chapter else None,
                },
            )
        if self.on_publish is not None:
            self.on_publish(session, translation, self.text_of(translation))
        translation.status = TranslationStatus.published
        translation.published_at = translation.published_at or datetime.now(UTC)
        session.flush()
        return translation

    def invite(self, session: Session, user: User, translation_id: str, username: str | None) -> Translation:
        translation, _ = self.owned(session, user, translation_id)
        if username is None:
            translation.translator_id = None
            return translation
        from sqlalchemy import func

        invitee = session.scalars(
            select(User).where(func.lower(User.username) == username.lower()[:40])
        ).first()
        if invitee is None or not invitee.is_active:
            raise NotFound("No such user.", details={"username": username[:40]})
        translation.translator_id = invitee.id
        return translation

    def published(self, session: Session, chapter: Chapter, language: str) -> Translation | None:
        return session.scalars(
            select(Translation).where(
                Translation.chapter_id == chapter.id,
                Translation.language == normalize(language),
                Translation.status == TranslationStatus.published,
            )
        ).first()

    def languages_of(self, session: Session, chapter: Chapter, *, everything: bool) -> list[Translation]:
        q = select(Translation).where(Translation.chapter_id == chapter.id)
        if not everything:
            q = q.where(Translation.status == TranslationStatus.published)
        return list(session.scalars(q.order_by(Translation.language)))

    # --- worker ------------------------------------------------------------------------------
    def execute(self, session_factory: sessionmaker[Session]) -> Callable[[TranslationJob, jobs.Lease], None]:
        """The job body the runner calls: read what to translate, translate outside any transaction, apply."""

        def run(job: TranslationJob, lease: jobs.Lease) -> None:
            with session_factory() as session:
                translation = session.get(Translation, job.translation_id)
                chapter = session.get(Chapter, translation.chapter_id) if translation else None
                if translation is None or chapter is None:
                    raise jobs.Cancelled(job.id)
                version = chapter.current_version or translation.source_version
                sources = text.split(self.source_text(session, chapter, version))
                glossary = glossary_for(session, translation.story_id, translation.language)
                old = text.split(self.text_of(translation)) if job.kind == "refresh" else []
                plan = (
                    sync.plan(translation.segments, old, text.digests(sources))
                    if job.kind == "refresh"
                    else sync.Plan(kept={}, todo=list(range(len(sources))))
                )
                pair = (translation.source_language, translation.language)
            done: dict[int, Segment] = {}
            todo, started = plan.todo, 0
            for chunk in chunks(plan.todo, sources):
                lease.progress(int(100 * started / max(1, len(todo))))
                started += len(chunk)
                out = self.translator.translate(
                    [sources[i] for i in chunk], source=pair[0], target=pair[1], glossary=glossary
                )
                done.update(zip(chunk, out, strict=True))

            def apply(session: Session) -> None:
                row = session.get(Translation, job.translation_id, with_for_update=True)
                if row is None:
                    raise jobs.Cancelled(job.id)
                paragraphs, segments = sync.merge(sources, plan, done)
                self.store_text(row, paragraphs)
                row.segments, row.source_version, row.engine = segments, version, self.translator.name
                if row.status in (
                    TranslationStatus.drafting,
                    TranslationStatus.failed,
                    TranslationStatus.cancelled,
                ):
                    row.status = TranslationStatus.draft
                self.rescore(session, row, paragraphs)

            lease.finish(apply)

        return run


def summary(translation: Translation) -> dict[str, Any]:
    return {
        "id": translation.id,
        "language": translation.language,
        "status": translation.status.value,
        "review": review_state(translation),
        "score": translation.score,
    }


def review_state(translation: Translation) -> str:
    flags = [bool(s.get("reviewed")) for s in translation.segments]
    if flags and all(flags):
        return "reviewed"
    return "partial" if any(flags) else "machine"
