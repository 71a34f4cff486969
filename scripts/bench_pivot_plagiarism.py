#!/usr/bin/env python
"""Precision and recall of the cross-language copy check (registry pivot, ai/translation/pivot.py).

    .venv/bin/python scripts/bench_pivot_plagiarism.py            # 40 originals, ~8,000-character chapters
    .venv/bin/python scripts/bench_pivot_plagiarism.py --n 20 --chars 4000

The set is built with the engine itself: English chapters from the plagiarism test set's seeded
generator are registered (fingerprinted into an in-memory LSH index, the registry's default); then

* positives: Apertium's Spanish translation of a registered chapter (whole), and of a one-third
  excerpt set between paragraphs of an unrelated translated chapter;
* negatives: Spanish translations of chapters that were never registered.

Each candidate goes the registration path: py3langid, translation to the pivot (es→en), fingerprint,
``find_matches`` with the registry's thresholds. A positive counts when the original is among the
matches; any match on a negative is a false positive.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "hardhat-free-tests" / "registry"))

from plagiarism_corpus.generator import ChapterWriter, embed, excerpt  # noqa: E402

from ai.translation import text  # noqa: E402
from ai.translation.apertium import ApertiumTranslator  # noqa: E402
from ai.translation.pivot import Pivot  # noqa: E402
from registry.canonical import canonicalize  # noqa: E402
from registry.fingerprint_key import FingerprintKey  # noqa: E402
from registry.similarity import MemoryLSHIndex, find_matches  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--chars", type=int, default=8_000)
    args = ap.parse_args()
    engine = ApertiumTranslator()
    pivot = Pivot(translator=engine, language="en")
    key = FingerprintKey.generate()
    index = MemoryLSHIndex(key_id=key.key_id)
    fps = {}
    rng = random.Random(5)

    def spanish(english: str) -> str:
        return text.join([s.text for s in engine.translate(text.split(english), source="en", target="es")])

    originals = [ChapterWriter(i).chapter(args.chars) for i in range(args.n)]
    for i, t in enumerate(originals):
        fps[f"orig-{i}"] = key.fingerprinter(canonicalize(t))
        index.add(f"orig-{i}", fps[f"orig-{i}"])

    def matched(candidate: str) -> list[str]:
        pivoted = pivot(canonicalize(candidate))
        if pivoted is None:
            return []
        fp = key.fingerprinter(canonicalize(pivoted[0]))
        return [m.key for m in find_matches(fp, index=index, load=fps.get)]

    started = time.perf_counter()
    rows = {"whole": [0, 0], "excerpt": [0, 0], "negative": [0, 0]}  # [hits, total]
    for i, original in enumerate(originals):
        rows["whole"][0] += f"orig-{i}" in matched(spanish(original))
        rows["whole"][1] += 1
        host = spanish(ChapterWriter(50_000 + i).chapter(args.chars))
        part = spanish(excerpt(original, rng, 1 / 3))
        rows["excerpt"][0] += f"orig-{i}" in matched(embed(part, host, rng))
        rows["excerpt"][1] += 1
        rows["negative"][0] += bool(matched(spanish(ChapterWriter(90_000 + i).chapter(args.chars))))
        rows["negative"][1] += 1
    elapsed = time.perf_counter() - started
    tp = rows["whole"][0] + rows["excerpt"][0]
    positives = rows["whole"][1] + rows["excerpt"][1]
    fp = rows["negative"][0]
    print(f"{args.n} registered English chapters of ~{args.chars} characters; Apertium en→es, pivot es→en")
    for name, (hits, total) in rows.items():
        print(f"  {name:<9} matched {hits:>3} / {total}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    print(
        f"recall {tp / positives:.2f} (whole {rows['whole'][0] / rows['whole'][1]:.2f}, "
        f"excerpt {rows['excerpt'][0] / rows['excerpt'][1]:.2f}), precision {precision:.2f}, "
        f"false positives {fp} / {rows['negative'][1]}; {elapsed:.0f} s"
    )


if __name__ == "__main__":
    main()
