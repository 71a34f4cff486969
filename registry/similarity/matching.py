"""The plagiarism check: LSH candidates confirmed exactly, and the thresholds that refuse a registration.

docs/plagiarism.md has the measurements behind the thresholds.
"""

from __future__ import annotations

from collections.abc import Callable

from registry.evidence import Match, compare
from registry.fingerprint import Fingerprint
from registry.similarity.protocol import SimilarityIndex

BLOCK_CONTAINMENT = 0.15  # applies to max(containment, coverage)
BLOCK_JACCARD = 0.5
MIN_SHARED = 40  # distinct shared shingles (~45 copied words) before any refusal
MAX_CANDIDATES = 100


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
