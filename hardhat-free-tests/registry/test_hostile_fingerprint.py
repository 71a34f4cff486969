"""The reported attack on stored fingerprints, against the old format and the new one.

Report: with a copy of the database file and a public word list, the text of a paid chapter came back
from ``registrations.fingerprint``: unkeyed shingle hashes in reading order, with every word's offsets.
The attack here is that walk, with the chapter's own words as the word list (the most an attacker
could hope for): it recovers the text from a format-1 row and nothing from a row the registry writes
now. The signatures left readable are tested too: unkeyed, they confirm every shingle an attacker
guesses; keyed, not one.
"""

from __future__ import annotations

import itertools
import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from factories import chapter_text
from sqlalchemy import select

from registry.canonical import canonicalize
from registry.errors import ConfigurationError
from registry.fingerprint import NUM_PERM, SEED, Fingerprint, IncompatibleFingerprint, Signatures, fingerprint
from registry.fingerprint_key import KEY_FILE, FingerprintKey
from registry.models import Registration
from registry.service import Author
from registry.similarity.memory import MemoryLSHIndex
from registry.tokenizer import P, hash_normalized, normalize_token, tokenize

AMINA = Author(id="amina", display_name="Amina")
KOFI = Author(id="kofi", display_name="Kofi")
K = 5


# --- the attacker's tools: only public algorithms (docs/plagiarism.md) ------------------------------
M64 = (1 << 64) - 1
PI = int(P)


def unfmix64(h: int) -> int:
    """MurmurHash3's finalizer is a bijection; this is its inverse."""
    h ^= h >> 33
    h = (h * pow(0xC4CEB9FE1A85EC53, -1, 1 << 64)) & M64
    h ^= h >> 33
    h = (h * pow(0xFF51AFD7ED558CCD, -1, 1 << 64)) & M64
    return h ^ (h >> 33)


def dictionary_walk(blob: bytes, words: list[str]) -> list[str] | None:
    """The reported attack. Parse the stored fingerprint; undo the finalizer of the first shingle
    hash, leaving ``t0 P^4 + t1 P^3 + t2 P^2 + t3 P + t4``, and find its five words by meeting in the
    middle (the offsets give every word's length, which narrows the guesses); then walk the reading
    order: each next shingle determines its new word's hash exactly, one dictionary lookup per word.
    None when the bytes are no fingerprint the attacker can read."""
    try:
        fp = Fingerprint.from_bytes(blob)
    except IncompatibleFingerprint:
        return None
    vocab = {normalize_token(w): hash_normalized(normalize_token(w)) for w in words}
    word_of = {h: w for w, h in vocab.items()}
    lengths = (fp.token_ends - fp.token_starts).tolist()[:K]
    cands = [[w for w in vocab if len(w) == n] or list(vocab) for n in lengths]
    pre = [unfmix64(h) for h in fp.sequence.tolist()]
    tails = {(pre[0] - vocab[a] * PI - vocab[b]) & M64: [a, b] for a, b in itertools.product(*cands[3:])}
    text: list[str] = []
    for a, b, c in itertools.product(*cands[:3]):
        head = (vocab[a] * PI**4 + vocab[b] * PI**3 + vocab[c] * PI**2) & M64
        if head in tails:
            text = [a, b, c, *tails[head]]
            break
    if not text:
        return []
    for i in range(1, len(pre)):
        new = (pre[i] - (pre[i - 1] - vocab[text[i - 1]] * PI**4) * PI) & M64
        if new not in word_of:
            break
        text.append(word_of[new])
    return text


def membership_hits(signature: np.ndarray, guessed_shingles: list[int]) -> int:
    """How many of the stored whole-text MinHash values the guessed shingles reproduce, computed with
    the public permutations (datasketch, seed 1). Unkeyed, every value is the minimum over a true
    shingle, so a right guess reproduces it exactly."""
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32", hashfunc=lambda x: x)
    for h in guessed_shingles:
        m.update(h & 0xFFFFFFFF)
    return int(np.sum(m.hashvalues == signature))


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture
def chapter() -> str:
    return canonicalize(chapter_text(401))


def _words(text: str) -> list[str]:
    t = tokenize(text)
    return [text[s:e] for s, e in zip(t.starts.tolist(), t.ends.tolist(), strict=True)]


def _row(session, reg_id: str) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    """What a copy of the database file holds for a registration."""
    row = session.execute(
        select(Registration.fingerprint, Registration.fingerprint_signatures).where(Registration.id == reg_id)
    ).one()
    return bytes(row[0]), bytes(row[1])


# --- the attack -----------------------------------------------------------------------------------
def test_dictionary_walk_recovers_the_text_from_a_legacy_row(chapter: str) -> None:
    words = _words(chapter)
    legacy = fingerprint(chapter).to_bytes(version=1)  # what the registry stored before this change
    recovered = dictionary_walk(legacy, sorted(set(words)))
    assert recovered == [normalize_token(w) for w in words]
    assert len(recovered) > 100
    truth = fingerprint(chapter)
    assert truth.token_starts[:16].astype("<u4").tobytes() in legacy  # the offsets, readable


def test_dictionary_walk_recovers_nothing_from_a_row_the_registry_writes(
    container, session, chapter: str
) -> None:
    reg = container.registry.register(session, text=chapter, title="Paid", author=AMINA).registration
    session.flush()
    sealed, signatures = _row(session, reg.id)
    words = sorted(set(_words(chapter)))
    assert dictionary_walk(sealed, words) is None
    assert dictionary_walk(signatures, words) is None
    # Not one plain shingle hash appears anywhere in the row, though the attacker knows them all.
    truth = fingerprint(chapter)
    for h in truth.sequence.tolist():
        needle = int(h).to_bytes(8, "little")
        assert needle not in sealed and needle not in signatures
    # No word offsets either: the spans of the first words, as stored before, are nowhere in the row.
    spans = np.stack([truth.token_starts[:8], truth.token_ends[:8]], axis=1).astype("<u4").tobytes()
    assert spans not in sealed and truth.token_starts[:16].astype("<u4").tobytes() not in sealed


def test_unkeyed_signatures_confirm_guessed_shingles_keyed_ones_do_not(
    container, session, chapter: str
) -> None:
    """MinHash is a minimum over shingle hashes: with public permutations over unkeyed hashes, every
    stored value names one shingle of the text, and a dictionary of shingles is tested against all
    128 values at once. Keying the hashes (as the registry now does) closes that oracle."""
    truth = fingerprint(chapter)
    guesses = truth.sequence.tolist()  # the best dictionary possible: every true shingle
    assert membership_hits(truth.hashvalues, guesses) == NUM_PERM  # legacy signatures
    reg = container.registry.register(session, text=chapter, title="Paid", author=AMINA).registration
    session.flush()
    stored = Signatures.from_bytes(_row(session, reg.id)[1])
    assert stored.key_id == container.fingerprint_key.key_id
    assert membership_hits(stored.hashvalues, guesses) <= 2  # chance agreement of 32-bit values


def test_the_registry_still_refuses_a_copy_with_passages(container, session, chapter: str) -> None:
    container.registry.register(session, text=chapter, title="Original", author=AMINA)
    paragraphs = chapter.split("\n\n")
    copy = "\n\n".join([chapter_text(402).split("\n\n")[0], *paragraphs[1:]])
    report = container.registry.check(session, text=copy, author_id=KOFI.id)
    assert report.refused
    evidence = report.matches[0]
    start = canonicalize(copy).index(paragraphs[1])
    assert evidence["passages"][0]["new"][0] == start
    assert evidence["passages"][0]["old"][0] == chapter.index(paragraphs[1])


# --- the seal -------------------------------------------------------------------------------------
def test_a_sealed_fingerprint_opens_only_for_its_row_and_key(chapter: str) -> None:
    key = FingerprintKey.generate()
    fp = key.fingerprinter(chapter)
    blob = key.seal(fp, "reg-1")
    back = key.open(blob, "reg-1")
    assert np.array_equal(back.sequence, fp.sequence) and np.array_equal(back.hashvalues, fp.hashvalues)
    for wrong, reason in (
        (lambda: key.open(blob, "reg-2"), "authentication"),  # copied into another row
        (lambda: key.open(blob[:-1] + bytes([blob[-1] ^ 1]), "reg-1"), "authentication"),
        (lambda: FingerprintKey.generate().open(blob, "reg-1"), "key"),
        (lambda: key.open(fingerprint(chapter).to_bytes(version=1), "reg-1"), "sealed"),
        (lambda: key.open(b"", "reg-1"), "sealed"),
        (lambda: key.open(None, "reg-1"), "sealed"),  # type: ignore[arg-type]
    ):
        with pytest.raises(IncompatibleFingerprint) as info:
            wrong()
        assert info.value.details["reason"] == reason


def test_fingerprints_of_two_keys_are_never_compared(chapter: str) -> None:
    a, b = FingerprintKey.generate(), FingerprintKey.generate()
    fa, fb = a.fingerprinter(chapter), b.fingerprinter(chapter)
    assert np.array_equal(fa.sequence, fb.sequence) and not np.array_equal(fa.hashvalues, fb.hashvalues)
    with pytest.raises(IncompatibleFingerprint):
        fa.check_compatible(fb)
    index = MemoryLSHIndex(key_id=a.key_id)
    index.add("x", fa.signatures)
    with pytest.raises(IncompatibleFingerprint):
        index.query(fb)
    with pytest.raises(IncompatibleFingerprint):
        a.seal(fb, "reg-1")


def test_rekeying_keeps_the_plain_hashes_and_spans(chapter: str) -> None:
    old, new = FingerprintKey.generate(), FingerprintKey.generate()
    fp = old.fingerprinter(chapter)
    moved = new.fingerprinter.rekey(old.open(old.seal(fp, "r"), "r"))
    direct = new.fingerprinter(chapter)
    assert moved.to_bytes() == direct.to_bytes()


# --- the key file -----------------------------------------------------------------------------------
def test_the_key_is_created_once_at_0600(tmp_path: Path) -> None:
    first = FingerprintKey.load_or_create(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_bytes()) == 32
    assert FingerprintKey.load_or_create(tmp_path).key_id == first.key_id
    path.chmod(0o644)
    assert FingerprintKey.load_or_create(tmp_path).key_id == first.key_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.key_id not in repr(path.read_bytes()) and "FingerprintKey(" in repr(first)


def test_a_damaged_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"short")
    with pytest.raises(ConfigurationError):
        FingerprintKey.load_or_create(tmp_path)


def test_processes_starting_together_share_one_complete_key(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The first creator stalls between creating its file and writing the key; the others must still
    read the full key, never an empty file (the old O_EXCL-then-write order handed them one)."""
    import registry.keystore as keystore

    real_fdopen = os.fdopen
    stalled = threading.Event()

    def slow_fdopen(fd, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not stalled.is_set():
            stalled.set()
            threading.Event().wait(0.3)
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(keystore.os, "fdopen", slow_fdopen)
    results: list[object] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            results.append(FingerprintKey.load_or_create(tmp_path).key_id)
        except Exception as e:  # the failure is the finding
            results.append(e)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and isinstance(results[0], str), results
    assert len((tmp_path / KEY_FILE).read_bytes()) == 32


# --- rotation -------------------------------------------------------------------------------------
def test_rotation_rekeys_every_row_without_the_text(container_factory, session, tmp_path: Path) -> None:
    from conftest import make_settings

    from registry.fingerprint_key import rekey_registrations, sealed_key_id

    before = container_factory(make_settings(tmp_path / "a"))
    old = before.fingerprint_key
    texts = [canonicalize(chapter_text(n)) for n in (411, 412)]
    ids = [before.registry.register(session, text=t, title="T", author=AMINA).registration.id for t in texts]
    session.flush()

    new = FingerprintKey.generate()
    assert rekey_registrations(session, old=old, new=new) == 2
    assert rekey_registrations(session, old=old, new=new) == 0  # a second run finds nothing to do
    for reg_id, t in zip(ids, texts, strict=True):
        sealed, signatures = _row(session, reg_id)
        assert sealed_key_id(sealed) == new.key_id
        assert np.array_equal(new.open(sealed, reg_id).sequence, fingerprint(t).sequence)
        stored = Signatures.from_bytes(signatures).hashvalues
        assert stored.tolist() == new.fingerprinter(t).hashvalues.tolist()
        with pytest.raises(IncompatibleFingerprint):
            old.open(sealed, reg_id)

    new.install(tmp_path / "b")
    after = container_factory(make_settings(tmp_path / "b"))
    assert after.fingerprint_key.key_id == new.key_id
    assert stat.S_IMODE((tmp_path / "b" / KEY_FILE).stat().st_mode) == 0o600
    report = after.registry.check(session, text=texts[1], author_id=KOFI.id)  # index rebuilt from the rows
    assert report.refused and report.matches[0]["registration_id"] == ids[1]


@pytest.mark.skipif(not os.environ.get("LEGATO_TEST_REDIS_URL"), reason="LEGATO_TEST_REDIS_URL is not set")
def test_a_shared_redis_index_of_another_key_is_refused(chapter: str) -> None:
    """Two servers with different keys on one Redis index would silently never find each other's
    registrations; the index layout names the key, so the second one is refused instead."""
    import uuid

    from registry.similarity.redis import RedisLSHIndex

    url, prefix = os.environ["LEGATO_TEST_REDIS_URL"], f"legato-test-{uuid.uuid4().hex}"
    a, b = FingerprintKey.generate(), FingerprintKey.generate()
    first = RedisLSHIndex(url=url, prefix=prefix, key_id=a.key_id)
    try:
        first.add("x", a.fingerprinter(chapter).signatures)
        assert first.query(a.fingerprinter(chapter)) == ["x"]
        with pytest.raises(ConfigurationError):
            RedisLSHIndex(url=url, prefix=prefix, key_id=b.key_id).query(b.fingerprinter(chapter))
    finally:
        first.clear()


@pytest.mark.parametrize("mutate", [
    lambda d: d[:10],  # truncated header
    lambda d: b"LGFP" + d[4:],  # a fingerprint's magic on signatures
    lambda d: d[:4] + b"\x02" + d[5:],  # unknown version
    lambda d: d[:-1],  # one value short
    lambda d: d + b"\x00" * 4,  # one value too many
    lambda d: d[:24] + b"\x02" + d[25:],  # empty flag neither 0 nor 1
    lambda d: d[:25] + (10**6).to_bytes(4, "little") + d[29:],  # a chunk count the bytes do not hold
])
def test_damaged_signature_bytes_are_refused_not_crashed_on(mutate, chapter: str) -> None:  # type: ignore[no-untyped-def]
    data = FingerprintKey.generate().fingerprinter(chapter).signatures.to_bytes()
    assert Signatures.from_bytes(data).to_bytes() == data
    with pytest.raises(IncompatibleFingerprint):
        Signatures.from_bytes(mutate(data))


def test_a_format_2_header_cut_short_is_refused(chapter: str) -> None:
    data = FingerprintKey.generate().fingerprinter(chapter).to_bytes()
    with pytest.raises(IncompatibleFingerprint) as info:
        Fingerprint.from_bytes(data[:32])
    assert info.value.details["reason"] == "truncated"
