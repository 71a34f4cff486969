"""A py-evm key-value database in one SQLite file, made durable one mined block at a time.

py-evm keeps everything — trie nodes, headers, bodies, receipts, the canonical-head pointer — as opaque
key/value pairs in a ``BaseDB``. This one buffers writes in memory and flushes them in a single SQLite
transaction when the embedded chain finishes mining a block, so the file always holds whole blocks: a crash
mid-block loses that pending block and nothing else, and the chain reopens at its last committed head.

SQLite runs in WAL mode with ``synchronous=FULL``: a block reported as mined survives a power cut (the
anchor receipt handed to the batcher must not outlive the block it names), and a read-only opener in
another process can read while the owning process writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eth.db.backends.base import BaseDB

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqliteKV(BaseDB):
    """py-evm ``BaseDB`` over SQLite; writes become visible to other connections only on :meth:`commit`.

    Not thread-safe on its own: the embedded chain serialises every request under its lock.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        if read_only and not path.exists():
            raise FileNotFoundError(path)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        if not read_only:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.executescript(_SCHEMA)
        # key → value, or None for a pending delete
        self._pending: dict[bytes, bytes | None] = {}

    # --- BaseDB -------------------------------------------------------------------------------
    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            value = self._pending[key]
            if value is None:
                raise KeyError(key)
            return value
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[bytes(key)] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[bytes(key)] = None

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    # --- durability ---------------------------------------------------------------------------
    def commit(self, meta: dict[str, str] | None = None) -> None:
        """Write every buffered change (and ``meta``) in one SQLite transaction."""
        if self.read_only:
            raise PermissionError("the embedded chain was opened read-only")
        if not self._pending and not meta:
            return
        writes = [(k, v) for k, v in self._pending.items() if v is not None]
        deletes = [(k,) for k, v in self._pending.items() if v is None]
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", writes)
            self._conn.executemany("DELETE FROM kv WHERE k = ?", deletes)
            for name, value in (meta or {}).items():
                self._conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))
        self._pending.clear()

    def discard(self) -> None:
        """Forget buffered writes (a read-only opener's scratch, or a block that failed to mine)."""
        self._pending.clear()

    def meta(self) -> dict[str, str]:
        try:
            rows = self._conn.execute("SELECT name, value FROM meta").fetchall()
        except sqlite3.OperationalError:
            return {}
        return {name: value for name, value in rows}

    def close(self) -> None:
        self._pending.clear()
        self._conn.close()
