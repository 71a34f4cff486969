"""The similarity index (MinHash LSH) and the plagiarism check built on it.

LSH is only the candidate filter: cheap, approximate and tuned for recall. Every candidate is then
confirmed by :func:`registry.evidence.compare` on the exact shingle sets before anyone is refused.

Each registration goes into two datasketch ``MinHashLSH`` tables:

* **whole** -- the 128-permutation whole-text signature, bands (42, 3): a pair with Jaccard 0.4
  becomes a candidate with probability 0.94 (0.45: 0.98), one with 0.05 with probability 0.005.
  This finds near-verbatim copies, reordered paragraphs included.
* **chunk** -- one entry per content-defined chunk (~96 shingles, first 32 permutations), bands
  (6, 3): chunk pairs with Jaccard 0.7 collide with probability 0.92 (0.8: 0.99, 0.1: 0.006).
  Copied passages are chunked identically in both texts, so their chunk signatures agree
  (Jaccard 0.7-1.0 under light edits) even when the passage is a small part of either text.

The index port has two adapters, side by side: :class:`MemoryLSHIndex` (the embedded default,
rebuilt from the database at start) and :class:`RedisLSHIndex` (datasketch's Redis storage, shared by
several API processes). Both refuse fingerprints made with other MinHash parameters or another
fingerprint key (``key_id``): signatures of two keys are unrelated numbers. Both take a full
:class:`Fingerprint` or its stored :class:`Signatures` alone.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from datasketch import MinHashLSH

from registry.errors import ConfigurationError, Unavailable
from registry.evidence import Match, Passage, compare
from registry.fingerprint import (
    CHUNK_PERM,
    NUM_PERM,
    SCHEME,
    SEED,
    Fingerprint,
    IncompatibleFingerprint,
    Signatures,
)
from registry.lsh_storage import CompactBuckets, CompactKeys
from registry.tokenizer import TOKENIZER

__all__ = [
    "BLOCK_CONTAINMENT", "BLOCK_JACCARD", "CHUNK_BANDS", "MIN_SHARED", "WHOLE_BANDS", "Match",
    "MemoryLSHIndex", "Passage", "RedisLSHIndex", "SimilarityIndex", "compare", "find_matches",
]

WHOLE_BANDS = (42, 3)
CHUNK_BANDS = (6, 3)
# Refusal thresholds (docs/plagiarism.md has the measurements behind them).
BLOCK_CONTAINMENT = 0.15  # applies to max(containment, coverage)
BLOCK_JACCARD = 0.5
MIN_SHARED = 40  # distinct shared shingles (~45 copied words) before any refusal
MAX_CANDIDATES = 100
_SEP = "#"  # chunk entries are "<key>#<i>"; keys may contain "#" (split from the right)
_EMPTY = -1  # chunk count recorded for a key whose fingerprint is empty: known, but without entries
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


class _LSHPair:
    """The whole-text and chunk tables plus the bookkeeping both adapters share."""

    def __init__(
        self, *, whole: MinHashLSH, chunk: MinHashLSH, num_perm: int, seed: int, key_id: str
    ) -> None:
        self.whole, self.chunk = whole, chunk
        self.params = (num_perm, seed, SCHEME, TOKENIZER, key_id)

    def layout(self) -> dict[str, Any]:
        num_perm, seed, scheme, tokenizer, key_id = self.params
        return {
            "num_perm": num_perm, "seed": seed, "scheme": scheme, "tokenizer": tokenizer, "key_id": key_id,
            "whole_bands": [self.whole.b, self.whole.r], "chunk_bands": [self.chunk.b, self.chunk.r],
            "chunk_perm": self.chunk.h,
        }

    def check(self, fp: Signed) -> None:
        theirs = (fp.num_perm, fp.seed, fp.scheme, fp.tokenizer, fp.key_id)
        if theirs != self.params or fp.chunk_hashvalues.shape[1] != self.chunk.h:
            raise IncompatibleFingerprint(
                "The fingerprint was made with other MinHash parameters than this index.",
                details={"reason": "parameters", "index": list(self.params), "fingerprint": list(theirs)},
            )

    @staticmethod
    def chunk_key(key: str, i: int) -> str:
        return f"{key}{_SEP}{i}"

    def entries(self, key: str, fp: Signed) -> list[tuple[MinHashLSH, str, bool, list[bytes]]]:
        """(table pair, entry name, is_chunk, band keys) for the whole text and every chunk.

        Band keys come from the LSH's own ``_H`` on the same uint32 slices ``MinHashLSH.insert`` and
        ``query`` use, without building a MinHash object per chunk (tested equal to both).
        """
        whole = [self.whole._H(fp.hashvalues[s:e]) for s, e in self.whole.hashranges]
        out = [(self.whole, key, False, whole)]
        for i, hv in enumerate(fp.chunk_hashvalues):
            bands = [self.chunk._H(hv[s:e]) for s, e in self.chunk.hashranges]
            out.append((self.chunk, self.chunk_key(key, i), True, bands))
        return out

    @staticmethod
    def key_of(entry: str, is_chunk: bool) -> str:
        return entry.rpartition(_SEP)[0] if is_chunk else entry

    @staticmethod
    def rank(hits: Iterable[str]) -> list[str]:
        counts = Counter(hits)
        return sorted(counts, key=lambda k: (-counts[k], k))


def _bands(bands: tuple[int, int], num_perm: int) -> tuple[int, int]:
    b, r = bands
    if b < 2 or r < 1 or b * r > num_perm:
        raise ConfigurationError(f"LSH bands {bands} do not fit {num_perm} permutations.",
                                 details={"bands": list(bands), "num_perm": num_perm})
    return b, r


class MemoryLSHIndex:
    """datasketch ``MinHashLSH`` in process memory, with compact bucket storage.

    datasketch's default dict storage keeps a Python ``set`` per bucket (~330 bytes); almost every
    bucket holds one key, so :mod:`registry.lsh_storage` stores the key itself and only makes a set on
    collision, about a third of the memory for the same ``MinHashLSH`` behaviour. One lock serializes
    readers and writers: API requests run on several threads, and a bucket may turn into a set while
    another request reads it.
    """

    def __init__(
        self, *, whole_bands: tuple[int, int] = WHOLE_BANDS, chunk_bands: tuple[int, int] = CHUNK_BANDS,
        num_perm: int = NUM_PERM, seed: int = SEED, chunk_perm: int = CHUNK_PERM, key_id: str = "",
    ) -> None:
        whole = MinHashLSH(num_perm=num_perm, params=_bands(whole_bands, num_perm))
        chunk = MinHashLSH(num_perm=chunk_perm, params=_bands(chunk_bands, chunk_perm))
        for lsh in (whole, chunk):
            lsh.hashtables = [CompactBuckets() for _ in range(lsh.b)]
            lsh.keys = CompactKeys()
        self._lsh = _LSHPair(whole=whole, chunk=chunk, num_perm=num_perm, seed=seed, key_id=key_id)
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
            self._chunks[key] = _EMPTY if fp.is_empty else len(fp.chunk_hashvalues)

    def remove(self, key: str) -> None:
        with self._lock:
            self._remove(key)

    def _remove(self, key: str) -> None:
        count = self._chunks.pop(key, None)
        if count is None or count == _EMPTY:
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


class RedisLSHIndex:
    """datasketch ``MinHashLSH`` on Redis (``storage_config={'type': 'redis', ...}``).

    All keys live under ``prefix``; the index layout is recorded in ``<prefix>:meta`` so a process with
    other parameters refuses to use it instead of silently returning no candidates. Queries read all
    buckets of all bands and chunks in one pipelined round trip. Redis failures surface as
    :class:`registry.errors.Unavailable`.
    """

    def __init__(
        self, *, url: str, prefix: str = "legato:lsh", whole_bands: tuple[int, int] = WHOLE_BANDS,
        chunk_bands: tuple[int, int] = CHUNK_BANDS, num_perm: int = NUM_PERM, seed: int = SEED,
        chunk_perm: int = CHUNK_PERM, socket_timeout: float = 5.0, key_id: str = "",
    ) -> None:
        import redis  # imported here so the embedded default never needs the package loaded

        self._redis_mod = redis
        self.prefix = prefix
        params = self._connection_params(url, socket_timeout)
        self._client = redis.Redis(**params)

        def config(part: str) -> dict[str, Any]:
            return {"type": "redis", "basename": f"{prefix}:{part}".encode(), "redis": params}

        with self._guard():
            whole = MinHashLSH(num_perm=num_perm, params=_bands(whole_bands, num_perm),
                               storage_config=config("whole"), prepickle=False)
            chunk = MinHashLSH(num_perm=chunk_perm, params=_bands(chunk_bands, chunk_perm),
                               storage_config=config("chunk"), prepickle=False)
        self._lsh = _LSHPair(whole=whole, chunk=chunk, num_perm=num_perm, seed=seed, key_id=key_id)
        # One round trip for all ~140 buckets of a query: a pipeline of SMEMBERS costs more in
        # client-side command packing than the lookups themselves.
        self._members = self._client.register_script(
            "local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('SMEMBERS', k) end return out"
        )
        self._chunks_key = f"{prefix}:chunks"  # hash: key -> number of chunk entries
        self._meta_key = f"{prefix}:meta"
        self._meta_checked = False

    @staticmethod
    def _connection_params(url: str, socket_timeout: float) -> dict[str, Any]:
        from redis.backoff import ExponentialBackoff
        from redis.connection import SSLConnection, UnixDomainSocketConnection, parse_url
        from redis.retry import Retry

        try:
            params = parse_url(url)
        except ValueError as e:
            raise ConfigurationError(f"Bad Redis URL: {e}", details={"reason": "redis_url"}) from None
        cls = params.pop("connection_class", None)
        if cls is SSLConnection:
            params["ssl"] = True
        elif cls is UnixDomainSocketConnection:
            params["unix_socket_path"] = params.pop("path")
        params.update(socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        # redis-py's default retries back off for seconds; a registration should fail fast instead.
        params["retry"] = Retry(ExponentialBackoff(cap=0.2, base=0.05), 2)
        return params

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except self._redis_mod.exceptions.RedisError as e:
            raise Unavailable(f"The similarity index (Redis) is unavailable: {e}",
                              details={"dependency": "redis"}) from e

    def _ensure_meta(self) -> None:
        if self._meta_checked:
            return
        layout = json.dumps(self._lsh.layout(), sort_keys=True)
        self._client.set(self._meta_key, layout, nx=True)
        stored = self._client.get(self._meta_key)
        if stored is not None and stored.decode() != layout:
            raise ConfigurationError(
                "The Redis similarity index was built with other parameters; "
                "rebuild it or use another prefix.",
                details={"prefix": self.prefix, "stored": json.loads(stored), "wanted": json.loads(layout)},
            )
        self._meta_checked = True

    def add(self, key: str, fp: Signed) -> None:
        """One pipelined transaction in datasketch's Redis layout, minus the bucket registry.

        datasketch also records every bucket in a per-table hash that only ``keys()``/``size()`` read;
        at ~140 buckets per chapter that hash is 40% of the memory, so it is not written. Entries stay
        readable (and removable) by a plain ``MinHashLSH`` on the same basename (tested).
        """
        self._lsh.check(fp)
        with self._guard():
            self._ensure_meta()
            self._remove(key)
            if fp.is_empty:
                self._client.hset(self._chunks_key, key, _EMPTY)
                return
            pipe = self._client.pipeline(transaction=True)
            for lsh, entry, _, bands in self._lsh.entries(key, fp):
                lsh.keys._insert(pipe, entry.encode(), *bands)
                for band, table in zip(bands, lsh.hashtables, strict=True):
                    pipe.sadd(table.redis_key(band), entry.encode())
            pipe.hset(self._chunks_key, key, len(fp.chunk_hashvalues))
            pipe.execute()

    def remove(self, key: str) -> None:
        with self._guard():
            self._ensure_meta()
            self._remove(key)

    def _remove(self, key: str) -> None:
        count = self._client.hget(self._chunks_key, key)
        if count is None or int(count) == _EMPTY:
            self._client.hdel(self._chunks_key, key)
            return
        entries = [(self._lsh.whole, key.encode())]
        entries += [(self._lsh.chunk, self._lsh.chunk_key(key, i).encode()) for i in range(int(count))]
        read = self._client.pipeline(transaction=False)
        for lsh, entry in entries:
            read.lrange(lsh.keys.redis_key(entry), 0, -1)
        bands_of = read.execute()
        pipe = self._client.pipeline(transaction=True)
        for (lsh, entry), bands in zip(entries, bands_of, strict=True):
            for band, table in zip(bands, lsh.hashtables, strict=False):
                pipe.srem(table.redis_key(band), entry)  # Redis drops a set when it becomes empty
            pipe.hdel(lsh.keys._name, entry)
            pipe.delete(lsh.keys.redis_key(entry))
        pipe.hdel(self._chunks_key, key)
        pipe.execute()

    def query(self, fp: Signed) -> list[str]:
        self._lsh.check(fp)
        if fp.is_empty:
            return []
        probes = [
            (is_chunk, table.redis_key(band))
            for lsh, _, is_chunk, bands in self._lsh.entries("", fp)
            for band, table in zip(bands, lsh.hashtables, strict=True)
        ]
        with self._guard():
            self._ensure_meta()
            results = self._members(keys=[redis_key for _, redis_key in probes])
        hits = [self._lsh.key_of(raw.decode(), is_chunk)
                for (is_chunk, _), members in zip(probes, results, strict=True) for raw in members]
        return self._lsh.rank(hits)

    def __len__(self) -> int:
        with self._guard():
            return int(self._client.hlen(self._chunks_key))

    def __contains__(self, key: object) -> bool:
        with self._guard():
            return isinstance(key, str) and bool(self._client.hexists(self._chunks_key, key))

    def health(self) -> dict[str, Any]:
        try:
            self._client.ping()
            return {"ok": True, "backend": "redis", "prefix": self.prefix, "keys": len(self),
                    "layout": self._lsh.layout()}
        except (self._redis_mod.exceptions.RedisError, Unavailable) as e:
            return {"ok": False, "backend": "redis", "prefix": self.prefix, "error": str(e)}

    def clear(self) -> int:
        """Delete every Redis key under the prefix (before a rebuild); returns how many."""
        deleted = 0
        with self._guard():
            keys = list(self._client.scan_iter(match=f"{self.prefix}:*", count=1000))
            for start in range(0, len(keys), 500):
                deleted += self._client.unlink(*keys[start : start + 500])
        self._meta_checked = False
        return deleted


def find_matches(
    fp: Fingerprint, *, index: SimilarityIndex, load: Callable[[str], Fingerprint | None],
    min_containment: float = BLOCK_CONTAINMENT, min_jaccard: float = BLOCK_JACCARD,
    min_shared: int = MIN_SHARED, max_candidates: int = MAX_CANDIDATES,
) -> list[Match]:
    """Earlier registrations that ``fp`` copies from, confirmed exactly, strongest first.

    A candidate matches when at least ``min_shared`` distinct shingles are shared and either the
    Jaccard similarity reaches ``min_jaccard`` or the share of either text found in the other
    (containment of the new text, coverage of the old one) reaches ``min_containment``. Keys whose
    fingerprint ``load`` cannot find (a stale index entry) are skipped. Whether a match refuses the
    registration (another author) or makes it a new version (same author) is the caller's decision.
    """
    matches = []
    for key in index.query(fp)[:max_candidates]:
        old = load(key)
        if old is None or old.is_empty:
            continue
        m = compare(fp, old, key=key)
        if m.shared >= min_shared and (m.jaccard >= min_jaccard or m.score >= min_containment):
            matches.append(m)
    matches.sort(key=lambda m: (-m.score, -m.jaccard, m.key))
    return matches
