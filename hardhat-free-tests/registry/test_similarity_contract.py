"""One contract for the ``SimilarityIndex`` port, run against the in-memory index and the Redis one
(Redis when ``LEGATO_TEST_REDIS_URL`` names a server; CI sets it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from factories import chapter_text

from registry.canonical import canonicalize
from registry.fingerprint import fingerprint
from registry.similarity.memory import MemoryLSHIndex
from registry.similarity.protocol import SimilarityIndex
from registry.similarity.redis import RedisLSHIndex

REDIS_URL = os.environ.get("LEGATO_TEST_REDIS_URL")


@pytest.fixture(params=["memory", "redis"])
def index(request) -> Iterator[SimilarityIndex]:
    if request.param == "memory":
        yield MemoryLSHIndex()
        return
    if not REDIS_URL:
        pytest.skip("LEGATO_TEST_REDIS_URL is not set")
    redis_index = RedisLSHIndex(url=REDIS_URL, prefix=f"legato-test:{uuid.uuid4().hex}")
    yield redis_index
    redis_index.clear()


def fp(seed: int):
    return fingerprint(canonicalize(chapter_text(seed)))


def test_added_text_is_found_by_its_copy_and_not_by_an_unrelated_text(index):
    index.add("a", fp(1))
    index.add("b", fp(2))
    assert len(index) == 2 and "a" in index
    assert "a" in index.query(fp(1))
    assert "a" not in index.query(fp(3))


def test_removed_key_is_no_longer_found(index):
    index.add("a", fp(4))
    index.remove("a")
    assert "a" not in index and "a" not in index.query(fp(4)) and len(index) == 0


def test_adding_a_key_again_replaces_it(index):
    index.add("a", fp(5))
    index.add("a", fp(6))
    assert len(index) == 1
    assert "a" in index.query(fp(6)) and "a" not in index.query(fp(5))


def test_health_reports(index):
    assert isinstance(index.health(), dict)
