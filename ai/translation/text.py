"""Paragraphs: the unit of alignment, review and refresh.

A paragraph is a run of lines between blank lines (how writers type, how Markdown reads, how every
engine keeps structure). Each is identified by the SHA-256 of its whitespace-normalized text, so a new
version of the original shows which paragraphs changed without keeping the old text around, and a
refresh re-translates only those.
"""

from __future__ import annotations

import hashlib
import re

_BLANK_LINE = re.compile(r"\n[ \t]*\n+")
_SPACE = re.compile(r"\s+")
MARKS = re.compile(r"(?<![\w*#@])[*#@](\w[\w'’-]*)")  # Apertium: *unknown, #generation, @transfer


def split(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return [p.strip() for p in _BLANK_LINE.split(text.strip()) if p.strip()]


def join(paragraphs: list[str]) -> str:
    return "\n\n".join(p.strip() for p in paragraphs)


def digest(paragraph: str) -> str:
    return hashlib.sha256(_SPACE.sub(" ", paragraph.strip()).encode()).hexdigest()


def digests(paragraphs: list[str]) -> list[str]:
    return [digest(p) for p in paragraphs]


def strip_marks(source: str, output: str) -> tuple[str, list[str]]:
    """The engine's output without its unknown-word marks, and the words it marked. A mark that was
    already in the source (``*emphasis``, ``@name``) is the writer's and stays."""
    unknown: list[str] = []

    def repl(m: re.Match[str]) -> str:
        if m.group(0) in source:
            return m.group(0)
        unknown.append(m.group(1))
        return m.group(1)

    return MARKS.sub(repl, output), unknown
