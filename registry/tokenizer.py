"""The normalized token stream (``legato-tokens-v1``) that plagiarism fingerprints are made of.

Copying survives cosmetic changes, so tokens ignore them: case (``casefold``), compatibility forms
(NFKC: ligatures, full-width letters, superscripts) and punctuation (dropped). Every token keeps the
character span it came from in the *canonical* text, so evidence can point at the passage a reader
can see.

Rules (documented in docs/plagiarism.md, vectors in the tests):

* A word character is a letter, mark or number (Unicode general category L*, M*, N*).
* A token is a maximal run of word characters, except that each character of a script written
  without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tai scripts,
  Javanese, Balinese, Yi) is a token of its own, together with the combining marks that follow it.
* An apostrophe (U+0027, U+2019, U+02BC) between two letters of a spaced script joins them
  ("don't" is one token) and is dropped from the normalized form ("dont").
* The normalized form of a token is ``NFKC(casefold(NFKC(t)))`` with any non-word character that
  the compatibility mapping produced removed; a token that normalizes to nothing is dropped.
* A token's hash is ``fmix64(h)`` with ``h = sum(x_m * P**(L-1-m)) mod 2**64`` over the code points
  ``x_m`` of its normalized form (Horner's rule, ``P`` below), ``fmix64`` the MurmurHash3 finalizer.

Speed is the reason for the numpy formulation: a 10 KB chapter is classified, split and hashed
without a Python loop per token. Characters whose normalization is not a single code point (about
800 of them, e.g. "ß", "ﬁ", "İ") and marks next to a character that normalization changes make their
token take an exact per-token path; both paths compute the same function (tested against a plain
reference implementation).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

TOKENIZER = "legato-tokens-v1"
UNICODE_VERSION = unicodedata.unidata_version

P = np.uint64(0x9E3779B97F4A7C15)  # odd, so multiplication by it is a bijection mod 2**64

# Character classes.
OTHER, WORD, MARK, NOSPACE, APOS = 0, 1, 2, 3, 4
APOSTROPHES = "'\u2019\u02bc"

# Scripts written without spaces between words (inclusive code point ranges).
NOSPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F), (0x0E80, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F),  # Myanmar
    (0x1780, 0x17FF), (0x19E0, 0x19FF),  # Khmer
    (0x1950, 0x197F), (0x1980, 0x19DF), (0x1A20, 0x1AAF),  # Tai Le, New Tai Lue, Tai Tham
    (0x1B00, 0x1B7F), (0xA980, 0xA9DF),  # Balinese, Javanese
    (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B),  # 々〆〇, Hangzhou numerals
    (0x3040, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F),  # kana
    (0x1AFF0, 0x1B16F),  # kana supplements
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF),  # Han
    (0xA000, 0xA4CF),  # Yi
)
# Half-width katakana voicing marks are letters (Lm) but NFKC turns them into combining marks that
# compose with the preceding kana; classifying them as marks keeps "ｶﾞ" one token, like "ガ".
_HALFWIDTH_VOICING = "\uff9e\uff9f"
_TABLE_LIMIT = 0x32400  # tables cover BMP, SMP, SIP, TIP; rarer code points take the exact path
_MASK64 = (1 << 64) - 1


def normalize_token(token: str) -> str:
    """The normalized form of one token (exact definition; the fast path must agree with it)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", token).casefold())
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LMN" and ch not in APOSTROPHES)


def _is_nospace(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in NOSPACE_RANGES)


def char_class(ch: str) -> int:
    if ch in APOSTROPHES:
        return APOS
    if ch in _HALFWIDTH_VOICING:
        return MARK
    major = unicodedata.category(ch)[0]
    if major == "M":
        return MARK
    if major in "LN":
        return NOSPACE if _is_nospace(ord(ch)) else WORD
    return OTHER


# Bits of the per-code-point info table (the low three bits hold the class).
_CLASS_BITS, _COMPLEX, _CHANGED, _IS_MARK = 0b111, 0b1000, 0b10000, 0b100000


@dataclass(frozen=True)
class _Tables:
    info: np.ndarray  # uint8: class | _COMPLEX (normalization is not one code point) | _CHANGED | _IS_MARK
    fold: np.ndarray  # uint32: the normalized code point, where it is a single one


@cache
def _tables() -> _Tables:
    """Lookup tables derived from Python's Unicode database: a constant, built once per process."""
    nospace = np.zeros(_TABLE_LIMIT, bool)
    for lo, hi in NOSPACE_RANGES:
        nospace[lo : min(hi, _TABLE_LIMIT - 1) + 1] = True
    info = np.zeros(_TABLE_LIMIT, np.uint8)
    fold = np.arange(_TABLE_LIMIT, dtype=np.uint32)
    category, is_normalized = unicodedata.category, unicodedata.is_normalized
    for cp in range(_TABLE_LIMIT):
        ch = chr(cp)
        major = category(ch)[0]
        if ch in APOSTROPHES:
            info[cp] = APOS
            continue
        if major == "M" or ch in _HALFWIDTH_VOICING:
            info[cp] = MARK | _IS_MARK
        elif major in "LN":
            info[cp] = NOSPACE if nospace[cp] else WORD
        else:
            continue
        if ch.casefold() == ch and is_normalized("NFKC", ch):
            continue  # its own normal form (all unified ideographs, most letters)
        f = normalize_token(ch)
        if len(f) == 1:
            fold[cp] = ord(f)
            info[cp] |= _CHANGED
        else:
            info[cp] |= _COMPLEX
    return _Tables(info, fold)


def fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def hash_normalized(norm: str) -> int:
    """Token hash of an already normalized token, in plain Python (the exact path)."""
    h = 0
    for ch in norm:
        h = (h * int(P) + ord(ch)) & _MASK64
    return int(fmix64(np.array([h], np.uint64))[0])


def _powers(n: int) -> np.ndarray:
    """P**0 .. P**(n-1) mod 2**64."""
    out = np.empty(max(n, 1), np.uint64)
    out[0] = 1
    if n > 1:
        out[1:] = np.cumprod(np.full(n - 1, P, np.uint64))
    return out


@dataclass(frozen=True)
class Tokens:
    """Tokens of one canonical text: hashes and character spans, in reading order."""

    hashes: np.ndarray  # uint64
    starts: np.ndarray  # uint32 offset of the first character (code points, canonical text)
    ends: np.ndarray  # uint32 offset after the last character
    nospace: int  # how many tokens are single characters of a no-space script

    def __len__(self) -> int:
        return len(self.hashes)


def _info(cps: np.ndarray, t: _Tables) -> np.ndarray:
    if len(cps) == 0 or int(cps.max()) < _TABLE_LIMIT:
        return t.info[cps]
    inside = cps < _TABLE_LIMIT
    info = t.info[np.where(inside, cps, 0)]
    for pos in np.flatnonzero(~inside).tolist():
        c = char_class(chr(int(cps[pos])))
        info[pos] = c | _COMPLEX | (_IS_MARK if c == MARK else 0)
    return info


def _shift(a: np.ndarray, fill: Any, forward: bool) -> np.ndarray:
    """a[i-1] (forward) or a[i+1] at position i, ``fill`` at the edge."""
    out = np.empty_like(a)
    if forward:
        out[0], out[1:] = fill, a[:-1]
    else:
        out[-1], out[:-1] = fill, a[1:]
    return out


def tokenize(canonical: str) -> Tokens:
    """Split, normalize and hash the tokens of a canonical text (see the module docstring)."""
    cps = np.frombuffer(canonical.encode("utf-32-le"), dtype="<u4")
    n = len(cps)
    none = Tokens(np.zeros(0, np.uint64), np.zeros(0, np.uint32), np.zeros(0, np.uint32), 0)
    if n == 0:
        return none
    tables = _tables()
    info = _info(cps, tables)
    c = info & _CLASS_BITS
    is_mark = c == MARK
    # base: class of the nearest non-mark character at or before each position (marks attach to it).
    base = c[np.maximum.accumulate(np.where(is_mark, 0, np.arange(n)))] if is_mark.any() else c
    prev_base = _shift(base, OTHER, True)
    in_tok = (c - np.uint8(1)) < 3  # WORD, MARK or NOSPACE (OTHER wraps around to 255)
    is_apos = c == APOS
    joiner = None
    if is_apos.any():
        prev_c, next_c = _shift(c, OTHER, True), _shift(c, OTHER, False)
        joiner = is_apos & ((prev_c == WORD) | (prev_c == MARK)) & (prev_base == WORD) & (next_c == WORD)
        in_tok = in_tok | joiner
    prev_in = _shift(in_tok, False, True)
    start = in_tok & ~prev_in
    nospace = c == NOSPACE
    if nospace.any():
        start |= nospace | ((c == WORD) & (prev_base == NOSPACE))
    end = in_tok & (~_shift(in_tok, False, False) | _shift(start, True, False))
    starts = np.flatnonzero(start)
    if len(starts) == 0:
        return none
    ends = np.flatnonzero(end) + 1

    # Horner's rule for every token at once: h = sum(x_q * P**(last - q)) over the token's kept
    # code points q (joiners dropped), as one weighted sum per token.
    keep = in_tok if joiner is None else in_tok & ~joiner
    kept_pos = np.flatnonzero(keep)
    first = np.flatnonzero(start[kept_pos])
    last = np.empty_like(first)
    last[:-1], last[-1] = first[1:] - 1, len(kept_pos) - 1
    length = last - first + 1
    exponent = np.repeat(last, length) - np.arange(len(kept_pos))
    folded = tables.fold[np.minimum(cps[kept_pos], _TABLE_LIMIT - 1)].astype(np.uint64)
    hashes = fmix64(np.add.reduceat(folded * _powers(int(length.max()))[exponent], first))

    # Exact path for tokens the per-character table cannot fold on its own.
    flags = np.bitwise_or.reduceat(info[kept_pos], first)
    slow = np.flatnonzero(((flags & _COMPLEX) != 0) | (((flags & _CHANGED) != 0) & ((flags & _IS_MARK) != 0)))
    keep_tok = None
    for j in slow.tolist():
        norm = normalize_token(canonical[starts[j] : ends[j]])
        if norm:
            hashes[j] = hash_normalized(norm)
        else:
            keep_tok = np.ones(len(starts), bool) if keep_tok is None else keep_tok
            keep_tok[j] = False
    nospace_tok = nospace[starts]
    if keep_tok is not None:
        hashes, starts, ends = hashes[keep_tok], starts[keep_tok], ends[keep_tok]
        nospace_tok = nospace_tok[keep_tok]
    return Tokens(hashes, starts.astype(np.uint32), ends.astype(np.uint32), int(nospace_tok.sum()))
