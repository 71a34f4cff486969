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

import numpy as np

MAX_JSON_DEPTH = 64
MAX_JSON_INT = 2**53
SANE_RECURSION_LIMIT = 3000

# A JSON string, escapes skipped. An unterminated one runs to the end of the body instead of failing: a
# failed match would be retried from the next quote, and a body of escaped quotes (``"\\"\\"…``) would
# take quadratic time. Possessive quantifiers: nothing to backtrack into.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.S)
# Outside strings: an integer literal of 16+ digits (a fraction or exponent makes it a float), NaN, Infinity.
_BIG_INT = re.compile(rb"(?<![\w.+-])-?\d{16,}+(?![\w.])")
_NOT_JSON = re.compile(rb"NaN|Infinity")
_LONG_DIGITS = re.compile(rb"\d{16}")
# After escaped backslashes and whole surrogate pairs are removed, any of these left is NUL or half a pair.
_SURROGATE_PAIR = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = np.frombuffer(b"[{", dtype=np.uint8)


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
    parser reports it as usual.

    Linear in the body and all in C (regular expressions, ``bytes.translate``, numpy), so a body built
    to be slow to scan costs no more than one built to be slow to parse."""
    if b"\\u" in body:
        # ``\\u0000`` is the text "\u0000", not NUL: escaped backslashes pair up left to right, exactly
        # as ``bytes.replace`` removes them, so what remains shows only real escapes.
        escapes = _SURROGATE_PAIR.sub(b"", body.replace(b"\\\\", b""))
        bad = _BAD_ESCAPE.search(escapes)
        if bad is not None:
            raise nul_refused() if bad.group() == b"\\u0000" else JsonRefused(
                "INVALID_INPUT", "Text may not contain unpaired UTF-16 surrogates.")
    if (
        body.count(b"[") + body.count(b"{") <= max_depth and not _LONG_DIGITS.search(body)
        and not _NOT_JSON.search(body)
    ):
        return  # the common case: nothing can be too deep or too big, even counting inside strings
    # Structure and numbers only: text can neither nest nor count.
    skeleton = _STRING.sub(b'""', body) if b'"' in body else body
    brackets = skeleton.translate(None, _NOT_BRACKETS)
    if len(brackets) > max_depth:
        steps = np.where(np.isin(np.frombuffer(brackets, dtype=np.uint8), _OPENERS), 1, -1)
        if int(np.cumsum(steps).max()) > max_depth:
            raise JsonRefused(
                "JSON_TOO_DEEP", f"JSON nested deeper than {max_depth} levels is not accepted.",
                {"max_depth": max_depth},
            )
    if _NOT_JSON.search(skeleton):
        # Python's decoder accepts these non-JSON literals; nothing downstream can use them.
        raise JsonRefused("MALFORMED_JSON", "NaN and Infinity are not JSON.")
    for match in _BIG_INT.finditer(skeleton):
        token = match.group()
        # 2^53 has 16 digits; longer literals are never converted (past 4,300 digits int() raises).
        if len(token.lstrip(b"-")) > 16 or abs(int(token)) > MAX_JSON_INT:
            raise JsonRefused(
                "NUMBER_OUT_OF_RANGE", "Integers beyond ±2^53 are not accepted.",
                {"max_abs": MAX_JSON_INT},
            )


def nul_refused() -> JsonRefused:
    return JsonRefused("INVALID_INPUT", "Text may not contain the NUL character (U+0000).")


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
