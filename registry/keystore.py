"""Secrets kept in the data dir: created once, mode 0600, never logged."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path


def read_or_create_secret(path: Path, create: Callable[[], bytes]) -> bytes:
    """Return the bytes at ``path``, creating them with ``create()`` on first use.

    The bytes are written to a private temporary file (mode 0600) and published with ``link``, which
    fails if the name exists: two processes starting together cannot both create a different key, and
    the loser reads the winner's file complete (never an empty file caught between create and write).
    """
    if path.exists():
        _check_mode(path)
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = create()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
    return data


def _check_mode(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        path.chmod(0o600)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old bytes or the new, never half.

    The bytes go to a temporary sibling (created with ``mode``), are flushed to disk, then renamed over
    the target, which is atomic on one filesystem.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive across processes for a read-modify-write of the file at ``path`` (a sibling ``.lock``
    file holds the lock, so the file itself can still be replaced atomically under it)."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
