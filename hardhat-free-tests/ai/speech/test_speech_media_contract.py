"""One contract for every ``MediaStore`` adapter: the data dir, and S3 (its real adapter code against a
loopback S3 stand-in at the HTTP boundary)."""

from __future__ import annotations

from pathlib import Path

import pytest
from s3_server import S3_BUCKET, S3_KEY, S3_REGION, S3_SECRET, fake_s3

from ai.errors import MediaUnavailable, NotFound
from ai.speech.media.local import LocalMediaStore
from ai.speech.media.s3 import S3MediaStore


@pytest.fixture(scope="module")
def s3():  # type: ignore[no-untyped-def]
    with fake_s3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, s3):  # type: ignore[no-untyped-def]
    s3.down = False
    if request.param == "local":
        return LocalMediaStore(tmp_path / "media")
    return S3MediaStore(
        endpoint=s3.url, bucket=S3_BUCKET, region=S3_REGION, access_key_id=S3_KEY, secret_access_key=S3_SECRET
    )


def test_put_size_read_ranges_delete(store, tmp_path: Path):
    data = bytes(range(256)) * 1000  # 256 kB: more than one chunk
    src = tmp_path / "a.opus"
    src.write_bytes(data)
    key = "audio/ch-1/a1-0123456789abcdef.opus"
    store.put_file(key, src, content_type="audio/ogg")
    assert store.size(key) == len(data)
    assert b"".join(store.read(key)) == data
    assert b"".join(store.read(key, 10, 110)) == data[10:110]
    assert b"".join(store.read(key, len(data) - 5)) == data[-5:]
    assert all(len(chunk) <= 64 * 1024 for chunk in store.read(key))
    src.write_bytes(b"replaced")
    store.put_file(key, src, content_type="audio/ogg")
    assert b"".join(store.read(key)) == b"replaced"
    store.delete(key)
    store.delete(key)  # twice is fine
    with pytest.raises(NotFound):
        store.size(key)
    with pytest.raises(NotFound):
        b"".join(store.read(key))
    assert store.health()["store"] == store.name


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", "a b", "", "x" * 201])
def test_refuses_keys_it_did_not_make(store, key):
    with pytest.raises(ValueError):
        store.size(key)


def test_s3_down_or_wrong_secret_is_unavailable(s3, tmp_path: Path):
    store = S3MediaStore(
        endpoint=s3.url, bucket=S3_BUCKET, region=S3_REGION, access_key_id=S3_KEY, secret_access_key="wrong"
    )
    with pytest.raises(MediaUnavailable):
        store.health()
    s3.down = True
    good = S3MediaStore(
        endpoint=s3.url, bucket=S3_BUCKET, region=S3_REGION, access_key_id=S3_KEY, secret_access_key=S3_SECRET
    )
    with pytest.raises(MediaUnavailable):
        good.size("audio/x.opus")
    s3.down = False
    with pytest.raises(MediaUnavailable):
        S3MediaStore(
            endpoint="http://127.0.0.1:9",
            bucket=S3_BUCKET,
            region=S3_REGION,
            access_key_id=S3_KEY,
            secret_access_key=S3_SECRET,
        ).health()
