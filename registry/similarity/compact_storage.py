"""Compact in-memory storage for datasketch's ``MinHashLSH``.

``MinHashLSH`` with ``storage_config={"type": "dict"}`` keeps ``defaultdict(set)`` per band: one
Python ``set`` (216 bytes empty) for every bucket, although nearly every bucket of a plagiarism index
holds a single key (unrelated texts rarely collide). At 100k chapters and ~100 buckets each that is
several gigabytes. These classes implement the same storage interface (datasketch's
``UnorderedStorage`` / ``OrderedStorage``), storing a lone key directly and switching to a set only
when a second key lands in the bucket; the band hashes are shared between the bucket tables and the
per-key lists, so a bucket costs about one dict slot and one small ``bytes`` object.

They are plugged into a ``MinHashLSH`` built with dict storage by replacing its ``hashtables`` and
``keys`` attributes; banding, insertion, query and removal stay datasketch's own code.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from datasketch.storage import OrderedStorage, UnorderedStorage


class CompactBuckets(UnorderedStorage):
    """bucket -> key, or bucket -> set of keys after a collision."""

    def __init__(self) -> None:
        self._d: dict[Hashable, Any] = {}

    def keys(self) -> Iterable[Hashable]:
        return self._d.keys()

    def get(self, key: Hashable) -> Any:
        value = self._d.get(key)
        if value is None:
            return ()
        return value if isinstance(value, set) else (value,)

    def insert(self, key: Hashable, *vals: Hashable, **kwargs: Any) -> None:
        for val in vals:
            current = self._d.get(key)
            if current is None:
                self._d[key] = val
            elif isinstance(current, set):
                current.add(val)
            elif current != val:
                self._d[key] = {current, val}

    def remove(self, *keys: Hashable, **kwargs: Any) -> None:
        for key in keys:
            self._d.pop(key, None)

    def remove_val(self, key: Hashable, val: Hashable, **kwargs: Any) -> None:
        current = self._d.get(key)
        if isinstance(current, set):
            current.discard(val)
            if len(current) == 1:
                self._d[key] = next(iter(current))
            elif not current:
                del self._d[key]
        elif current == val:
            del self._d[key]

    def size(self) -> int:
        return len(self._d)

    def itemcounts(self, **kwargs: Any) -> dict[Hashable, int]:
        return {k: len(v) if isinstance(v, set) else 1 for k, v in self._d.items()}

    def has_key(self, key: Hashable) -> bool:
        return key in self._d


class CompactKeys(OrderedStorage):
    """key -> tuple of its band hashes (what ``MinHashLSH.remove`` needs)."""

    def __init__(self) -> None:
        self._d: dict[Hashable, tuple[Any, ...]] = {}

    def keys(self) -> Iterable[Hashable]:
        return self._d.keys()

    def get(self, key: Hashable) -> tuple[Any, ...]:
        return self._d.get(key, ())

    def insert(self, key: Hashable, *vals: Any, **kwargs: Any) -> None:
        self._d[key] = self._d.get(key, ()) + vals

    def remove(self, *keys: Hashable, **kwargs: Any) -> None:
        for key in keys:
            self._d.pop(key, None)

    def remove_val(self, key: Hashable, val: Any, **kwargs: Any) -> None:
        values = list(self._d.get(key, ()))
        if val in values:
            values.remove(val)
            self._d[key] = tuple(values)

    def size(self) -> int:
        return len(self._d)

    def itemcounts(self, **kwargs: Any) -> dict[Hashable, int]:
        return {k: len(v) for k, v in self._d.items()}

    def has_key(self, key: Hashable) -> bool:
        return key in self._d
