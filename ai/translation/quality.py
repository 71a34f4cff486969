"""The automatic quality report of a translation: what a reviewer should look at first.

Checks, per paragraph (by index in the source):

* **alignment** — every source paragraph has exactly one translated paragraph;
* **untranslated** — words the engine could not translate and copied as they were (Apertium marks
  them; a paragraph a person edited is theirs and no longer carries the engine's marks);
* **length** — the translated paragraph's length over the source's within ``[min_ratio, max_ratio]``
  (paragraphs under 40 characters are too short to judge);
* **glossary** — each glossary term in the source paragraph appears as the writer set it;
* **numbers** — the same numbers in the same count (separators ignored: ``1,250`` = ``1.250``).

The score is the mean paragraph score × 100: a paragraph loses 0.4 for numbers, 0.3 for the glossary,
0.2 for length and 0.1 per untranslated word (at most 0.3); a misaligned translation scores at most 50.
The report holds indexes, counts and the flagged terms, never whole paragraphs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ai.translation.placeholders import term_pattern

_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d+)*")
MIN_RATIO, MAX_RATIO = 0.5, 2.0
MIN_JUDGED_CHARS = 40
MAX_LISTED = 20  # words or numbers listed per paragraph and check


def numbers(paragraph: str) -> Counter[str]:
    return Counter(re.sub(r"\D", "", m.group(0)) for m in _NUMBER.finditer(paragraph))


def _paragraph_issues(
    source: str,
    target: str,
    unknown: Sequence[str],
    glossary: Mapping[str, str],
    min_ratio: float,
    max_ratio: float,
) -> tuple[list[dict[str, Any]], float]:
    issues: list[dict[str, Any]] = []
    penalty = 0.0
    if unknown:
        issues.append({"check": "untranslated", "words": list(dict.fromkeys(unknown))[:MAX_LISTED]})
        penalty += min(0.3, 0.1 * len(unknown))
    if len(source) >= MIN_JUDGED_CHARS:
        ratio = len(target) / len(source)
        if not min_ratio <= ratio <= max_ratio:
            issues.append({"check": "length", "ratio": round(ratio, 2)})
            penalty += 0.2
    pattern = term_pattern(list(glossary))
    if pattern is not None:
        missing = sorted(
            {glossary[m.group(1)] for m in pattern.finditer(source) if glossary[m.group(1)] not in target}
        )
        if missing:
            issues.append({"check": "glossary", "missing": missing[:MAX_LISTED]})
            penalty += 0.3
    src_numbers, dst_numbers = numbers(source), numbers(target)
    if src_numbers != dst_numbers:
        issues.append(
            {
                "check": "numbers",
                "missing": sorted((src_numbers - dst_numbers).elements())[:MAX_LISTED],
                "extra": sorted((dst_numbers - src_numbers).elements())[:MAX_LISTED],
            }
        )
        penalty += 0.4
    return issues, max(0.0, 1.0 - penalty)


def report(
    sources: Sequence[str],
    targets: Sequence[str],
    *,
    unknown: Sequence[Sequence[str]] | None = None,
    glossary: Mapping[str, str] | None = None,
    min_ratio: float = MIN_RATIO,
    max_ratio: float = MAX_RATIO,
) -> dict[str, Any]:
    """The report of ``targets`` (translated paragraphs) against ``sources``."""
    glossary = glossary or {}
    unknown = unknown or [[] for _ in targets]
    aligned = len(sources) == len(targets)
    flagged: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    scores: list[float] = []
    for i, source in enumerate(sources):
        if i >= len(targets):
            flagged.append({"index": i, "issues": [{"check": "alignment", "missing": True}]})
            counts["alignment"] += 1
            scores.append(0.0)
            continue
        words = unknown[i] if i < len(unknown) else []
        issues, score = _paragraph_issues(source, targets[i], words, glossary, min_ratio, max_ratio)
        scores.append(score)
        if issues:
            flagged.append({"index": i, "issues": issues})
            counts.update(issue["check"] for issue in issues)
    if len(targets) > len(sources):
        counts["alignment"] += len(targets) - len(sources)
    score = 100 * sum(scores) / len(scores) if scores else 100.0
    if not aligned:
        score = min(score, 50.0)
    return {
        "score": round(score, 1),
        "aligned": aligned,
        "source_paragraphs": len(sources),
        "translated_paragraphs": len(targets),
        "length_bounds": [min_ratio, max_ratio],
        "checks": dict(sorted(counts.items())),
        "flagged": flagged,
    }
