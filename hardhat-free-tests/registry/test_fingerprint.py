"""Tokens, shingles and MinHash fingerprints: rules, byte-exact vectors, and equality with plain loops.

The vectorized code is checked against straightforward Python written here (a per-character
tokenizer, Horner's rule on Python ints, datasketch's own ``MinHash.update`` loop), so a fast path that
drifts from the documented definition fails even where the hard-coded vectors would not notice.
"""

from __future__ import annotations

import hashlib
import random
import struct
import unicodedata

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

from registry.errors import ConfigurationError
from registry.fingerprint import (
    CHUNK_PERM,
    Fingerprint,
    Fingerprinter,
    IncompatibleFingerprint,
    content_defined_cuts,
    fingerprint,
)
from registry.tokenizer import APOS, MARK, NOSPACE, OTHER, WORD, char_class, normalize_token, tokenize

M64 = (1 << 64) - 1
P = 0x9E3779B97F4A7C15


# --- an independent, plain implementation of the documented rules --------------------------------
def fmix64_py(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    return h ^ (h >> 33)


def horner(values: list[int]) -> int:
    h = 0
    for v in values:
        h = (h * P + v) & M64
    return h


def token_hash_py(token: str) -> int:
    return fmix64_py(horner([ord(c) for c in normalize_token(token)]))


def reference_tokens(text: str) -> list[tuple[int, int, int]]:
    """(hash, start, end) per token, one character at a time."""
    spans: list[list[int]] = []
    current, base = None, OTHER
    for i, ch in enumerate(text):
        c = char_class(ch)
        if c == APOS:
            prev = char_class(text[i - 1]) if i else OTHER
            nxt = char_class(text[i + 1]) if i + 1 < len(text) else OTHER
            if current is not None and prev in (WORD, MARK) and base == WORD and nxt == WORD:
                continue
            current, base = None, OTHER
        elif c == OTHER:
            current, base = None, OTHER
        elif c == MARK:
            if current is None:
                spans.append([i, i + 1])
                current, base = spans[-1], MARK
            current[1] = i + 1
        elif c == NOSPACE or current is None or base == NOSPACE:
            spans.append([i, i + 1])
            current, base = spans[-1], c
        else:
            current[1], base = i + 1, c
    return [(token_hash_py(text[s:e]), s, e) for s, e in spans if normalize_token(text[s:e])]


def words_of(text: str) -> list[str]:
    t = tokenize(text)
    return [text[s:e] for s, e in zip(t.starts.tolist(), t.ends.tolist(), strict=True)]


# --- tokens ------------------------------------------------------------------------------------------
def test_token_hash_vector() -> None:
    assert int(tokenize("Dragon").hashes[0]) == 0xBEA5350BD65CC041
    assert token_hash_py("dragon") == 0xBEA5350BD65CC041


def test_tokens_split_on_punctuation_and_keep_spans() -> None:
    text = "Well—the dragon's hoard, “gone”; 12 coins."
    assert words_of(text) == ["Well", "the", "dragon's", "hoard", "gone", "12", "coins"]
    t = tokenize(text)
    assert t.starts.tolist()[:3] == [0, 5, 9] and t.ends.tolist()[:3] == [4, 8, 17]


@pytest.mark.parametrize(("a", "b"), [
    ("Don't", "dont"),  # apostrophe inside a word is dropped
    ("don’t", "dont"),  # typographic apostrophe
    ("donʼt", "dont"),  # modifier letter apostrophe
    ("DRAGON", "dragon"),  # case
    ("ﬁre", "fire"),  # ligature (NFKC)
    ("ＡＢＣ", "abc"),  # full width (NFKC)
    ("Straße", "strasse"),  # full case folding
    ("ΣΟΦΙΑ", "σοφια"),
    ("ｶﾞ", "ガ"),  # half-width kana with voicing mark composes like the full-width form
])
def test_normalization_makes_cosmetic_variants_equal(a: str, b: str) -> None:
    assert tokenize(unicodedata.normalize("NFC", a)).hashes.tolist() == tokenize(b).hashes.tolist()


def test_different_words_hash_differently() -> None:
    assert tokenize("dragon").hashes[0] != tokenize("dragons").hashes[0]


def test_quotes_around_words_are_not_joined() -> None:
    assert words_of("'tis the 'end' rock'n'roll") == ["tis", "the", "end", "rock'n'roll"]


def test_no_space_scripts_give_one_token_per_character_with_marks() -> None:
    assert words_of("春眠，不觉晓") == ["春", "眠", "不", "觉", "晓"]
    assert words_of("ภาษาไทย") == ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"]
    assert words_of("น้ำ") == ["น้", "ำ"]  # the tone mark stays with its consonant
    assert words_of("Tokyo東京ok") == ["Tokyo", "東", "京", "ok"]


def test_text_without_words_has_no_tokens() -> None:
    assert len(tokenize("— … !!! ***")) == 0
    assert len(tokenize("")) == 0


def test_vectorized_tokenizer_equals_the_plain_reference() -> None:
    rng = random.Random(7)
    alphabet = [*"abcXYZ ’'-.\n\u0301\u0308ßﬁİΣς春眠ｶﾞアภา่ 1²①ＡÅ\u00a0𝐁\U000E0100\U0002a700"]
    samples = [
        "Don't stop — it's Ünïcödé ﬁne, STRASSE Straße İstanbul ＡＢＣ ① x²",
        "e\u0323\u0301 Q\u0307 ﬀoo's 'quoted' rock'n'roll ʼtwas a'b'c '' a' 'b ١٢٣",
        "𝐁𝐨𝐥𝐝 text 𠀀𠀁 \U000E0100x ｶﾞｷﾞ ガギ",
    ]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(1500)]
    for raw in samples:
        text = unicodedata.normalize("NFC", raw)
        t = tokenize(text)
        got = list(zip(t.hashes.tolist(), t.starts.tolist(), t.ends.tolist(), strict=True))
        assert got == reference_tokens(text), text


# --- shingles and signatures -------------------------------------------------------------------------
def test_shingle_vector_and_definition() -> None:
    text = "One two three four five six."
    fp = fingerprint(text)
    assert fp.mode == "word" and fp.k == 5
    assert fp.sequence.tolist() == [0x1D1D8EF8C23A3192, 0x3F7F050EC5BE37CB]
    tokens = [token_hash_py(w) for w in ["one", "two", "three", "four", "five", "six"]]
    assert fp.sequence.tolist() == [fmix64_py(horner(tokens[i : i + 5])) for i in range(2)]
    assert [text[s:e] for s, e in zip(fp.shingle_starts.tolist(), fp.shingle_ends.tolist(), strict=True)] == [
        "One two three four five", "two three four five six",
    ]


def test_short_text_is_one_shingle_of_all_its_tokens() -> None:
    fp = fingerprint("Hello there, world")
    assert len(fp.sequence) == 1
    assert int(fp.sequence[0]) == fmix64_py(horner([token_hash_py(w) for w in ("hello", "there", "world")]))
    assert (fp.shingle_starts.tolist(), fp.shingle_ends.tolist()) == ([0], [18])


def test_cjk_text_uses_character_shingles() -> None:
    fp = fingerprint("春眠不觉晓，处处闻啼鸟。")
    assert (fp.mode, fp.k, len(fp.sequence)) == ("char", 8, 3)
    assert fp.params()["shingle"] == "char-8"
    japanese = fingerprint("山あいの村に、誰も住んでいない古い宿屋がある。夜になると明かりがともる。")
    assert japanese.mode == "char"


def test_mostly_latin_text_with_some_cjk_stays_in_word_mode() -> None:
    fp = fingerprint("The sign over the inn read 龍 in old paint, and the travellers stopped to stare at it.")
    assert fp.mode == "word"


def _plain_minhash(values: list[int], num_perm: int = 128) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=1, scheme="affine32", hashfunc=lambda x: x)
    for v in values:
        m.update(v)
    return m.hashvalues


def _chapter(seed: int, words: int = 1800) -> str:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)]
    return " ".join(rng.choice(vocab) + ("." if rng.random() < 0.08 else "") for _ in range(words))


def test_signature_equals_datasketch_plain_update_loop() -> None:
    fp = fingerprint(_chapter(1))
    low32 = [h & 0xFFFFFFFF for h in fp.sequence.tolist()]
    assert fp.hashvalues.dtype == np.uint32
    assert np.array_equal(fp.hashvalues, _plain_minhash(low32))
    batch = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=lambda x: x)
    batch.update_batch(low32)
    assert np.array_equal(fp.hashvalues, batch.hashvalues)


def test_chunk_signatures_equal_plain_loops_over_each_chunk() -> None:
    fp = fingerprint(_chapter(2, words=5000))  # > one 2048-shingle block, so block seams are covered
    bounds = [*fp.chunk_starts.tolist(), len(fp.sequence)]
    assert len(bounds) > 20
    for i in range(len(bounds) - 1):
        low32 = [h & 0xFFFFFFFF for h in fp.sequence[bounds[i] : bounds[i + 1]].tolist()]
        assert np.array_equal(fp.chunk_hashvalues[i], _plain_minhash(low32)[:CHUNK_PERM])


def test_chunks_of_a_copied_passage_are_cut_identically() -> None:
    passage = _chapter(3, words=1200)
    alone = fingerprint(passage)
    inside = fingerprint(_chapter(4, 700) + " " + passage + " " + _chapter(5, 500))
    alone_chunks = {bytes(hv) for hv in alone.chunk_hashvalues[1:-1]}  # the edges border other text
    inside_chunks = {bytes(hv) for hv in inside.chunk_hashvalues}
    assert len(alone_chunks) >= 5
    assert alone_chunks <= inside_chunks


def test_content_defined_cuts_respect_minimum_and_maximum() -> None:
    seq = np.random.default_rng(0).integers(0, 2**63, 20_000, dtype=np.uint64)
    cuts = content_defined_cuts(seq, minimum=32, spacing=64, maximum=200)
    sizes = np.diff(np.append(cuts, len(seq)))
    assert cuts[0] == 0 and sizes.min() >= 32 and sizes.max() <= 200 + 32
    assert content_defined_cuts(np.zeros(0, np.uint64), minimum=32, spacing=64, maximum=200).size == 0


def test_empty_fingerprint_for_text_without_words() -> None:
    fp = fingerprint("— … !!!")
    assert fp.is_empty and len(fp.chunk_starts) == 0
    assert fp.hashvalues.tolist() == [0xFFFFFFFF] * 128
    assert Fingerprint.from_bytes(fp.to_bytes()).is_empty


# --- certificate fields and storage ------------------------------------------------------------------
def test_params_for_the_certificate() -> None:
    assert fingerprint("One two three four five six.").params() == {
        "num_perm": 128, "seed": 1, "scheme": "affine32", "shingle": "word-5",
        "tokenizer": "legato-tokens-v1", "unicode": unicodedata.unidata_version,
    }


def test_digest_vector_is_sha256_of_datasketch_lean_serialization() -> None:
    fp = fingerprint("One two three four five six.")
    assert fp.digest() == "5297712ce83c992d92afddb647f83644"
    lean = LeanMinHash(seed=1, hashvalues=fp.hashvalues, scheme="affine32")
    buf = bytearray(lean.bytesize(byteorder="<"))
    lean.serialize(buf, byteorder="<")
    assert bytes(buf[:13]) == struct.pack("<qiB", 1, -128, 1)
    assert fp.digest() == hashlib.sha256(bytes(buf)).hexdigest()[:32]


def test_to_bytes_vector() -> None:
    """Format 1, what the registry stored before sealing (the migration reads it; vector unchanged)."""
    fp = fingerprint("One two three four five six.")
    data = fp.to_bytes(version=1)
    # header: magic, version 1, scheme 1 (affine32), mode 0 (word), k 5, 128 perms, 32 chunk perms,
    # seed 1, 6 tokens, 2 shingles, 1 chunk; then the arrays.
    assert len(data) == 28 + 128 * 4 + 6 * 4 * 2 + 2 * 8 + 1 * 4 + 1 * 32 * 4 == 736
    assert data[:28].hex() == "4c47465001010005" "80002000" "01000000" "06000000" "02000000" "01000000"
    assert data[28:32] == struct.pack("<I", int(fp.hashvalues[0]))
    sha = hashlib.sha256(data).hexdigest()
    assert sha == "196ed558800b38196f0f81994bf2821db84697fb23aaf549d35cc72dabeca2b2"
    # Format 2: version 2 and the 8-byte key id (zero: no key) after the same header fields.
    v2 = fp.to_bytes()
    assert v2[:4] + b"\x01" + v2[5:28] == data[:28] and v2[4] == 2 and v2[28:36] == bytes(8)
    assert v2[36:] == data[28:]


def test_bytes_round_trip_keeps_every_field() -> None:
    fp = fingerprint(_chapter(6))
    back = Fingerprint.from_bytes(fp.to_bytes())
    for name in ("num_perm", "seed", "scheme", "mode", "k", "tokenizer"):
        assert getattr(back, name) == getattr(fp, name)
    for name in ("hashvalues", "sequence", "token_starts", "token_ends", "chunk_starts", "chunk_hashvalues"):
        assert np.array_equal(getattr(back, name), getattr(fp, name)), name
    assert back.to_bytes() == fp.to_bytes()
    assert back.digest() == fp.digest()


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda d: d[:20], "truncated"),
    (lambda d: b"XXXX" + d[4:], "magic"),
    (lambda d: d[:4] + b"\x03" + d[5:], "version"),
    (lambda d: d[:-1], "length"),
    (lambda d: d[:5] + b"\x09" + d[6:], "header"),
])
def test_unreadable_bytes_are_refused_with_a_reason(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    data = fingerprint("One two three four five six.").to_bytes()
    with pytest.raises(IncompatibleFingerprint) as info:
        Fingerprint.from_bytes(mutate(data))
    assert info.value.details["reason"] == reason
    assert isinstance(info.value, ConfigurationError)


def test_fingerprints_of_other_seeds_are_not_comparable() -> None:
    text = "One two three four five six."
    ours, theirs = fingerprint(text), Fingerprinter(seed=2)(text)
    assert ours.sequence.tolist() == theirs.sequence.tolist()
    assert not np.array_equal(ours.hashvalues, theirs.hashvalues)
    with pytest.raises(IncompatibleFingerprint):
        ours.check_compatible(theirs)


def test_shingle_set_is_sorted_unique() -> None:
    fp = fingerprint("a b c d e a b c d e a b c d e")
    assert len(fp.sequence) == 11
    assert fp.shingles.tolist() == sorted(set(fp.sequence.tolist()))
    assert len(fp.shingles) == 5
