"""Exact comparison and evidence, the LSH index adapters (memory and Redis), and find_matches.

Redis tests run against ``LEGATO_TEST_REDIS_URL`` (CI: redis://127.0.0.1:6379/15) with a unique key
prefix per test, deleted afterwards; they are skipped only when that variable is unset.
"""

from __future__ import annotations

import json
import os
import random
import sys
import uuid
from collections.abc import Iterator

import numpy as np
import pytest
from datasketch import MinHashLSH

from registry.errors import ConfigurationError, Unavailable
from registry.evidence import compare
from registry.fingerprint import Fingerprint, Fingerprinter, IncompatibleFingerprint, fingerprint
from registry.similarity.compact_storage import CompactBuckets
from registry.similarity.matching import find_matches
from registry.similarity.memory import MemoryLSHIndex
from registry.similarity.redis import RedisLSHIndex

REDIS_URL = os.environ.get("LEGATO_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="LEGATO_TEST_REDIS_URL is not set")

_VOCAB = [f"{a}{b}" for a in ("br", "cal", "dor", "fen", "gil", "hal", "mor", "tal") for b in
          ("an", "ek", "is", "on", "ur", "yth", "wen", "ard", "ith", "os", "ald", "ane")]


def text_of(seed: int, words: int = 400) -> str:
    """Deterministic prose-like text: sentences of vocabulary words, paragraphs every ~60 words."""
    rng = random.Random(seed)
    out, sentence = [], []
    for i in range(words):
        sentence.append(rng.choice(_VOCAB))
        if len(sentence) > rng.randint(6, 14):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
        if i % 60 == 59:
            out.append("\n\n")
    out.append(" ".join(sentence) + ".")
    return " ".join(out).replace(" \n\n ", "\n\n").strip()


def shingle_sets(new: Fingerprint, old: Fingerprint) -> tuple[set[int], set[int]]:
    return set(new.sequence.tolist()), set(old.sequence.tolist())


# --- compare -----------------------------------------------------------------------------------------
def test_identical_texts_match_fully_with_one_passage() -> None:
    text = text_of(1)
    fp = fingerprint(text)
    m = compare(fp, fp, key="r1")
    assert (m.jaccard, m.containment, m.coverage, m.score) == (1.0, 1.0, 1.0, 1.0)
    assert m.shared == len(fp.shingles)
    assert len(m.passages) == 1
    assert m.passages[0].new == m.passages[0].old == (0, len(text) - 1)  # up to the final "."


def test_embedded_excerpt_scores_and_passage_offsets() -> None:
    old_text = text_of(2, 600)
    excerpt = old_text[old_text.index(" ", 1200) + 1 : old_text.index(" ", 2600)]
    new_text = text_of(3, 300) + " " + excerpt + " " + text_of(4, 300)
    new, old = fingerprint(new_text), fingerprint(old_text)
    m = compare(new, old)
    a, b = shingle_sets(new, old)
    assert m.shared == len(a & b)
    assert m.jaccard == len(a & b) / len(a | b)
    assert m.containment == len(a & b) / len(a)
    assert m.coverage == len(a & b) / len(b)
    assert m.coverage > m.containment  # a part of the old text inside more new material
    top = m.passages[0]
    assert new_text[top.new[0] : top.new[1]] == old_text[top.old[0] : top.old[1]]
    assert new_text[top.new[0] : top.new[1]] in excerpt
    assert top.new[1] - top.new[0] > 0.9 * len(excerpt)


def test_a_changed_word_does_not_split_the_passage() -> None:
    old_text = text_of(5, 300)
    words = old_text.split(" ")
    words[150] = "CHANGED"
    new_text = " ".join(words)
    m = compare(fingerprint(new_text), fingerprint(old_text))
    assert len(m.passages) == 1
    p = m.passages[0]
    assert p.new[0] == 0 and p.old[0] == 0
    assert p.shingles == m.shared


def test_a_phrase_repeated_in_the_old_text_does_not_split_the_passage() -> None:
    refrain = "and the bell rang over the silent harbour once more"
    passage = f"{text_of(60, 120)} {refrain} {text_of(61, 120)}"
    old_text = f"{text_of(62, 100)} {refrain}. {text_of(63, 100)}\n\n{passage}\n\n{text_of(64, 50)}"
    words = passage.split(" ")
    words[60] = "CHANGED"  # an edit before the refrain, another after it
    words[-60] = "ALTERED"
    copied = " ".join(words)
    new_text = f"{text_of(65, 200)}\n\n{copied}\n\n{text_of(66, 200)}"
    m = compare(fingerprint(new_text), fingerprint(old_text))
    assert len(m.passages) == 1
    p = m.passages[0]
    assert copied.endswith(".") and passage.endswith(".")  # passages end at the last word
    assert new_text[p.new[0] : p.new[1]] == copied[:-1]
    assert old_text[p.old[0] : p.old[1]] == passage[:-1]


def test_passages_are_largest_first_and_capped() -> None:
    pieces = [text_of(10 + i, 30 + 10 * i) for i in range(6)]
    old_text = "\n\n".join(pieces)
    new_text = "\n\n".join(f"{text_of(50 + i, 40)}\n\n{p}" for i, p in enumerate(reversed(pieces)))
    m = compare(fingerprint(new_text), fingerprint(old_text), max_passages=3)
    assert m.passages_total == 6 and len(m.passages) == 3
    sizes = [p.shingles for p in m.passages]
    assert sizes == sorted(sizes, reverse=True)


def test_match_dict_is_json_safe_and_complete() -> None:
    m = compare(fingerprint(text_of(6)), fingerprint(text_of(6)), key="reg-1")
    d = json.loads(json.dumps(m.to_dict()))
    assert set(d) == {
        "key", "score", "jaccard", "containment", "coverage", "shared_shingles", "new_shingles",
        "old_shingles", "shingle", "passages", "passages_total",
    }
    assert d["key"] == "reg-1" and d["shingle"] == "word-5" and d["score"] == 1.0
    assert d["passages"][0] == {"new": list(m.passages[0].new), "old": list(m.passages[0].old),
                                "shingles": m.passages[0].shingles}


def test_compare_refuses_other_seeds() -> None:
    text = text_of(7)
    with pytest.raises(IncompatibleFingerprint):
        compare(fingerprint(text), Fingerprinter(seed=9)(text))


def test_word_and_character_fingerprints_share_nothing() -> None:
    m = compare(fingerprint(text_of(8)), fingerprint("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"))
    assert (m.shared, m.jaccard, m.passages) == (0, 0.0, ())


# --- compact storage ---------------------------------------------------------------------------------
def test_compact_buckets_hold_one_key_then_a_set() -> None:
    b = CompactBuckets()
    b.insert(b"h", "k1")
    assert b.get(b"h") == ("k1",) and b.itemcounts() == {b"h": 1}
    b.insert(b"h", "k2")
    assert set(b.get(b"h")) == {"k1", "k2"}
    b.remove_val(b"h", "k1")
    assert b.get(b"h") == ("k2",)
    b.remove_val(b"h", "k2")
    assert b.get(b"h") == () and not b.has_key(b"h") and b.size() == 0


def test_memory_index_gives_the_same_candidates_as_plain_datasketch() -> None:
    # k0..k29 are 15 texts twice each, so buckets collide; k30..k44 are all different.
    texts = [text_of(100 + i % 15, 250) if i < 30 else text_of(100 + i) for i in range(45)]
    fps = {f"k{i}": fingerprint(t) for i, t in enumerate(texts)}
    ours = MemoryLSHIndex()
    plain_whole = MinHashLSH(num_perm=128, params=(42, 3))
    plain_chunk = MinHashLSH(num_perm=32, params=(6, 3))
    for key, fp in fps.items():
        ours.add(key, fp)
        plain_whole.insert(key, fp.minhash())
        for i, mh in enumerate(fp.chunk_minhashes()):
            plain_chunk.insert((key, i), mh)
    for key, fp in fps.items():
        expected = set(plain_whole.query(fp.minhash()))
        expected |= {k for mh in fp.chunk_minhashes() for k, _ in plain_chunk.query(mh)}
        assert set(ours.query(fp)) == expected, key
    assert any(len(ours.query(fp)) > 1 for fp in fps.values())  # the planted duplicates collide


# --- the memory index --------------------------------------------------------------------------------
def test_memory_index_add_query_remove() -> None:
    idx = MemoryLSHIndex()
    original, other = fingerprint(text_of(20)), fingerprint(text_of(21))
    idx.add("a", original)
    idx.add("b", other)
    assert len(idx) == 2 and "a" in idx
    copy = fingerprint(text_of(20).replace("\n\n", " ", 2))
    assert idx.query(copy)[0] == "a"
    idx.remove("a")
    assert "a" not in idx.query(copy) and len(idx) == 1
    idx.remove("a")  # unknown keys are ignored
    assert idx.health() == {"ok": True, "backend": "memory", "keys": 1, "layout": {
        "num_perm": 128, "seed": 1, "scheme": "affine32", "tokenizer": "legato-tokens-v1", "key_id": "",
        "whole_bands": [42, 3], "chunk_bands": [6, 3], "chunk_perm": 32}}


def test_re_adding_a_key_replaces_its_entries() -> None:
    idx = MemoryLSHIndex()
    first, second = fingerprint(text_of(22)), fingerprint(text_of(23))
    idx.add("a", first)
    idx.add("a", second)
    assert len(idx) == 1
    assert idx.query(first) == [] and idx.query(second) == ["a"]


def test_empty_fingerprints_are_known_but_find_nothing() -> None:
    idx = MemoryLSHIndex()
    idx.add("empty", fingerprint("!!! ... ???"))
    idx.add("other-empty", fingerprint("— —"))
    assert len(idx) == 2 and "empty" in idx  # so a sync from the database does not reload them
    assert idx.query(fingerprint("***")) == []
    idx.add("empty", fingerprint(text_of(26)))  # replacing an empty key works
    idx.remove("other-empty")
    assert len(idx) == 1 and idx.query(fingerprint(text_of(26))) == ["empty"]


def test_index_refuses_fingerprints_of_other_parameters() -> None:
    with pytest.raises(IncompatibleFingerprint):
        MemoryLSHIndex().add("x", Fingerprinter(seed=5)(text_of(24)))


def test_bands_that_do_not_fit_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        MemoryLSHIndex(whole_bands=(64, 3))


def test_concurrent_adds_and_queries_are_safe() -> None:
    import threading

    idx = MemoryLSHIndex()
    same = fingerprint(text_of(27))  # every key collides in every bucket: buckets become sets
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(60):
                idx.add(f"w{n}-{i}", same)
                if i % 3 == 0:
                    idx.remove(f"w{n}-{i}")
        except BaseException as e:
            errors.append(e)

    def reader() -> None:
        try:
            for _ in range(100):
                idx.query(same)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)] + [
        threading.Thread(target=reader) for _ in range(3)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a missing lock shows up every run
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(idx) == 3 * 40 and len(idx.query(same)) == 120


def test_query_ranks_the_key_with_more_colliding_buckets_first() -> None:
    idx = MemoryLSHIndex()
    base = text_of(25, 900)
    idx.add("whole", fingerprint(base))
    idx.add("part", fingerprint(base[: len(base) // 4]))
    assert idx.query(fingerprint(base)) == ["whole", "part"]


# --- find_matches ------------------------------------------------------------------------------------
def _store(*pairs: tuple[str, str]) -> tuple[MemoryLSHIndex, dict[str, Fingerprint]]:
    idx, fps = MemoryLSHIndex(), {}
    for key, text in pairs:
        fps[key] = fingerprint(text)
        idx.add(key, fps[key])
    return idx, fps


def test_find_matches_confirms_copies_and_ignores_unrelated_texts() -> None:
    old = text_of(30, 900)
    idx, fps = _store(("old", old), ("unrelated", text_of(31, 900)))
    new_text = text_of(32, 500) + "\n\n" + old[: len(old) // 3] + "\n\n" + text_of(33, 500)
    found = find_matches(fingerprint(new_text), index=idx, load=fps.get)
    assert [m.key for m in found] == ["old"]
    assert found[0].coverage >= 0.3
    assert find_matches(fingerprint(text_of(34, 900)), index=idx, load=fps.get) == []


def test_find_matches_skips_keys_the_database_no_longer_has() -> None:
    old = text_of(35)
    idx, _ = _store(("gone", old))
    assert find_matches(fingerprint(old), index=idx, load=lambda key: None) == []


def test_find_matches_needs_min_shared_shingles() -> None:
    short = "Calon brek talith morane galos halurn."  # 6 words: 2 shingles
    idx, fps = _store(("short", short))
    assert find_matches(fingerprint(short), index=idx, load=fps.get) == []
    found = find_matches(fingerprint(short), index=idx, load=fps.get, min_shared=1)
    assert [m.key for m in found] == ["short"]


def test_find_matches_sorts_by_score() -> None:
    base = text_of(36, 1200)
    idx, fps = _store(("half", base[: len(base) // 2]), ("all", base))
    found = find_matches(fingerprint(base), index=idx, load=fps.get)
    assert [m.key for m in found] == ["all", "half"]
    assert found[0].score == 1.0 and found[1].score < 1.0


def test_find_matches_thresholds_decide() -> None:
    old = text_of(37, 900)
    idx, fps = _store(("old", old))
    new = fingerprint(text_of(38, 900) + "\n\n" + old[: len(old) // 4])
    m = find_matches(new, index=idx, load=fps.get, min_containment=0.0, min_jaccard=0.0)[0]
    assert find_matches(new, index=idx, load=fps.get, min_containment=m.score, min_jaccard=1.0) == [m]
    assert find_matches(new, index=idx, load=fps.get, min_containment=m.score + 0.01, min_jaccard=1.0) == []


# --- Redis ------------------------------------------------------------------------------------------
@pytest.fixture
def redis_index() -> Iterator[RedisLSHIndex]:
    assert REDIS_URL
    idx = RedisLSHIndex(url=REDIS_URL, prefix=f"legato-test-{uuid.uuid4().hex}")
    yield idx
    idx.clear()


@needs_redis
def test_redis_index_add_query_remove(redis_index: RedisLSHIndex) -> None:
    original, other = fingerprint(text_of(40)), fingerprint(text_of(41))
    redis_index.add("a", original)
    redis_index.add("b", other)
    assert len(redis_index) == 2
    copy = fingerprint(text_of(40).replace("\n\n", " ", 2))
    assert redis_index.query(copy)[0] == "a"
    redis_index.add("a", other)  # replaces
    assert redis_index.query(original) == [] and len(redis_index) == 2
    assert "a" in redis_index and "zzz" not in redis_index
    redis_index.remove("a")
    redis_index.remove("b")
    assert len(redis_index) == 0 and redis_index.query(other) == []
    redis_index.add("empty", fingerprint("— … !!!"))
    assert "empty" in redis_index and redis_index.query(fingerprint("!!!")) == []
    redis_index.remove("empty")
    assert len(redis_index) == 0
    health = redis_index.health()
    assert health["ok"] is True and health["backend"] == "redis" and health["keys"] == 0


@needs_redis
def test_redis_index_agrees_with_memory_index(redis_index: RedisLSHIndex) -> None:
    memory = MemoryLSHIndex()
    texts = [text_of(200 + i % 10, 250) if i < 20 else text_of(200 + i) for i in range(30)]
    fps = {f"k{i}": fingerprint(t) for i, t in enumerate(texts)}
    for key, fp in fps.items():
        memory.add(key, fp)
        redis_index.add(key, fp)
    for fp in fps.values():
        assert redis_index.query(fp) == memory.query(fp)


@needs_redis
def test_redis_entries_are_datasketch_storage_format(redis_index: RedisLSHIndex) -> None:
    fp = fingerprint(text_of(42))
    redis_index.add("key-1", fp)
    assert REDIS_URL
    from redis.connection import parse_url

    plain = MinHashLSH(num_perm=128, params=(42, 3), prepickle=False, storage_config={
        "type": "redis", "basename": f"{redis_index.prefix}:whole".encode(), "redis": parse_url(REDIS_URL)})
    assert plain.query(fp.minhash()) == [b"key-1"]
    assert b"key-1" in plain.keys
    plain.remove(b"key-1")  # datasketch's own remove undoes our insert
    assert plain.query(fp.minhash()) == []


@needs_redis
def test_redis_index_refuses_a_different_layout_on_the_same_prefix(redis_index: RedisLSHIndex) -> None:
    redis_index.add("a", fingerprint(text_of(43)))
    assert REDIS_URL
    other = RedisLSHIndex(url=REDIS_URL, prefix=redis_index.prefix, whole_bands=(16, 4))
    with pytest.raises(ConfigurationError):
        other.query(fingerprint(text_of(43)))


@needs_redis
def test_clear_deletes_every_key_under_the_prefix(redis_index: RedisLSHIndex) -> None:
    import redis

    assert REDIS_URL
    redis_index.add("a", fingerprint(text_of(44)))
    client = redis.Redis.from_url(REDIS_URL)
    assert any(True for _ in client.scan_iter(match=f"{redis_index.prefix}:*"))
    assert redis_index.clear() > 0
    assert not any(True for _ in client.scan_iter(match=f"{redis_index.prefix}:*"))


def test_unreachable_redis_is_unavailable_not_a_crash() -> None:
    idx = RedisLSHIndex(url="redis://127.0.0.1:1/0", prefix="legato-test-down", socket_timeout=0.5)
    with pytest.raises(Unavailable) as info:
        idx.query(fingerprint(text_of(45)))
    assert info.value.code == "DEPENDENCY_UNAVAILABLE"
    assert idx.health()["ok"] is False


def test_bad_redis_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        RedisLSHIndex(url="http://example.invalid/", prefix="x")


def test_signatures_survive_storage_round_trip_into_the_index() -> None:
    idx = MemoryLSHIndex()
    fp = fingerprint(text_of(46))
    idx.add("stored", Fingerprint.from_bytes(fp.to_bytes()))
    assert idx.query(fp) == ["stored"]
    assert np.array_equal(Fingerprint.from_bytes(fp.to_bytes()).hashvalues, fp.hashvalues)
