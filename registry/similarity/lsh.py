"""The two datasketch ``MinHashLSH`` tables every registration goes into, shared by both adapters.

* **whole** -- the 128-permutation whole-text signature, bands (42, 3): a pair with Jaccard 0.4
  becomes a candidate with probability 0.94 (0.45: 0.98), one with 0.05 with probability 0.005.
  This finds near-verbatim copies, reordered paragraphs included.
* **chunk** -- one entry per content-defined chunk (~96 shingles, first 32 permutations), bands
  (6, 3): chunk pairs with Jaccard 0.7 collide with probability 0.92 (0.8: 0.99, 0.1: 0.006).
  Copied passages are chunked identically in both texts, so their chunk signatures agree
  (Jaccard 0.7-1.0 under light edits) even when the passage is a small part of either text.

The adapters differ only in where the buckets live (process memory or Redis); the banding, entry names
and ranking are here once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from datasketch import MinHashLSH

from registry.errors import ConfigurationError
from registry.fingerprint import SCHEME, IncompatibleFingerprint
from registry.similarity.protocol import Signed
from registry.tokenizer import TOKENIZER

WHOLE_BANDS = (42, 3)
CHUNK_BANDS = (6, 3)
SEP = "#"  # chunk entries are "<key>#<i>"; keys may contain "#" (split from the right)
EMPTY = -1  # chunk count recorded for a key whose fingerprint is empty: known, but without entries


class LSHPair:
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
        return f"{key}{SEP}{i}"

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
        return entry.rpartition(SEP)[0] if is_chunk else entry

    @staticmethod
    def rank(hits: Iterable[str]) -> list[str]:
        counts = Counter(hits)
        return sorted(counts, key=lambda k: (-counts[k], k))


def check_bands(bands: tuple[int, int], num_perm: int) -> tuple[int, int]:
    b, r = bands
    if b < 2 or r < 1 or b * r > num_perm:
        raise ConfigurationError(f"LSH bands {bands} do not fit {num_perm} permutations.",
                                 details={"bands": list(bands), "num_perm": num_perm})
    return b, r
