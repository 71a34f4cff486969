"""Glossary terms carried through an engine that has no glossary of its own.

Each term the writer fixed is swapped for a made-up lowercase word (``zzqgla``, ``zzqglb``…) that no
dictionary holds, so the engine copies it through as an unknown word; afterwards the placeholder
becomes the writer's target term. Apertium and Apertium-APy servers copy unknown words verbatim,
which makes this exact for them. Terms match as whole words, longest first, case-sensitively (names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PREFIX = "zzqgl"
_PLACEHOLDER = re.compile(r"[*#@]?" + PREFIX + r"([a-z]+)")


def _code(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(97 + r) + letters
    return letters


def term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    terms = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in terms) + r")(?!\w)")


def protect(paragraph: str, glossary: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The paragraph with glossary terms swapped out, and placeholder code → target term."""
    pattern = term_pattern(list(glossary))
    if pattern is None:
        return paragraph, {}
    codes: dict[str, str] = {}
    by_term: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        term = m.group(1)
        if term not in by_term:
            by_term[term] = _code(len(by_term))
            codes[by_term[term]] = glossary[term]
        return PREFIX + by_term[term]

    return pattern.sub(repl, paragraph), codes


def restore(output: str, codes: dict[str, str]) -> str:
    if not codes:
        return output
    return _PLACEHOLDER.sub(lambda m: codes.get(m.group(1), m.group(0)), output)
