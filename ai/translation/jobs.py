"""The translation job queue: durable rows the worker claims, runs, retries and finishes.

* **Claim**: one transaction picks the oldest due job — queued and due, or running with its lease run
  out (its worker died) — under ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never take the
  same one, and marks it running under this worker's name with a lease.
* **Run**: the engine works outside any transaction, in chunks of paragraphs; between chunks the job's
  progress is written and its lease extended, and a cancelled job stops.
* **Finish**: the result is applied only if the job is still running under this worker's name (not
  cancelled, not taken over after an expired lease): a job is applied once, whatever dies when.
* **Retry**: an engine that is down (``TRANSLATION_PROVIDER_UNAVAILABLE``) or an unexpected fault puts
  the job back in the queue with exponential backoff (10 s, 20 s, 40 s… at most 15 min) until
  ``max_attempts``; a refusal that will not change (no pair, provider refusing) fails it with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from ai.errors import AiError, ProviderUnavailable
from ai.translation.models import ACTIVE_JOB, JobStatus, Translation, TranslationJob, TranslationStatus

log = logging.getLogger("legato.ai.translation")

BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 900


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def worker_name() -> str:
    return f"{socket.gethostname()[:50]}:{os.getpid()}"


def enqueue(
    session: Session, translation: Translation, kind: str, requested_by: str | None
) -> TranslationJob:
    """A new job for ``translation``, or the one already queued or running (one at a time per translation;
    the caller holds the translation's row lock)."""
    active = session.scalars(
        select(TranslationJob).where(
            TranslationJob.translation_id == translation.id, TranslationJob.status.in_(ACTIVE_JOB)
        )
    ).first()
    if active is not None:
        return active
    job = TranslationJob(
        translation_id=translation.id,
        kind=kind,
        requested_by=requested_by,
        status=JobStatus.queued,
        next_attempt_at=datetime.now(UTC),
    )
    session.add(job)
    session.flush()
    return job


class Cancelled(Exception):
    """The job was cancelled or taken over while it ran: drop the work, apply nothing."""


@dataclass
class Lease:
    """What a running job may do with its row: report progress (extending the lease) and check it
    still holds the job."""

    session_factory: sessionmaker[Session]
    job_id: str
    worker: str
    lease: timedelta

    def _held(self, session: Session) -> TranslationJob:
        job = session.get(TranslationJob, self.job_id, with_for_update=True)
        if job is None or job.status != JobStatus.running or job.worker != self.worker:
            raise Cancelled(self.job_id)
        return job

    def progress(self, percent: int) -> None:
        with self.session_factory() as session, session.begin():
            job = self._held(session)
            job.progress = max(0, min(99, percent))
            job.lease_until = datetime.now(UTC) + self.lease

    def finish(self, apply: Callable[[Session], None]) -> None:
        """Run ``apply`` and mark the job done in one transaction, only while this worker holds it."""
        with self.session_factory() as session, session.begin():
            job = self._held(session)
            apply(session)
            job.status, job.progress, job.finished_at = JobStatus.done, 100, datetime.now(UTC)
            job.lease_until, job.error = None, None


class JobRunner:
    def __init__(
        self,
        *,
        execute: Callable[[TranslationJob, Lease], None],
        max_attempts: int = 8,
        lease_seconds: float = 300.0,
        worker: str | None = None,
    ) -> None:
        self.execute = execute
        self.max_attempts = max_attempts
        self.lease = timedelta(seconds=lease_seconds)
        self.worker = worker or worker_name()

    def claim(self, session_factory: sessionmaker[Session]) -> TranslationJob | None:
        now = datetime.now(UTC)
        with session_factory() as session, session.begin():
            job = session.scalars(
                select(TranslationJob)
                .where(
                    or_(
                        (TranslationJob.status == JobStatus.queued) & (TranslationJob.next_attempt_at <= now),
                        (TranslationJob.status == JobStatus.running) & (TranslationJob.lease_until < now),
                    )
                )
                .order_by(TranslationJob.next_attempt_at, TranslationJob.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if job is None:
                return None
            job.status, job.worker, job.attempts = JobStatus.running, self.worker, job.attempts + 1
            job.lease_until, job.started_at = now + self.lease, job.started_at or now
            session.flush()
            session.expunge(job)
            return job

    def run_once(self, session_factory: sessionmaker[Session], *, limit: int = 5) -> dict[str, int]:
        """Claim and run due jobs, at most ``limit`` this round."""
        out = {"done": 0, "retrying": 0, "failed": 0, "cancelled": 0}
        for _ in range(limit):
            job = self.claim(session_factory)
            if job is None:
                break
            out[self._run(session_factory, job)] += 1
        return out

    def _run(self, session_factory: sessionmaker[Session], job: TranslationJob) -> str:
        lease = Lease(session_factory, job.id, self.worker, self.lease)
        try:
            self.execute(job, lease)
            return "done"
        except Cancelled:
            return "cancelled"
        except ProviderUnavailable as e:
            return self._fail(session_factory, job, e.code, e.message, retry=True)
        except AiError as e:
            return self._fail(session_factory, job, e.code, e.message, retry=False)
        except Exception as e:
            log.exception("translation job failed", extra={"job_id": job.id})
            return self._fail(session_factory, job, "INTERNAL_ERROR", type(e).__name__, retry=True)

    def _fail(
        self,
        session_factory: sessionmaker[Session],
        job: TranslationJob,
        code: str,
        message: str,
        *,
        retry: bool,
    ) -> str:
        with session_factory() as session, session.begin():
            row = session.get(TranslationJob, job.id, with_for_update=True)
            if row is None or row.status != JobStatus.running or row.worker != self.worker:
                return "cancelled"
            row.error = {"code": code, "message": message[:500]}
            row.lease_until = None
            if retry and row.attempts < self.max_attempts:
                row.status, row.next_attempt_at = JobStatus.queued, datetime.now(UTC) + backoff(row.attempts)
                log.warning("translation job will retry", extra={"job_id": row.id, "code": code})
                return "retrying"
            row.status, row.finished_at = JobStatus.failed, datetime.now(UTC)
            translation = session.get(Translation, row.translation_id)
            if translation is not None and translation.status == TranslationStatus.drafting:
                translation.status = TranslationStatus.failed
            log.warning("translation job failed", extra={"job_id": row.id, "code": code})
            return "failed"


def cancel(session: Session, job: TranslationJob) -> TranslationJob:
    """Stop a queued or running job; a running one stops at its next chunk and applies nothing."""
    if job.status not in ACTIVE_JOB:
        from ai.errors import InvalidState

        raise InvalidState(
            "The job has already ended.", details={"job_id": job.id, "status": job.status.value}
        )
    job.status, job.finished_at, job.lease_until = JobStatus.cancelled, datetime.now(UTC), None
    translation = session.get(Translation, job.translation_id)
    if translation is not None and translation.status == TranslationStatus.drafting:
        translation.status = TranslationStatus.cancelled
    session.flush()
    return job


def job_dict(job: TranslationJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "translation_id": job.translation_id,
        "kind": job.kind,
        "status": job.status.value,
        "progress": job.progress,
        "attempts": job.attempts,
        "error": job.error,
        "next_attempt_at": job.next_attempt_at,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }
