"""The ``MediaStore`` port: where finished audio (and its sync files) live.

Files are written once under a fresh key and never changed, so the database row that names a key is
the only pointer that moves; a regeneration writes new keys, swaps the row, then deletes the old files.
Adapters: ``local.py`` (the data dir, the default). An S3-compatible store is the production adapter
the issue names; it is not built yet (docs/speech.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

CHUNK = 64 * 1024


class MediaStore(Protocol):
    name: str

    def put_file(self, key: str, source: Path, *, content_type: str) -> None:
        """Store ``source`` under ``key`` (moving or copying it); a key already stored is replaced."""
        ...

    def size(self, key: str) -> int:
        """Bytes stored under ``key``; ``NotFound`` when there is none."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, end)`` in chunks of at most ``CHUNK``, streamed, never whole in memory."""
        ...

    def delete(self, key: str) -> None: ...

    def health(self) -> dict[str, Any]: ...


def check_key(key: str) -> str:
    """Keys are made by Legato (``audio/<chapter id>/<audio id>-<digest>.opus``); anything else —
    absolute paths, ``..``, odd characters — is refused before any adapter sees it."""
    parts = key.split("/")
    ok = (
        0 < len(key) <= 200
        and all(parts)
        and all(p not in (".", "..") for p in parts)
        and all(c.isalnum() or c in "-_./" for c in key)
    )
    if not ok:
        raise ValueError(f"bad media key {key[:80]!r}")
    return key
