"""The background worker: everything that waits for an external system or for a time.

Each round: timestamps for registrations whose TSA call failed, pins for certificate states IPFS did not
take, anchor batches that are due, and any extra jobs (scheduled chapters, payouts) registered by other
parts of the app. A failing job is logged and retried next round; it never stops the others.
``legato worker`` runs the loop in the foreground; ``legato serve`` runs it in a thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from api.db import session_scope
from content.publishing import publish_due

if TYPE_CHECKING:
    from api.wiring import Container

log = logging.getLogger("legato.worker")


@dataclass
class Worker:
    container: Container
    interval: float = 2.0
    jobs: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        c = self.container
        self.jobs[:0] = [
            ("timestamps", lambda: self._in_session(c.registry.retry_timestamps)),
            ("pins", lambda: self._in_session(c.registry.pin_pending)),
            ("anchoring", lambda: c.anchorer.run_once(c.session_factory)),
            (
                "scheduled_chapters",
                lambda: self._in_session(
                    lambda s: publish_due(s, datetime.now(UTC), registry=c.registry, cipher=c.content_cipher)
                ),
            ),
        ]

    def _in_session(self, job: Callable[..., object]) -> object:
        with session_scope(self.container.session_factory) as session:
            return job(session)

    def run_once(self) -> dict[str, object]:
        results: dict[str, object] = {}
        for name, job in self.jobs:
            if self._stop.is_set():  # a stop waits for the job in hand, not for the whole round
                break
            try:
                results[name] = job()
            except Exception as e:
                log.exception("worker job failed", extra={"job": name})
                results[name] = e
        return results

    def run_forever(self) -> None:
        log.info("worker started", extra={"interval_s": self.interval, "jobs": [n for n, _ in self.jobs]})
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)
        log.info("worker stopped")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="legato-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end after its current job; a job still running after ``timeout`` is left to
        die with the process (the thread is a daemon, jobs are durable rows that the next start
        claims again)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
