"""MinHash fingerprints of canonical texts, for plagiarism detection and the certificate.

A fingerprint keeps three things, each for a reason:

* the **whole-text MinHash** (datasketch, 128 permutations, fixed seed, scheme ``affine32``): its
  digest goes into the certificate and it finds near-verbatim copies in the LSH index;
* **chunk MinHashes** over content-defined chunks of the shingle sequence: a chunk boundary sits
  after a shingle whose hash has a given residue, so a passage copied into another text is cut at the
  same places there and its chunks match nearly exactly, however much new material surrounds it.
  The whole-text MinHash cannot see that case (a third of a chapter inside a new chapter is a Jaccard
  similarity near 0.2, below what LSH can find without flooding itself with false candidates);
* the **shingle sequence** (64-bit hashes in reading order) with the character spans of its tokens,
  so an exact comparison can confirm a candidate and cite the copied passages by offset.

Shingles are ``k`` consecutive tokens of :mod:`registry.tokens`: words (``k = 5``) for spaced
scripts; single characters (``k = 8``, about as long as five words) when at least half the tokens
are characters of a script written without spaces (Chinese, Japanese, Thai...). A text with fewer
than ``k`` tokens has one shingle of all of them. Shingle hash: ``fmix64(sum(t_j * P**(k-1-j)))``
over the token hashes ``t_j``.

MinHash input is the low 32 bits of each shingle hash (``affine32`` hashes 32-bit values). The
permutations are applied with numpy in blocks, using the permutation parameters of datasketch's own
``MinHash(seed=..., scheme=...)``; the result is the signature datasketch's per-item ``update`` loop
gives for the same values (tested), ~25x faster end to end (scripts/bench_fingerprint.py).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, Literal

import numpy as np
from datasketch import LeanMinHash, MinHash

from registry.errors import ConfigurationError
from registry.tokens import TOKENIZER, UNICODE_VERSION, P, fmix64, tokenize

NUM_PERM = 128
SEED = 1
SCHEME: Literal["affine32"] = "affine32"
Mode = Literal["word", "char"]
WORD_K = 5
CHAR_K = 8
CHAR_MODE_SHARE = 0.5  # share of single-character tokens above which a text is fingerprinted by characters
CHUNK_MIN = 32  # shingles; a chunk is cut after a candidate shingle once it has at least this many
CHUNK_SPACING = 64  # one shingle in CHUNK_SPACING (on average) is a cut candidate: chunks of ~96 shingles
CHUNK_MAX = 1024  # a chunk is cut here when no candidate came (p ~ 1e-7 per chunk)
CHUNK_PERM = 32  # chunk signatures keep the first 32 permutations (bands can be retuned without the texts)

_FORMAT_VERSION = 1
_MAGIC = b"LGFP"
# magic, version, scheme, mode, k, num_perm, chunk_perm, seed, tokens, shingles, chunks
_HEADER = struct.Struct("<4sBBBBHHIIII")
_SCHEMES = {"affine32": 1}
_MODES = {"word": 0, "char": 1}
_BLOCK = 2048  # shingles per block of the (block x num_perm) permutation matrix
_U32 = np.uint32


class IncompatibleFingerprint(ConfigurationError):
    """Fingerprints made with other parameters (scheme, seed, permutations, tokenizer) or unreadable bytes.

    Signatures of different schemes or seeds look alike but are unrelated numbers; comparing them
    would silently report nonsense, so the registry refuses instead.
    """

    code = "INCOMPATIBLE_FINGERPRINT"


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U32(16))
    h = h * _U32(0x85EBCA6B)
    h = h ^ (h >> _U32(13))
    h = h * _U32(0xC2B2AE35)
    return h ^ (h >> _U32(16))


@dataclass(frozen=True, eq=False)
class Fingerprint:
    num_perm: int
    seed: int
    scheme: str
    mode: Mode
    k: int
    hashvalues: np.ndarray  # (num_perm,) uint32: the whole-text MinHash
    sequence: np.ndarray  # (n,) uint64 shingle hashes in reading order
    token_starts: np.ndarray  # (t,) uint32 character offsets in the canonical text
    token_ends: np.ndarray  # (t,) uint32
    chunk_starts: np.ndarray  # (m,) uint32 index into ``sequence`` where each chunk begins
    chunk_hashvalues: np.ndarray  # (m, CHUNK_PERM) uint32: the first CHUNK_PERM permutations only
    tokenizer: str = field(default=TOKENIZER)

    # --- derived views ---------------------------------------------------------------------
    @cached_property
    def shingles(self) -> np.ndarray:
        """The shingle set: sorted unique uint64 hashes."""
        return np.unique(self.sequence)

    @property
    def shingle_starts(self) -> np.ndarray:
        return self.token_starts[: len(self.sequence)]

    @property
    def shingle_ends(self) -> np.ndarray:
        """End offset of each shingle: the end of its last token."""
        width = min(self.k, len(self.token_starts))
        return self.token_ends[width - 1 : width - 1 + len(self.sequence)]

    @property
    def is_empty(self) -> bool:
        """No word at all (e.g. a text of punctuation): nothing to compare, nothing to index."""
        return len(self.sequence) == 0

    @property
    def shingle_name(self) -> str:
        return f"{self.mode}-{self.k}"

    def minhash(self) -> LeanMinHash:
        return LeanMinHash(seed=self.seed, hashvalues=self.hashvalues, scheme=self.scheme)

    def chunk_minhashes(self) -> list[LeanMinHash]:
        return [
            LeanMinHash(seed=self.seed, hashvalues=hv, scheme=self.scheme) for hv in self.chunk_hashvalues
        ]

    # --- certificate -----------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """MinHash parameters for the certificate's ``content.minhash``."""
        return {
            "num_perm": self.num_perm, "seed": self.seed, "scheme": self.scheme,
            "shingle": self.shingle_name, "tokenizer": self.tokenizer, "unicode": UNICODE_VERSION,
        }

    def digest(self) -> str:
        """First 128 bits (hex) of SHA-256 over datasketch's little-endian LeanMinHash serialization.

        That byte format (seed, negated permutation count, scheme code, values) is datasketch's own,
        so anyone holding the signature can recompute the digest with datasketch alone.
        """
        lean = self.minhash()
        buf = bytearray(lean.bytesize(byteorder="<"))
        lean.serialize(buf, byteorder="<")
        return hashlib.sha256(bytes(buf)).hexdigest()[:32]

    def check_compatible(self, other: Fingerprint) -> None:
        mine = (self.num_perm, self.seed, self.scheme, self.tokenizer)
        theirs = (other.num_perm, other.seed, other.scheme, other.tokenizer)
        if mine != theirs:
            raise IncompatibleFingerprint(
                "These fingerprints were made with different MinHash parameters and cannot be compared.",
                details={"reason": "parameters", "this": list(mine), "other": list(theirs)},
            )

    # --- storage ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Version 1: a fixed little-endian header, then the arrays back to back (no padding)."""
        if self.scheme not in _SCHEMES or self.tokenizer != TOKENIZER:
            raise IncompatibleFingerprint("Only affine32 / legato-tokens-v1 fingerprints can be stored.",
                                          details={"reason": "parameters"})
        header = _HEADER.pack(
            _MAGIC, _FORMAT_VERSION, _SCHEMES[self.scheme], _MODES[self.mode], self.k, self.num_perm,
            self.chunk_hashvalues.shape[1], self.seed, len(self.token_starts), len(self.sequence),
            len(self.chunk_starts),
        )
        return b"".join((
            header, self.hashvalues.astype("<u4").tobytes(), self.token_starts.astype("<u4").tobytes(),
            self.token_ends.astype("<u4").tobytes(), self.sequence.astype("<u8").tobytes(),
            self.chunk_starts.astype("<u4").tobytes(), self.chunk_hashvalues.astype("<u4").tobytes(),
        ))

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        def bad(reason: str, **extra: Any) -> IncompatibleFingerprint:
            return IncompatibleFingerprint(
                f"Unreadable fingerprint ({reason}).", details={"reason": reason, **extra}
            )

        if len(data) < _HEADER.size:
            raise bad("truncated", length=len(data))
        (magic, version, scheme, mode, k, num_perm, chunk_perm, seed,
         n_tok, n_seq, n_chunk) = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise bad("magic")
        if version != _FORMAT_VERSION:
            raise bad("version", version=version)
        schemes = {v: s for s, v in _SCHEMES.items()}
        modes = {v: m for m, v in _MODES.items()}
        if scheme not in schemes or mode not in modes or k < 1 or not 0 < chunk_perm <= num_perm:
            raise bad("header")
        sizes = (num_perm * 4, n_tok * 4, n_tok * 4, n_seq * 8, n_chunk * 4, n_chunk * chunk_perm * 4)
        if len(data) != _HEADER.size + sum(sizes):
            raise bad("length", length=len(data), expected=_HEADER.size + sum(sizes))
        arrays, offset = [], _HEADER.size
        for size, dtype in zip(sizes, ("<u4", "<u4", "<u4", "<u8", "<u4", "<u4"), strict=True):
            arrays.append(np.frombuffer(data, dtype=dtype, count=size // np.dtype(dtype).itemsize,
                                        offset=offset).astype(dtype[1:]))
            offset += size
        hv, t_starts, t_ends, seq, c_starts, c_hv = arrays
        if n_seq != (max(n_tok - k + 1, 1) if n_tok else 0) or (n_seq and (n_chunk == 0 or c_starts[0] != 0)):
            raise bad("counts")
        if n_chunk and (np.any(np.diff(c_starts.astype(np.int64)) <= 0) or int(c_starts[-1]) >= n_seq):
            raise bad("chunks")
        return cls(
            num_perm=num_perm, seed=seed, scheme=schemes[scheme], mode=modes[mode], k=k, hashvalues=hv,
            sequence=seq, token_starts=t_starts, token_ends=t_ends, chunk_starts=c_starts,
            chunk_hashvalues=c_hv.reshape(n_chunk, chunk_perm),
        )


def content_defined_cuts(sequence: np.ndarray, *, minimum: int, spacing: int, maximum: int) -> np.ndarray:
    """Start index of every chunk of a shingle sequence (always begins with 0 for a non-empty one).

    A candidate cut follows each shingle whose high bits are 0 mod ``spacing`` (the low bits feed
    MinHash), so the same passage is cut the same way in any text that contains it.
    """
    n = len(sequence)
    if n == 0:
        return np.zeros(0, np.uint32)
    candidates = np.flatnonzero((sequence >> np.uint64(40)) % np.uint64(spacing) == 0) + 1
    cuts, last = [0], 0
    for c in candidates.tolist():
        while c - last > maximum:
            last += maximum
            cuts.append(last)
        if c - last >= minimum and c < n:
            cuts.append(c)
            last = c
    while n - last > maximum:
        last += maximum
        cuts.append(last)
    if len(cuts) > 1 and n - cuts[-1] < minimum:
        cuts.pop()  # a short tail joins the chunk before it
    return np.array(cuts, np.uint32)


class Fingerprinter:
    """Makes fingerprints with one fixed set of parameters (all registrations must share them)."""

    def __init__(
        self, *, num_perm: int = NUM_PERM, seed: int = SEED, word_k: int = WORD_K, char_k: int = CHAR_K,
        char_mode_share: float = CHAR_MODE_SHARE, chunk_min: int = CHUNK_MIN,
        chunk_spacing: int = CHUNK_SPACING, chunk_max: int = CHUNK_MAX,
    ) -> None:
        self.num_perm, self.seed = num_perm, seed
        self.word_k, self.char_k, self.char_mode_share = word_k, char_k, char_mode_share
        self.chunking = {"minimum": chunk_min, "spacing": chunk_spacing, "maximum": chunk_max}
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
        self._a, self._b = a.astype(_U32), b.astype(_U32)
        self.chunk_perm = min(CHUNK_PERM, num_perm)

    def shingle(self, canonical: str) -> tuple[Mode, int, np.ndarray, np.ndarray, np.ndarray]:
        """Mode, k, shingle hash sequence and token spans of a canonical text."""
        tokens = tokenize(canonical)
        t = len(tokens)
        char_mode = t > 0 and tokens.nospace / t >= self.char_mode_share
        mode: Mode = "char" if char_mode else "word"
        k = self.char_k if char_mode else self.word_k
        width = min(k, t)
        n = t - width + 1 if t else 0
        acc = tokens.hashes[:n].copy()
        for j in range(1, width):
            acc = acc * P + tokens.hashes[j : j + n]
        return mode, k, fmix64(acc), tokens.starts, tokens.ends

    def signatures(self, sequence: np.ndarray, chunk_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whole-text and per-chunk MinHash values of a shingle sequence, block by block."""
        m = len(chunk_starts)
        chunk_hv = np.full((m, self.num_perm), np.iinfo(np.uint32).max, _U32)
        hv = _fmix32((sequence & np.uint64(0xFFFFFFFF)).astype(_U32))
        starts = chunk_starts.astype(np.int64)
        for lo in range(0, len(hv), _BLOCK):
            rows = hv[lo : lo + _BLOCK]
            phv = np.multiply.outer(self._a, rows)  # (num_perm, block): min-reducing along rows is fastest
            phv += self._b[:, None]
            first = int(np.searchsorted(starts, lo, side="right")) - 1
            inner = starts[(starts > lo) & (starts < lo + len(rows))]
            seg = np.concatenate(([0], inner - lo))
            ids = np.arange(first, first + len(seg))
            chunk_hv[ids] = np.minimum(chunk_hv[ids], np.minimum.reduceat(phv, seg, axis=1).T)
        whole = chunk_hv.min(axis=0) if m else np.full(self.num_perm, np.iinfo(np.uint32).max, _U32)
        return whole, chunk_hv

    def __call__(self, canonical: str) -> Fingerprint:
        mode, k, sequence, starts, ends = self.shingle(canonical)
        chunk_starts = content_defined_cuts(sequence, **self.chunking)
        whole, chunk_hv = self.signatures(sequence, chunk_starts)
        return Fingerprint(
            num_perm=self.num_perm, seed=self.seed, scheme=SCHEME, mode=mode, k=k, hashvalues=whole,
            sequence=sequence, token_starts=starts, token_ends=ends, chunk_starts=chunk_starts,
            chunk_hashvalues=np.ascontiguousarray(chunk_hv[:, : self.chunk_perm]),
        )


@cache
def _default() -> Fingerprinter:
    return Fingerprinter()  # immutable once built; caching only saves rebuilding the permutations


def fingerprint(canonical: str) -> Fingerprint:
    """Fingerprint a canonical text (the output of :func:`registry.canonical.canonicalize`)."""
    return _default()(canonical)
