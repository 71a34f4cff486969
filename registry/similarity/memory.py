"""The embedded similarity index: datasketch ``MinHashLSH`` in process memory, rebuilt at start."""

from __future__ import annotations

import threading
from typing import Any

from datasketch import MinHashLSH

from registry.fingerprint import CHUNK_PERM, NUM_PERM, SEED
from registry.similarity.compact_storage import CompactBuckets, CompactKeys
from registry.similarity.lsh import CHUNK_BANDS, EMPTY, WHOLE_BANDS, LSHPair, check_bands
from registry.similarity.protocol import Signed


class MemoryLSHIndex:
    """datasketch ``MinHashLSH`` in process memory, with compact bucket storage.

    datasketch's default dict storage keeps a Python ``set`` per bucket (~330 bytes); almost every
    bucket holds one key, so :mod:`registry.similarity.compact_storage` stores the key itself and only
    makes a set on collision, about a third of the memory for the same ``MinHashLSH`` behaviour. One lock
    serializes readers and writers: API requests run on several threads, and a bucket may turn into a set
    while another request reads it.
    """

    def __init__(
        self, *, whole_bands: tuple[int, int] = WHOLE_BANDS, chunk_bands: tuple[int, int] = CHUNK_BANDS,
        num_perm: int = NUM_PERM, seed: int = SEED, chunk_perm: int = CHUNK_PERM, key_id: str = "",
    ) -> None:
        whole = MinHashLSH(num_perm=num_perm, params=check_bands(whole_bands, num_perm))
        chunk = MinHashLSH(num_perm=chunk_perm, params=check_bands(chunk_bands, chunk_perm))
        for lsh in (whole, chunk):
            lsh.hashtables = [CompactBuckets() for _ in range(lsh.b)]
            lsh.keys = CompactKeys()
        self._lsh = LSHPair(whole=whole, chunk=chunk, num_perm=num_perm, seed=seed, key_id=key_id)
        self._chunks: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, key: str, fp: Signed) -> None:
        self._lsh.check(fp)
        entries = [] if fp.is_empty else self._lsh.entries(key, fp)
        with self._lock:
            self._remove(key)
            for lsh, entry, _, bands in entries:  # what MinHashLSH.insert stores
                lsh.keys.insert(entry, *bands)
                for band, table in zip(bands, lsh.hashtables, strict=True):
                    table.insert(band, entry)
            self._chunks[key] = EMPTY if fp.is_empty else len(fp.chunk_hashvalues)

    def remove(self, key: str) -> None:
        with self._lock:
            self._remove(key)

    def _remove(self, key: str) -> None:
        count = self._chunks.pop(key, None)
        if count is None or count == EMPTY:
            return
        self._lsh.whole.remove(key)
        for i in range(count):
            self._lsh.chunk.remove(self._lsh.chunk_key(key, i))

    def query(self, fp: Signed) -> list[str]:
        self._lsh.check(fp)
        if fp.is_empty:
            return []
        probes = self._lsh.entries("", fp)
        with self._lock:
            hits = [
                self._lsh.key_of(entry, is_chunk)
                for lsh, _, is_chunk, bands in probes
                for band, table in zip(bands, lsh.hashtables, strict=True)
                for entry in table.get(band)
            ]
        return self._lsh.rank(hits)

    def __len__(self) -> int:
        return len(self._chunks)

    def __contains__(self, key: object) -> bool:
        return key in self._chunks

    def health(self) -> dict[str, Any]:
        return {"ok": True, "backend": "memory", "keys": len(self), "layout": self._lsh.layout()}
