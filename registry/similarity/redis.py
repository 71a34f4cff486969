"""The shared similarity index: datasketch ``MinHashLSH`` on Redis, for several API processes.

The module is named for its backend like its sibling :mod:`registry.similarity.memory`; the ``redis``
package itself is imported inside the adapter (absolute imports), so the embedded default never loads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from datasketch import MinHashLSH

from registry.errors import ConfigurationError, Unavailable
from registry.fingerprint import CHUNK_PERM, NUM_PERM, SEED
from registry.similarity.lsh import CHUNK_BANDS, EMPTY, WHOLE_BANDS, LSHPair, check_bands
from registry.similarity.protocol import Signed


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
            whole = MinHashLSH(num_perm=num_perm, params=check_bands(whole_bands, num_perm),
                               storage_config=config("whole"), prepickle=False)
            chunk = MinHashLSH(num_perm=chunk_perm, params=check_bands(chunk_bands, chunk_perm),
                               storage_config=config("chunk"), prepickle=False)
        self._lsh = LSHPair(whole=whole, chunk=chunk, num_perm=num_perm, seed=seed, key_id=key_id)
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
                self._client.hset(self._chunks_key, key, EMPTY)
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
        if count is None or int(count) == EMPTY:
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
