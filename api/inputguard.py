"""Limits every untrusted input must meet before a parser or the database sees it.

Python's ``json`` decoder recurses once per nesting level in C. Importing web3 pulls in py_ecc, which
raises the interpreter's recursion limit to 100,000, so the decoder's own guard comes too late and a body
of ~70,000 ``[`` overflows the C stack: the whole process dies on one unauthenticated request. The depth
is therefore measured here without recursion, before any decoding, and the recursion limit is put back
to a sane value once py_ecc has been imported.

The same scan refuses what no column can hold: a NUL character (PostgreSQL text cannot store it), an
unpaired UTF-16 surrogate (not encodable as UTF-8, so every driver and hash fails on it) and an integer
literal beyond ±2^53 (I-JSON, RFC 7493: not exchangeable between JSON implementations,
and past every BIGINT once multiplied or summed).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

MAX_JSON_DEPTH = 64
MAX_JSON_INT = 2**53
SANE_RECURSION_LIMIT = 3000

# A JSON string (escapes skipped in C), a bracket, or a run of 16+ digits standing alone (an integer
# literal that may exceed 2^53; a fraction or exponent part makes it a float and leaves it out).
_TOKENS = re.compile(
    rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|(?<![\w.+-])-?\d{16,}(?![\w.])|NaN|Infinity', re.S
)
_LONG_DIGITS = re.compile(rb"\d{16}")


class JsonRefused(ValueError):
    """Why a JSON document was refused before parsing; ``code`` is the envelope's error code."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def check_json_bytes(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ``JsonRefused`` when ``body`` nests deeper than ``max_depth``, carries NUL or an unpaired
    surrogate in a string, NaN/Infinity, or an integer beyond ±2^53. Invalid JSON otherwise passes: the
    parser reports it as usual."""
    brackets = body.count(b"[") + body.count(b"{")
    if (
        brackets <= max_depth and b"\\u" not in body and not _LONG_DIGITS.search(body)
        and b"NaN" not in body and b"Infinity" not in body
    ):
        return  # the common case: nothing here can need the token walk
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        first = token[:1]
        if first in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise JsonRefused(
                    "JSON_TOO_DEEP", f"JSON nested deeper than {max_depth} levels is not accepted.",
                    {"max_depth": max_depth},
                )
        elif first in (b"]", b"}"):
            depth -= 1
        elif first == b'"':
            if b"\\u" in token:
                try:
                    text = json.loads(token)
                except ValueError:
                    continue  # a bad escape: the parser reports it
                check_text(text)
        elif first in (b"N", b"I"):
            # Python's decoder accepts these non-JSON literals; nothing downstream can use them.
            raise JsonRefused("MALFORMED_JSON", "NaN and Infinity are not JSON.")
        elif abs(int(token)) > MAX_JSON_INT:
            raise JsonRefused(
                "NUMBER_OUT_OF_RANGE", "Integers beyond ±2^53 are not accepted.",
                {"max_abs": MAX_JSON_INT},
            )


def nul_refused() -> JsonRefused:
    return JsonRefused("INVALID_INPUT", "Text may not contain the NUL character (U+0000).")


def check_text(value: str) -> None:
    """Raise ``JsonRefused`` for text no database column can store (NUL, unpaired surrogates)."""
    if "\x00" in value:
        raise nul_refused()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise JsonRefused("INVALID_INPUT", "Text may not contain unpaired UTF-16 surrogates.") from e


def loads_bounded(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for JSON that arrives inside a field (a certificate string, a cursor): checked
    the same way as a request body first, so no nesting reaches the recursive decoder."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    check_json_bytes(raw, max_depth=max_depth)
    return json.loads(raw)


def restore_recursion_limit() -> None:
    """Import py_ecc now (it raises the recursion limit at import time, once) and lower the limit again,
    so deep recursion anywhere ends in ``RecursionError`` instead of a C stack overflow."""
    import py_ecc  # noqa: F401

    if sys.getrecursionlimit() > SANE_RECURSION_LIMIT:
        sys.setrecursionlimit(SANE_RECURSION_LIMIT)
