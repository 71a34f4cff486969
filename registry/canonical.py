"""Canonical text ``legato-text-v1`` and its SHA-256.

A certificate promises that *this text* existed at a time. Editors, operating systems and browsers
disagree on invisible details (CRLF or LF, NFD or NFC accents, a byte-order mark, trailing blanks), so
the registry hashes one canonical form of the text instead of the bytes it received. The same words
then always give the same ``content.sha256``, and anyone can recompute it from the text alone.

The rules, in order (docs/certificate.md, "Content hash", restates them for verifiers):

1. ``bytes`` are decoded as strict UTF-8. Invalid UTF-8 is refused with the byte offset of the first bad
   byte; a ``str`` holding a lone surrogate (which has no UTF-8 form) is refused with its character
   offset.
2. Unicode NFC.
3. CRLF, then any remaining CR, become LF. Other separators (U+2028, NEL, form feed) are content.
4. Trailing U+0020 SPACE and U+0009 TAB are removed from every line. Other spaces (NO-BREAK SPACE,
   ideographic space) are content: a writer may use them on purpose.
5. Leading and trailing blank lines (lines that are empty after step 4) are removed; there is no
   final newline. Indentation of the first line is kept.
6. Byte-order marks: before the first content, U+FEFF counts as blank. A line holding only U+FEFF,
   spaces and tabs is a leading blank line, and U+FEFF characters opening the first content line are
   removed. So the UTF-8 BOM (EF BB BF) that Windows editors add silently disappears, whether it came
   as bytes or as a decoded ``str``, and the canonical text never *starts* with U+FEFF -- which is
   what makes the rules idempotent (a canonical text that began with U+FEFF would lose it when
   canonicalized again). A U+FEFF anywhere after the first content is a zero-width no-break space:
   content, kept.

The result is never empty, is at most ``max_chars`` code points long (counted on the canonical text,
so the limit does not depend on the submitter's line endings), and canonicalizing it again returns
it unchanged.
"""

from __future__ import annotations

import hashlib
import unicodedata

from registry.errors import InvalidContent

CANONICALIZATION = "legato-text-v1"
DEFAULT_MAX_CHARS = 500_000

_BOM = "\ufeff"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise InvalidContent(
            f"The text is not valid UTF-8 (byte {e.start}: {e.reason}).",
            details={"reason": "invalid_utf8", "byte_offset": e.start, "detail": e.reason},
        ) from None


def _refuse_surrogates(text: str) -> None:
    """A ``str`` may carry lone surrogates (e.g. from JSON ``"\\ud800"``); they cannot be hashed as UTF-8."""
    try:
        text.encode("utf-8", errors="strict")
    except UnicodeEncodeError as e:
        raise InvalidContent(
            f"The text contains an unpaired surrogate at character {e.start}.",
            details={"reason": "lone_surrogate", "char_offset": e.start},
        ) from None


def canonicalize(data: bytes | str, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Return the ``legato-text-v1`` form of ``data`` or raise :class:`InvalidContent`.

    ``details["reason"]`` says why: ``invalid_utf8`` (with ``byte_offset``), ``lone_surrogate``
    (with ``char_offset``), ``empty``, or ``too_long`` (with ``max_chars`` and ``length``).
    """
    if isinstance(data, bytes | bytearray | memoryview):
        text = _decode(bytes(data))
    elif isinstance(data, str):
        _refuse_surrogates(data)
        text = data
    else:
        raise TypeError(f"canonicalize() takes bytes or str, not {type(data).__name__}")

    text = unicodedata.normalize("NFC", text)
    lines = [line.rstrip(" \t") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    first = next((i for i, line in enumerate(lines) if line.strip(" \t" + _BOM)), None)
    if first is None:
        raise InvalidContent(
            "The text is empty (only whitespace and blank lines).", details={"reason": "empty"}
        )
    last = next(i for i in range(len(lines) - 1, -1, -1) if lines[i])
    lines[first] = lines[first].lstrip(_BOM)
    canonical = "\n".join(lines[first : last + 1])

    if len(canonical) > max_chars:
        raise InvalidContent(
            f"The text is {len(canonical)} characters long; the limit is {max_chars}.",
            details={"reason": "too_long", "max_chars": max_chars, "length": len(canonical)},
        )
    return canonical


def content_sha256(canonical: str) -> str:
    """``content.sha256``: lowercase hex SHA-256 of the canonical text's UTF-8 bytes.

    The argument must already be canonical; hashing anything else would certify bytes the verifier
    can never reproduce, so callers pass the output of :func:`canonicalize`.
    """
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
