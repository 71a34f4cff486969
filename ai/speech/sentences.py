"""Split a chapter's canonical text into the sentences that are spoken one by one.

Each sentence keeps its character offsets in the canonical text (what the registry fingerprints and the
reader receives), so a sync cue points at exactly the characters a reader sees highlighted. A sentence
ends at terminal punctuation of any script the platform serves (Latin, Arabic ``؟``, Devanagari ``।``,
Ethiopic ``።``, CJK ``。``) followed by space, or at a line break. A run without any (a pasted wall of
text) is cut at the last space before ``MAX_SENTENCE_CHARS`` so one synthesizer call stays small; with
no space at all it is cut hard there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_SENTENCE_CHARS = 400
_END = re.compile(r"[.!?…。？！؟।॥።፧;]+[\"'”’»)\]]*(?=\s|$)|\n+")


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int  # offset in the canonical text, inclusive
    end: int  # exclusive
    text: str


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for m in _END.finditer(text):
        yield pos, m.end()
        pos = m.end()
    if pos < len(text):
        yield pos, len(text)


def _bounded(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + 1, start + MAX_SENTENCE_CHARS)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        yield start, cut
        start = cut
    yield start, end


def split_sentences(text: str) -> Iterator[Sentence]:
    """Sentences in order, stripped of surrounding space; pieces with nothing speakable are skipped."""
    index = 0
    for a, b in _pieces(text):
        for s, e in _bounded(text, a, b):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            piece = text[s:e]
            if any(ch.isalnum() for ch in piece):
                yield Sentence(index, s, e, piece)
                index += 1
