"""Word spans shared by the cloud adapters, which get timings per SSML mark or per speech mark and
must turn them back into character offsets of the text they were given."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

_WORD = re.compile(r"\w[\w'’-]*", re.UNICODE)


def word_spans(text: str) -> list[tuple[int, int]]:
    """``(start, length)`` of each word, in characters."""
    return [(m.start(), m.end() - m.start()) for m in _WORD.finditer(text)]


def ssml_with_marks(text: str, rate: float) -> str:
    """``<speak>`` with ``<mark name="w{i}"/>`` before word ``i`` and the rate as a prosody percentage."""
    out, pos = [], 0
    for i, (start, length) in enumerate(word_spans(text)):
        out.append(escape(text[pos:start]))
        out.append(f'<mark name="w{i}"/>')
        out.append(escape(text[start : start + length]))
        pos = start + length
    out.append(escape(text[pos:]))
    return f'<speak><prosody rate="{round(rate * 100)}%">{"".join(out)}</prosody></speak>'


def ssml_char_index(text: str, rate: float) -> tuple[str, list[int]]:
    """The SSML for ``text`` (no marks) and, for each UTF-8 byte of it, the character of ``text`` it
    came from (-1 for markup): Polly reports word positions as byte offsets into what it was sent."""
    head = f'<speak><prosody rate="{round(rate * 100)}%">'
    parts, index = [head], [-1] * len(head.encode())
    for i, ch in enumerate(text):
        piece = escape(ch)
        parts.append(piece)
        index.extend([i] * len(piece.encode()))
    tail = "</prosody></speak>"
    parts.append(tail)
    index.extend([-1] * len(tail.encode()))
    return "".join(parts), index
