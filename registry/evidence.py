"""Exact confirmation of a plagiarism candidate, and the evidence a refusal carries.

LSH only says "these two texts may overlap". Before the registry refuses anyone, the stored shingle
sets are compared exactly, and the copied passages are located in both texts so a human can read the
evidence side by side. Three scores, because copying has two directions:

* ``jaccard`` = |N ∩ O| / |N ∪ O|: how alike the two texts are as wholes;
* ``containment`` = |N ∩ O| / |N|: how much of the NEW text comes from the old one (an excerpt);
* ``coverage`` = |N ∩ O| / |O|: how much of the OLD text reappears in the new one (an old chapter,
  or a third of it, buried in new material).

Passages are maximal runs of shingles that follow each other in both texts, merged across small gaps
(a few changed words break a run into pieces a reader would see as one copied passage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from registry.fingerprint import Fingerprint, IncompatibleFingerprint

MAX_PASSAGES = 20
MIN_PASSAGE_SHINGLES = 8  # ~12 consecutive words; shorter shared runs are stock phrases, not passages


@dataclass(frozen=True)
class Passage:
    new: tuple[int, int]  # character range [start, end) in the new canonical text
    old: tuple[int, int]  # character range [start, end) in the earlier canonical text
    shingles: int  # matching shingles inside the passage

    def to_dict(self) -> dict[str, Any]:
        return {"new": list(self.new), "old": list(self.old), "shingles": self.shingles}


@dataclass(frozen=True)
class Match:
    key: str
    jaccard: float
    containment: float
    coverage: float
    shared: int  # distinct shingles in both texts
    new_shingles: int
    old_shingles: int
    shingle: str  # e.g. "word-5"
    passages: tuple[Passage, ...]
    passages_total: int  # before the cap

    @property
    def score(self) -> float:
        """The stronger direction of copying (Jaccard never exceeds either containment)."""
        return max(self.containment, self.coverage)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe evidence for the 409 ``details.evidence`` and ``/registry/check``."""
        return {
            "key": self.key, "score": round(self.score, 4), "jaccard": round(self.jaccard, 4),
            "containment": round(self.containment, 4), "coverage": round(self.coverage, 4),
            "shared_shingles": self.shared, "new_shingles": self.new_shingles,
            "old_shingles": self.old_shingles, "shingle": self.shingle,
            "passages": [p.to_dict() for p in self.passages], "passages_total": self.passages_total,
        }


def _runs(new: Fingerprint, old: Fingerprint, shared: np.ndarray) -> list[list[int]]:
    """[i0, i1, j0, j1, count] for every run of shingles consecutive in both texts (i: new, j: old)."""
    i = np.flatnonzero(np.isin(new.sequence, shared, assume_unique=False))
    if len(i) == 0:
        return []
    order = np.argsort(old.sequence, kind="stable")
    sorted_old = old.sequence[order]
    lo = np.searchsorted(sorted_old, new.sequence[i], side="left")
    hi = np.searchsorted(sorted_old, new.sequence[i], side="right")
    j = order[lo].astype(np.int64)  # the first occurrence in the old text...
    repeated = np.flatnonzero(hi - lo > 1)
    if len(repeated):
        # ...unless the shingle occurs several times there: then the occurrence that keeps the
        # alignment of the last shingle matched unambiguously before it.
        unique = hi - lo == 1
        last_unique = np.maximum.accumulate(np.where(unique, np.arange(len(i)), -1))
        for m in repeated.tolist():
            anchor = int(last_unique[m])
            if anchor >= 0:
                spots = order[lo[m] : hi[m]]
                j[m] = spots[np.argmin(np.abs(spots - (i[m] + j[anchor] - i[anchor])))]
    breaks = np.flatnonzero((np.diff(i) != 1) | (np.diff(j) != 1)) + 1
    first = np.concatenate(([0], breaks))
    last = np.concatenate((breaks - 1, [len(i) - 1]))
    return [
        [int(i[a]), int(i[b]), int(j[a]), int(j[b]), int(b - a + 1)] for a, b in zip(first, last, strict=True)
    ]


def _merge(runs: list[list[int]], k: int) -> list[list[int]]:
    """Join runs that continue each other in both texts across a few changed words.

    A changed word removes ``k`` shingles; two or three edits within a sentence leave gaps up to
    ``4k``. Gaps that differ by more than ``k`` between the texts mean text was added or cut there,
    not just replaced, so the runs stay separate passages. A run shorter than ``k`` that does not
    continue the passage is a phrase the old text also has elsewhere (each shingle is matched to its
    first occurrence there); it is skipped rather than allowed to break the passage.
    """
    merged: list[list[int]] = []
    for run in runs:
        if merged:
            prev = merged[-1]
            gi, gj = run[0] - prev[1] - 1, run[2] - prev[3] - 1
            if 0 <= gi <= 4 * k and 0 <= gj <= 4 * k and abs(gi - gj) <= k:
                prev[1], prev[3], prev[4] = run[1], run[3], prev[4] + run[4]
                continue
            if run[4] < k:
                continue
        merged.append(list(run))
    return merged


def compare(
    new: Fingerprint, old: Fingerprint, *, key: str = "", max_passages: int = MAX_PASSAGES,
    min_passage_shingles: int = MIN_PASSAGE_SHINGLES,
) -> Match:
    """Exact overlap of two fingerprints' shingle sets, with the copied passages (largest first)."""
    new.check_compatible(old)
    if new.mode == old.mode and new.k != old.k:
        raise IncompatibleFingerprint(
            "These fingerprints use different shingle sizes.",
            details={"reason": "shingle", "this": new.k, "other": old.k},
        )
    a, b = new.shingles, old.shingles
    shared = np.intersect1d(a, b, assume_unique=True) if new.mode == old.mode else np.zeros(0, np.uint64)
    inter = len(shared)
    union = len(a) + len(b) - inter
    passages: list[Passage] = []
    runs = _merge(_runs(new, old, shared), new.k) if inter else []
    runs = [r for r in runs if r[4] >= min_passage_shingles]
    runs.sort(key=lambda r: (-r[4], r[0]))
    new_ends, old_ends = new.shingle_ends, old.shingle_ends
    for i0, i1, j0, j1, count in runs[:max_passages]:
        passages.append(Passage(
            new=(int(new.token_starts[i0]), int(new_ends[i1])),
            old=(int(old.token_starts[j0]), int(old_ends[j1])),
            shingles=count,
        ))
    return Match(
        key=key, jaccard=inter / union if union else 0.0, containment=inter / len(a) if len(a) else 0.0,
        coverage=inter / len(b) if len(b) else 0.0, shared=inter, new_shingles=len(a), old_shingles=len(b),
        shingle=new.shingle_name, passages=tuple(passages), passages_total=len(runs),
    )
