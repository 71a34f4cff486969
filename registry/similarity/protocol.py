"""The similarity-index port: candidate registrations that may share text with a fingerprint.

Adapters: :class:`~registry.similarity.memory.MemoryLSHIndex` (in process, the default) and
:class:`~registry.similarity.redis.RedisLSHIndex` (shared through Redis). Both refuse fingerprints made
with other MinHash parameters or another fingerprint key (``key_id``), since signatures of two keys are
unrelated numbers, and both take a full :class:`Fingerprint` or its stored :class:`Signatures` alone.
"""

from __future__ import annotations

from typing import Any, Protocol

from registry.fingerprint import Fingerprint, Signatures

Signed = Fingerprint | Signatures  # what the index reads: the signatures, whole or stored alone


class SimilarityIndex(Protocol):
    """Finds registrations that may share text with a fingerprint (candidates, not verdicts)."""

    def add(self, key: str, fp: Signed) -> None:
        """Index ``fp`` under ``key``, replacing what ``key`` had.

        An empty fingerprint (a text without words) is remembered as known but has no entries.
        """

    def remove(self, key: str) -> None:
        """Forget ``key`` (no error if it is unknown)."""

    def query(self, fp: Signed) -> list[str]:
        """Candidate keys, the ones colliding in most LSH buckets first."""

    def __len__(self) -> int:
        """Number of keys added and not removed."""

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` was added (and not removed)."""

    def health(self) -> dict[str, Any]:
        """``{"ok": bool, "backend": ..., ...}``; never raises."""
