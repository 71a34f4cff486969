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

The sequence and spans are the text in all but name (a dictionary walks the chain of shingles word
by word), so they are stored only sealed (:mod:`registry.fingerprint_key`). The signatures stay
readable for the index, and are therefore computed over *keyed* shingle hashes: a fingerprinter
given a key feeds MinHash and the chunk cuts with ``PRF(key, shingle hash)``, and without the key a
signature tests no guess of the text. ``key_id`` says which key; fingerprints of different keys are
never compared. A fingerprinter without a key makes the public (legacy) signatures of format 1.

Shingles are ``k`` consecutive tokens of :mod:`registry.tokenizer`: words (``k = 5``) for spaced
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
from typing import Any, Literal, Protocol

import numpy as np
from datasketch import LeanMinHash, MinHash

from registry.errors import ConfigurationError
from registry.tokenizer import TOKENIZER, UNICODE_VERSION, P, fmix64, tokenize

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

_FORMAT_VERSION = 2  # 1: public signatures, no key id (read for the migration); 2: adds the key id
_MAGIC = b"LGFP"
# magic, version, scheme, mode, k, num_perm, chunk_perm, seed, tokens, shingles, chunks (+ key id in v2)
_HEADER_V1 = struct.Struct("<4sBBBBHHIIII")
_HEADER = struct.Struct("<4sBBBBHHIIII8s")
_SIG_MAGIC = b"LGSG"
# magic, version, scheme, mode, k, num_perm, chunk_perm, seed, key id, empty, chunks
_SIG_HEADER = struct.Struct("<4sBBBBHHI8sBI")
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


class ShingleKey(Protocol):
    """A secret pseudo-random function over shingle hashes (``registry.fingerprint_key.FingerprintKey``)."""

    key_id: str  # 16 hex digits; "" is reserved for "no key"

    def prf(self, sequence: np.ndarray) -> np.ndarray:
        """uint64 -> uint64, equal inputs to equal outputs, unpredictable without the key."""


def _key_tag(key_id: str) -> bytes:
    return bytes.fromhex(key_id) if key_id else bytes(8)


def _key_id(tag: bytes) -> str:
    return "" if tag == bytes(8) else tag.hex()


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
    key_id: str = ""  # the key the signatures were made with; "" = unkeyed (public, format 1)

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

    @property
    def signatures(self) -> Signatures:
        """The part stored readable: what the index needs, and nothing that locates a word."""
        return Signatures(
            num_perm=self.num_perm, seed=self.seed, scheme=self.scheme, mode=self.mode, k=self.k,
            hashvalues=self.hashvalues, chunk_hashvalues=self.chunk_hashvalues, is_empty=self.is_empty,
            tokenizer=self.tokenizer, key_id=self.key_id,
        )

    def check_compatible(self, other: Fingerprint) -> None:
        mine = (self.num_perm, self.seed, self.scheme, self.tokenizer, self.key_id)
        theirs = (other.num_perm, other.seed, other.scheme, other.tokenizer, other.key_id)
        if mine != theirs:
            raise IncompatibleFingerprint(
                "These fingerprints were made with different MinHash parameters and cannot be compared.",
                details={"reason": "parameters", "this": list(mine), "other": list(theirs)},
            )

    # --- storage ---------------------------------------------------------------------------
    def to_bytes(self, *, version: int = _FORMAT_VERSION) -> bytes:
        """A fixed little-endian header, then the arrays back to back (no padding).

        These bytes locate every word: the registry stores them only sealed. Version 1 (no key id) is
        what the registry stored before fingerprints were sealed; it is written only for unkeyed
        fingerprints (tests and the migration's downgrade).
        """
        if self.scheme not in _SCHEMES or self.tokenizer != TOKENIZER:
            raise IncompatibleFingerprint("Only affine32 / legato-tokens-v1 fingerprints can be stored.",
                                          details={"reason": "parameters"})
        fields = (
            _MAGIC, version, _SCHEMES[self.scheme], _MODES[self.mode], self.k, self.num_perm,
            self.chunk_hashvalues.shape[1], self.seed, len(self.token_starts), len(self.sequence),
            len(self.chunk_starts),
        )
        if version == 1 and not self.key_id:
            header = _HEADER_V1.pack(*fields)
        elif version == _FORMAT_VERSION:
            header = _HEADER.pack(*fields, _key_tag(self.key_id))
        else:
            raise IncompatibleFingerprint("Format 1 has no key id: only unkeyed fingerprints fit it.",
                                          details={"reason": "version", "version": version})
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

        if len(data) < _HEADER_V1.size:
            raise bad("truncated", length=len(data))
        if data[:4] != _MAGIC:
            raise bad("magic")
        version = data[4]
        if version not in (1, _FORMAT_VERSION):
            raise bad("version", version=version)
        header = _HEADER_V1 if version == 1 else _HEADER
        if len(data) < header.size:
            raise bad("truncated", length=len(data))
        (_, _, scheme, mode, k, num_perm, chunk_perm, seed, n_tok, n_seq, n_chunk,
         *tag) = header.unpack_from(data)
        schemes = {v: s for s, v in _SCHEMES.items()}
        modes = {v: m for m, v in _MODES.items()}
        if scheme not in schemes or mode not in modes or k < 1 or not 0 < chunk_perm <= num_perm:
            raise bad("header")
        sizes = (num_perm * 4, n_tok * 4, n_tok * 4, n_seq * 8, n_chunk * 4, n_chunk * chunk_perm * 4)
        if len(data) != header.size + sum(sizes):
            raise bad("length", length=len(data), expected=header.size + sum(sizes))
        arrays, offset = [], header.size
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
            chunk_hashvalues=c_hv.reshape(n_chunk, chunk_perm), key_id=_key_id(tag[0]) if tag else "",
        )


@dataclass(frozen=True, eq=False)
class Signatures:
    """Whole-text and chunk MinHash signatures alone: what the index is built from.

    Stored readable (``registrations.fingerprint_signatures``, ~2.4 KB for a 10 KB chapter instead of
    the 31 KB of the full fingerprint), so rebuilding the index opens no seal. Made with a key, they
    test no guess of the text without it.
    """

    num_perm: int
    seed: int
    scheme: str
    mode: Mode
    k: int
    hashvalues: np.ndarray
    chunk_hashvalues: np.ndarray
    is_empty: bool
    tokenizer: str = field(default=TOKENIZER)
    key_id: str = ""

    def to_bytes(self) -> bytes:
        header = _SIG_HEADER.pack(
            _SIG_MAGIC, 1, _SCHEMES[self.scheme], _MODES[self.mode], self.k, self.num_perm,
            self.chunk_hashvalues.shape[1], self.seed, _key_tag(self.key_id), int(self.is_empty),
            len(self.chunk_hashvalues),
        )
        values = (self.hashvalues.astype("<u4").tobytes(), self.chunk_hashvalues.astype("<u4").tobytes())
        return header + b"".join(values)

    @classmethod
    def from_bytes(cls, data: bytes) -> Signatures:
        def bad(reason: str) -> IncompatibleFingerprint:
            return IncompatibleFingerprint(f"Unreadable signatures ({reason}).", details={"reason": reason})

        if len(data) < _SIG_HEADER.size or data[:4] != _SIG_MAGIC or data[4] != 1:
            raise bad("header")
        (_, _, scheme, mode, k, num_perm, chunk_perm, seed, tag, empty,
         n_chunk) = _SIG_HEADER.unpack_from(data)
        schemes = {v: s for s, v in _SCHEMES.items()}
        modes = {v: m for m, v in _MODES.items()}
        if scheme not in schemes or mode not in modes or k < 1 or not 0 < chunk_perm <= num_perm:
            raise bad("header")
        if len(data) != _SIG_HEADER.size + 4 * (num_perm + n_chunk * chunk_perm) or empty > 1:
            raise bad("length")
        values = np.frombuffer(data, "<u4", offset=_SIG_HEADER.size).astype(_U32)
        return cls(
            num_perm=num_perm, seed=seed, scheme=schemes[scheme], mode=modes[mode], k=k,
            hashvalues=values[:num_perm], chunk_hashvalues=values[num_perm:].reshape(n_chunk, chunk_perm),
            is_empty=bool(empty), key_id=_key_id(tag),
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
    """Makes fingerprints with one fixed set of parameters (all registrations must share them).

    With ``key``, signatures and chunk cuts are computed over ``key.prf(shingle hashes)``; the
    fingerprint's ``sequence`` keeps the plain shingle hashes, which only ever leave memory sealed,
    so a new key can re-derive everything from them (:meth:`rekey`) without the text.
    """

    def __init__(
        self, *, num_perm: int = NUM_PERM, seed: int = SEED, word_k: int = WORD_K, char_k: int = CHAR_K,
        char_mode_share: float = CHAR_MODE_SHARE, chunk_min: int = CHUNK_MIN,
        chunk_spacing: int = CHUNK_SPACING, chunk_max: int = CHUNK_MAX, key: ShingleKey | None = None,
    ) -> None:
        self.key = key
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

    def keyed(self, sequence: np.ndarray) -> np.ndarray:
        """What signatures and chunk cuts are computed over: the keyed hashes, or the plain ones."""
        return self.key.prf(sequence) if self.key is not None else sequence

    def _build(
        self, mode: Mode, k: int, sequence: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> Fingerprint:
        keyed = self.keyed(sequence)
        chunk_starts = content_defined_cuts(keyed, **self.chunking)
        whole, chunk_hv = self.signatures(keyed, chunk_starts)
        return Fingerprint(
            num_perm=self.num_perm, seed=self.seed, scheme=SCHEME, mode=mode, k=k, hashvalues=whole,
            sequence=sequence, token_starts=starts, token_ends=ends, chunk_starts=chunk_starts,
            chunk_hashvalues=np.ascontiguousarray(chunk_hv[:, : self.chunk_perm]),
            key_id=self.key.key_id if self.key is not None else "",
        )

    def __call__(self, canonical: str) -> Fingerprint:
        return self._build(*self.shingle(canonical))

    def rekey(self, fp: Fingerprint) -> Fingerprint:
        """``fp`` with signatures and chunks made under this fingerprinter's key, from its plain
        shingle hashes and spans: how stored rows move to a key (the migration, a rotation)."""
        if (fp.num_perm, fp.seed, fp.scheme, fp.tokenizer) != (self.num_perm, self.seed, SCHEME, TOKENIZER):
            raise IncompatibleFingerprint("Only fingerprints of the same MinHash parameters can be re-keyed.",
                                          details={"reason": "parameters"})
        return self._build(fp.mode, fp.k, fp.sequence, fp.token_starts, fp.token_ends)


@cache
def _default() -> Fingerprinter:
    return Fingerprinter()  # immutable once built; caching only saves rebuilding the permutations


def fingerprint(canonical: str) -> Fingerprint:
    """Fingerprint a canonical text (the output of :func:`registry.canonical.canonicalize`)."""
    return _default()(canonical)
