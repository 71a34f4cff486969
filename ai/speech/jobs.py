"""Chapter audio jobs: asked for over HTTP, run by the worker, one row per chapter.

* Asking (:func:`request_audio`) is idempotent: a job already queued or running is returned as it is;
  audio that is ready for the chapter's current revision and narrator is not made again unless forced;
  failed, cancelled or stale audio is queued again on the same row.
* Claiming is one conditional UPDATE (queued and due, or running with an expired lease), so of two
  workers on PostgreSQL exactly one wins; the winner holds a lease token that every later write checks,
  so a worker that lost its lease (too slow, presumed dead) can no longer overwrite the new owner's work.
* The chapter text is read at claim time and spoken sentence by sentence into a raw PCM file on disk
  (memory stays flat for a 500,000-character chapter), then normalized and encoded (``encode.py``).
  No database transaction is held while speaking.
* Transient failures (engine or store down) are retried with backoff up to ``max_attempts``; permanent
  ones (text the engine refuses) fail at once. Errors are recorded by code and message, never with
  chapter text.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ai.errors import AiError, MediaUnavailable, SpeechFailed, SpeechUnavailable
from ai.speech import sync
from ai.speech.encode import Encoded, encode
from ai.speech.media.protocol import MediaStore
from ai.speech.models import AudioStatus, ChapterAudio
from ai.speech.narrator import narrator_for
from ai.speech.pipeline import sha256_file, speak
from ai.speech.sentences import split_sentences
from ai.speech.synth.protocol import SpeechSynthesizer
from content.crypto import ContentCipher
from content.models.stories import Chapter, Story
from content.texts import chapter_text
from registry.canonical import canonicalize
from registry.db import new_id
from registry.errors import InvalidContent

log = logging.getLogger("legato.speech")
HEARTBEAT_SECONDS = 2.0


class _Stop(Exception):
    """The job lost its lease or was cancelled: stop without touching the row further."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def audio_row(session: Session, chapter_id: str) -> ChapterAudio | None:
    return session.scalar(select(ChapterAudio).where(ChapterAudio.chapter_id == chapter_id))


def is_stale(row: ChapterAudio, chapter: Chapter) -> bool:
    return row.spoken_revision is not None and row.spoken_revision != chapter.revision


def request_audio(
    session: Session,
    synth: SpeechSynthesizer,
    chapter: Chapter,
    story: Story,
    *,
    user_id: str,
    force: bool = False,
) -> tuple[ChapterAudio, bool]:
    """Queue narration of ``chapter`` unless it is queued, running or already current. Returns the row
    and whether a job was queued by this call. The caller checked that ``user_id`` edits the story."""
    narrator = narrator_for(session, synth, story)
    row = audio_row(session, chapter.id)
    if row is None:
        row = ChapterAudio(
            chapter_id=chapter.id,
            story_id=story.id,
            requested_by=user_id,
            status=AudioStatus.queued,
            engine=narrator.engine,
            voice=narrator.voice,
            rate=narrator.rate,
            chapter_revision=chapter.revision,
        )
        try:
            with session.begin_nested():
                session.add(row)
            return row, True
        except IntegrityError:  # a concurrent request made it first: answer with that one
            row = audio_row(session, chapter.id)
            assert row is not None
            return row, False
    if row.status in (AudioStatus.queued, AudioStatus.running):
        return row, False
    current = (
        row.status == AudioStatus.ready
        and row.spoken_revision == chapter.revision
        and row.spoken_voice == narrator.voice
    )
    if current and not force:
        return row, False
    row.status, row.attempts, row.error, row.progress = AudioStatus.queued, 0, None, 0.0
    row.cancel_requested, row.not_before, row.lease_token, row.lease_until = False, None, None, None
    row.engine, row.voice, row.rate = narrator.engine, narrator.voice, narrator.rate
    row.chapter_revision, row.requested_by = chapter.revision, user_id
    session.flush()
    return row, True


def cancel_audio(session: Session, row: ChapterAudio) -> None:
    """A queued job is cancelled at once; a running one at its next heartbeat."""
    if row.status == AudioStatus.queued:
        row.status = AudioStatus.cancelled
    elif row.status == AudioStatus.running:
        row.cancel_requested = True
    session.flush()


@dataclass
class SpeechJobs:
    synth: SpeechSynthesizer
    store: MediaStore
    cipher: ContentCipher
    work_dir: Path
    lease_seconds: float = 300.0
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    max_chars: int = 500_000

    # --- claiming ------------------------------------------------------------------------------
    def _due(self, now: datetime) -> Any:
        return or_(
            and_(
                ChapterAudio.status == AudioStatus.queued,
                or_(ChapterAudio.not_before.is_(None), ChapterAudio.not_before <= now),
            ),
            and_(ChapterAudio.status == AudioStatus.running, ChapterAudio.lease_until < now),
        )

    def claim(self, session_factory: sessionmaker[Session]) -> tuple[str, str] | None:
        now = now_utc()
        with session_factory() as session:
            ids = session.scalars(
                select(ChapterAudio.id).where(self._due(now)).order_by(ChapterAudio.updated_at).limit(5)
            ).all()
            for audio_id in ids:
                token = new_id()
                done = session.execute(
                    update(ChapterAudio)
                    .where(ChapterAudio.id == audio_id, self._due(now))
                    .values(
                        status=AudioStatus.running,
                        lease_token=token,
                        attempts=ChapterAudio.attempts + 1,
                        lease_until=now + timedelta(seconds=self.lease_seconds),
                        progress=0.0,
                    )
                    .execution_options(synchronize_session=False)
                )
                session.commit()
                if done.rowcount == 1:
                    return audio_id, token
        return None

    def run_due(self, session_factory: sessionmaker[Session]) -> dict[str, Any]:
        """The worker's round: claim one job and run it to the end (or to its next retry)."""
        claimed = self.claim(session_factory)
        if claimed is None:
            return {"ran": 0}
        return {"ran": 1, "status": self.run(session_factory, *claimed)}

    # --- running -------------------------------------------------------------------------------
    def _write(
        self, session_factory: sessionmaker[Session], audio_id: str, token: str, **values: Any
    ) -> ChapterAudio:
        """Update the row only while this run still holds the lease; return it fresh."""
        with session_factory() as session:
            done = session.execute(
                update(ChapterAudio)
                .where(ChapterAudio.id == audio_id, ChapterAudio.lease_token == token)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            session.commit()
            row = session.get(ChapterAudio, audio_id)
            if done.rowcount != 1 or row is None:
                raise _Stop("lease lost")
            session.expunge(row)
            return row

    def run(self, session_factory: sessionmaker[Session], audio_id: str, token: str) -> str:
        job_dir = self.work_dir / f"job-{audio_id}-{token[:8]}"
        try:
            job_dir.mkdir(parents=True, exist_ok=True)
            return self._run(session_factory, audio_id, token, job_dir)
        except _Stop as e:
            if str(e) == "cancelled":
                self._finish(session_factory, audio_id, token, status=AudioStatus.cancelled)
                return "cancelled"
            return "lease lost"
        except AiError as e:
            return self._failed(session_factory, audio_id, token, e)
        except InvalidContent as e:
            return self._failed(session_factory, audio_id, token, SpeechFailed(e.message))
        except Exception as e:  # an engine bug: retried like an outage, logged without the text
            log.exception("speech job crashed", extra={"audio_id": audio_id})
            return self._failed(session_factory, audio_id, token, SpeechUnavailable(type(e).__name__))
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)

    def _finish(
        self, session_factory: sessionmaker[Session], audio_id: str, token: str, **values: Any
    ) -> None:
        with contextlib.suppress(_Stop):
            self._write(session_factory, audio_id, token, lease_token=None, lease_until=None, **values)

    def _failed(self, session_factory: sessionmaker[Session], audio_id: str, token: str, e: AiError) -> str:
        with session_factory() as session:
            row = session.get(ChapterAudio, audio_id)
            attempts = row.attempts if row is not None else self.max_attempts
        error = json.dumps({"code": e.code, "message": e.message[:300]})
        transient = isinstance(e, SpeechUnavailable | MediaUnavailable)
        if transient and attempts < self.max_attempts:
            wait = self.retry_base_seconds * 2 ** (attempts - 1)
            self._finish(
                session_factory,
                audio_id,
                token,
                status=AudioStatus.queued,
                error=error,
                not_before=now_utc() + timedelta(seconds=wait),
            )
            log.warning("speech job will retry", extra={"audio_id": audio_id, "code": e.code})
            return "retry"
        self._finish(session_factory, audio_id, token, status=AudioStatus.failed, error=error)
        log.warning(
            "speech job failed: %s %s",
            e.code,
            json.dumps(e.details)[:500],
            extra={"audio_id": audio_id, "code": e.code},
        )
        return "failed"

    def _load(self, session_factory: sessionmaker[Session], audio_id: str, token: str) -> tuple[Any, ...]:
        with session_factory() as session:
            row = session.get(ChapterAudio, audio_id)
            chapter = session.get(Chapter, row.chapter_id) if row is not None else None
            if row is None or chapter is None or row.lease_token != token:
                raise _Stop("lease lost")
            text = canonicalize(chapter_text(self.cipher, chapter), max_chars=self.max_chars)
            return row.chapter_id, chapter.revision, row.voice, row.rate, text

    def _encode_alive(
        self,
        session_factory: sessionmaker[Session],
        audio_id: str,
        token: str,
        raw: Path,
        sample_rate: int,
        duration_ms: int,
        job_dir: Path,
    ) -> Encoded:
        """Encode in a thread while this one keeps the lease: ffmpeg on an eight-hour chapter runs for
        many minutes, longer than a lease, and another worker must not take the job meanwhile. A cancel
        asked for during encoding takes effect when ffmpeg returns."""
        timeout = 600 + duration_ms / 1000  # generous: real time on top of ten minutes
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech-encode") as pool:
            future = pool.submit(encode, raw, sample_rate, job_dir, timeout=timeout)
            cancelled = False
            while True:
                try:
                    encoded = future.result(timeout=max(HEARTBEAT_SECONDS, 0.2))
                    break
                except FutureTimeout:
                    row = self._write(
                        session_factory,
                        audio_id,
                        token,
                        lease_until=now_utc() + timedelta(seconds=self.lease_seconds),
                    )
                    cancelled = cancelled or row.cancel_requested
        if cancelled:
            raise _Stop("cancelled")
        return encoded

    def _run(self, session_factory: sessionmaker[Session], audio_id: str, token: str, job_dir: Path) -> str:
        chapter_id, revision, voice, rate, text = self._load(session_factory, audio_id, token)
        sentences = list(split_sentences(text))
        if not sentences:
            raise SpeechFailed("The chapter has nothing to speak.")
        beat = time.monotonic()

        def heartbeat(done: int) -> None:
            nonlocal beat
            if time.monotonic() - beat < HEARTBEAT_SECONDS:
                return
            beat = time.monotonic()
            row = self._write(
                session_factory,
                audio_id,
                token,
                progress=done / len(sentences),
                lease_until=now_utc() + timedelta(seconds=self.lease_seconds),
            )
            if row.cancel_requested:
                raise _Stop("cancelled")

        raw = job_dir / "speech.raw"
        cues, duration_ms, sample_rate = speak(
            self.synth, sentences, voice=voice, rate=rate, out=raw, heartbeat=heartbeat
        )
        encoded = self._encode_alive(session_factory, audio_id, token, raw, sample_rate, duration_ms, job_dir)
        doc = sync.document(cues, duration_ms=duration_ms, revision=revision, voice=voice)
        sync_file = job_dir / "sync.bin"
        sync_file.write_bytes(sync.seal_document(self.cipher, doc, chapter_id=chapter_id, audio_id=audio_id))
        digests = {"opus": sha256_file(encoded.opus), "mp3": sha256_file(encoded.mp3)}
        keys = {kind: f"audio/{chapter_id}/{audio_id}-{digests[kind][:16]}.{kind}" for kind in digests}
        keys["sync"] = f"audio/{chapter_id}/{audio_id}-{token[:8]}.sync"
        try:
            self.store.put_file(keys["opus"], encoded.opus, content_type="audio/ogg")
            self.store.put_file(keys["mp3"], encoded.mp3, content_type="audio/mpeg")
            self.store.put_file(keys["sync"], sync_file, content_type="application/octet-stream")
        except OSError as e:
            raise MediaUnavailable("The media store refused the files.") from e
        with session_factory() as session:
            old = session.get(ChapterAudio, audio_id)
            old_keys = {k for k in (old.opus_key, old.mp3_key, old.sync_key) if k} if old else set()
        self._write(
            session_factory,
            audio_id,
            token,
            status=AudioStatus.ready,
            progress=1.0,
            error=None,
            lease_token=None,
            lease_until=None,
            spoken_revision=revision,
            spoken_voice=voice,
            duration_ms=duration_ms,
            sentences=len(cues),
            loudness_lufs=encoded.loudness_lufs,
            opus_key=keys["opus"],
            opus_bytes=encoded.opus.stat().st_size,
            opus_sha256=digests["opus"],
            mp3_key=keys["mp3"],
            mp3_bytes=encoded.mp3.stat().st_size,
            mp3_sha256=digests["mp3"],
            sync_key=keys["sync"],
            finished_at=now_utc(),
        )
        for key in old_keys - set(keys.values()):
            self.store.delete(key)
        log.info(
            "chapter audio ready",
            extra={"audio_id": audio_id, "duration_ms": duration_ms, "sentences": len(cues)},
        )
        return "ready"
