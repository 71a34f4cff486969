"""Precision and recall of the plagiarism check on a test set written for it (no downloads).

Earlier registrations: 60 generated fantasy chapters (~10 KB), 4 hand-written passages, 12 generated
Chinese chapters and 2 hand-written Chinese passages, all in one in-memory index.

Must be caught (recall >= 0.95 overall and per kind):
  (a) near-verbatim copies: 2-4 words changed in every paragraph, paragraphs shuffled;
  (b) a third to a half of an earlier chapter (lightly edited) inside new material 0.7-3x its size,
      as one block or as two separate pieces;
  plus the same two kinds in Chinese (character shingles).
Must not be flagged (precision 1.0): unrelated chapters from the same generator and vocabulary (same
names, places and stock phrases), single paragraphs of them, other hand-written passages, Chinese and
Japanese texts -- and no positive may match any registration other than its source.

Everything runs as the registry runs it: signatures over keyed shingle hashes (a fixed test key, so
the figures are reproducible), earlier fingerprints stored sealed and opened for each comparison.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import pytest
from plagiarism_corpus import handwritten
from plagiarism_corpus.generator import (
    ChapterWriter,
    ChineseWriter,
    embed,
    excerpt,
    light_edit,
    paragraphs_of,
    reorder,
)

from registry.canonical import canonicalize
from registry.evidence import compare
from registry.fingerprint import Fingerprint
from registry.fingerprint_key import FingerprintKey
from registry.similarity.matching import BLOCK_CONTAINMENT, MIN_SHARED, find_matches
from registry.similarity.memory import MemoryLSHIndex


@dataclass(frozen=True)
class Case:
    kind: str
    text: str
    source: str | None  # the registration it copies; None for a negative


KEY = FingerprintKey(hashlib.sha256(b"legato plagiarism corpus test key").digest())


def fingerprint(canonical: str) -> Fingerprint:
    return KEY.fingerprinter(canonical)


@dataclass
class Corpus:
    originals: dict[str, str]
    sealed: dict[str, bytes]
    index: MemoryLSHIndex
    cases: list[Case]

    def load(self, key: str) -> Fingerprint | None:
        """What the registry's loader does: open the row's sealed fingerprint."""
        blob = self.sealed.get(key)
        return KEY.open(blob, key) if blob is not None else None

    @property
    def fingerprints(self) -> dict[str, Fingerprint]:
        return {key: KEY.open(blob, key) for key, blob in self.sealed.items()}


def _build() -> Corpus:
    rng = random.Random(20261122)
    originals = {f"en-{i}": ChapterWriter(1000 + i).chapter() for i in range(60)}
    originals |= {f"hw-{i}": handwritten.ENGLISH[i] for i in range(4)}
    originals |= {f"zh-{i}": ChineseWriter(100 + i).chapter() for i in range(12)}
    originals |= {f"hwzh-{i}": handwritten.CHINESE[i] for i in range(2)}
    originals = {k: canonicalize(v) for k, v in originals.items()}

    cases: list[Case] = []
    def near_copy(key: str, edits: tuple[int, int]) -> Case:
        return Case("a", reorder(light_edit(originals[key], rng, per_paragraph=edits), rng), key)

    cases += [near_copy(f"en-{i}", (2, 4)) for i in range(30)]
    cases += [near_copy(f"hw-{i}", (1, 2)) for i in range(4)]
    for i in range(30, 60):
        old = originals[f"en-{i}"]
        host = ChapterWriter(9000 + i).chapter(int(len(old) * (0.7, 1.0, 2.0, 3.0)[i % 4]))
        if i < 50:
            copied = light_edit(excerpt(old, rng, rng.uniform(1 / 3, 1 / 2)), rng, per_paragraph=(1, 3))
            cases.append(Case("b", embed(copied, host, rng), f"en-{i}"))
        else:  # a sixth from each half of the old chapter, in two places of the new one
            first, second = (
                light_edit(excerpt(old, rng, 1 / 6, within=half), rng, per_paragraph=(1, 2))
                for half in ((0.0, 0.5), (0.5, 1.0))
            )
            cases.append(Case("b", embed(second, embed(first, host, rng), rng), f"en-{i}"))
    cases += [near_copy(f"zh-{i}", (2, 4)) for i in range(6)]
    for i in range(6, 12):
        old = originals[f"zh-{i}"]
        host = ChineseWriter(900 + i).chapter(int(len(old) * (0.7, 1.0, 2.0)[i % 3]))
        copied = light_edit(excerpt(old, rng, rng.uniform(1 / 3, 1 / 2)), rng, per_paragraph=(1, 3))
        cases.append(Case("b", embed(copied, host, rng), f"zh-{i}"))

    for u in range(40):
        cases.append(Case("unrelated", ChapterWriter(5000 + u).chapter(), None))
    for u in range(20):  # short texts: a stock phrase is a larger share of them
        cases.append(Case("unrelated", rng.choice(paragraphs_of(ChapterWriter(7000 + u).chapter())), None))
    cases += [Case("unrelated", text, None) for text in handwritten.ENGLISH[4:]]
    cases += [Case("unrelated", ChineseWriter(700 + u).chapter(), None) for u in range(8)]
    cases += [Case("unrelated", text, None) for text in handwritten.CHINESE[2:] + handwritten.JAPANESE]

    sealed, index = {}, MemoryLSHIndex(key_id=KEY.key_id)
    for key, text in originals.items():
        fp = fingerprint(text)
        sealed[key] = KEY.seal(fp, key)
        index.add(key, fp.signatures)  # the index is rebuilt from the stored signatures alone
    return Corpus(originals, sealed, index, cases)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return _build()


@pytest.fixture(scope="module")
def outcomes(corpus: Corpus) -> list[tuple[Case, list[str], float]]:
    """(case, matched keys, score against the source or best score) for every case."""
    out = []
    for case in corpus.cases:
        new = fingerprint(canonicalize(case.text))
        scores = {m.key: m.score for m in find_matches(new, index=corpus.index, load=corpus.load)}
        best = scores.get(case.source, 0.0) if case.source else max(scores.values(), default=0.0)
        out.append((case, list(scores), best))
    return out


def test_the_set_is_big_enough_to_mean_something(corpus: Corpus) -> None:
    positives = [c for c in corpus.cases if c.source]
    negatives = [c for c in corpus.cases if not c.source]
    assert len(positives) >= 50
    assert len(negatives) * len(corpus.originals) >= 200
    assert {c.kind for c in positives} == {"a", "b"}
    assert any(c.source and c.source.startswith("zh") for c in positives)


def test_recall_on_copies_and_partial_copies(outcomes: list[tuple[Case, list[str], float]]) -> None:
    for kind in ("a", "b", None):
        cases = [(c, keys) for c, keys, _ in outcomes if c.source and (kind is None or c.kind == kind)]
        caught = [c for c, keys in cases if c.source in keys]
        missed = [c.source for c, keys in cases if c.source not in keys]
        assert len(caught) / len(cases) >= 0.95, f"kind {kind}: missed {missed}"


def test_precision_no_false_positives(outcomes: list[tuple[Case, list[str], float]]) -> None:
    wrong = [(c.kind, c.source, keys) for c, keys, _ in outcomes if any(k != c.source for k in keys)]
    assert wrong == []


def test_scores_leave_a_margin_around_the_threshold(outcomes: list[tuple[Case, list[str], float]]) -> None:
    """Unrelated texts stay far below the block threshold; copies stay clearly above it."""
    negatives = [(case, keys) for case, keys, _ in outcomes if not case.source]
    assert all(keys == [] for _, keys in negatives)
    positive_scores = sorted(score for case, keys, score in outcomes if case.source and case.source in keys)
    assert positive_scores[0] >= 1.25 * BLOCK_CONTAINMENT


def test_unrelated_same_genre_texts_share_only_stock_phrases(corpus: Corpus) -> None:
    """Among unrelated pairs long enough for the thresholds to apply, the best score is far below them.

    (Short texts are another matter: one 45-shingle paragraph of this corpus shares 9 stock-phrase
    shingles with a chapter, a containment of 0.2. ``MIN_SHARED`` is what keeps such texts out.)
    """
    worst = 0.0
    for case in corpus.cases:
        if case.source:
            continue
        new = fingerprint(canonicalize(case.text))
        for key, old in corpus.fingerprints.items():
            m = compare(new, old, key=key)
            if m.shared >= MIN_SHARED:
                worst = max(worst, m.score)
    assert 0 < worst < BLOCK_CONTAINMENT / 2


def test_partial_copy_evidence_points_at_the_copied_passage(corpus: Corpus) -> None:
    rng = random.Random(5)
    old = corpus.originals["en-31"]
    copied = excerpt(old, rng, 0.4)
    new_text = canonicalize(embed(copied, ChapterWriter(4242).chapter(), rng))
    match = find_matches(fingerprint(new_text), index=corpus.index, load=corpus.load)[0]
    assert match.key == "en-31"
    start_new, start_old = new_text.index(copied), old.index(copied)
    for p in match.passages[:3]:
        assert start_new <= p.new[0] < p.new[1] <= start_new + len(copied)
        assert start_old <= p.old[0] < p.old[1] <= start_old + len(copied)
        assert new_text[p.new[0] : p.new[1]] == old[p.old[0] : p.old[1]]
    assert sum(p.new[1] - p.new[0] for p in match.passages) >= 0.9 * len(copied)
