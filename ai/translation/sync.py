"""Keeping a translation in step with its original.

Each translated paragraph remembers the digest of the source paragraph it translates. When the
original gets a new version, its paragraphs' digests are lined up against the remembered ones
(``difflib.SequenceMatcher``: the longest runs that did not change): a paragraph whose digest is found
in order keeps its translation, reviewed or not; every other one is new or changed and is translated
again. Nothing of the old original's text is needed, only digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from ai.translation import text
from ai.translation.protocol import Segment


@dataclass
class Plan:
    kept: dict[int, tuple[str, dict[str, Any]]]  # new index → (translated paragraph, its segment)
    todo: list[int]  # new indexes to translate


def changes(segments: list[dict[str, Any]], new_digests: list[str]) -> dict[str, list[int]]:
    """Which paragraphs of the new original changed (new indexes) and which old ones are gone."""
    old = [s.get("source", "") for s in segments]
    matcher = SequenceMatcher(a=old, b=new_digests, autojunk=False)
    kept_new: set[int] = set()
    kept_old: set[int] = set()
    for block in matcher.get_matching_blocks():
        kept_old.update(range(block.a, block.a + block.size))
        kept_new.update(range(block.b, block.b + block.size))
    return {
        "changed": [i for i in range(len(new_digests)) if i not in kept_new],
        "removed": [i for i in range(len(old)) if i not in kept_old],
    }


def plan(segments: list[dict[str, Any]], old_paragraphs: list[str], new_digests: list[str]) -> Plan:
    old = [s.get("source", "") for s in segments]
    kept: dict[int, tuple[str, dict[str, Any]]] = {}
    if len(old_paragraphs) == len(segments):  # an aligned translation: reuse what did not change
        matcher = SequenceMatcher(a=old, b=new_digests, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                kept[block.b + k] = (old_paragraphs[block.a + k], segments[block.a + k])
    return Plan(kept=kept, todo=[i for i in range(len(new_digests)) if i not in kept])


def merge(sources: list[str], plan: Plan, done: dict[int, Segment]) -> tuple[list[str], list[dict[str, Any]]]:
    paragraphs: list[str] = []
    segments: list[dict[str, Any]] = []
    for i, source in enumerate(sources):
        if i in plan.kept:
            paragraph, segment = plan.kept[i]
            paragraphs.append(paragraph)
            segments.append(dict(segment))
        else:
            seg = done[i]
            paragraphs.append(seg.text or source)
            segments.append({"source": text.digest(source), "reviewed": False, "unknown": seg.unknown[:50]})
    return paragraphs, segments
