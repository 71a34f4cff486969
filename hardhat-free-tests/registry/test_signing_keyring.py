"""The signing keyring in the data dir: adopts the pre-rotation key file, is never created by readers,
and two rotations racing in two processes' worth of objects leave one live key and every old one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from registry.errors import ConfigurationError
from registry.signing import PlatformKey, new_key_pem
from registry.signing_keys import SigningKeys


def test_the_old_key_file_is_adopted_with_its_time(tmp_path):
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    pem = new_key_pem()
    (keys_dir / "platform-ed25519.pem").write_bytes(pem)
    ring = SigningKeys.from_data_dir(tmp_path)
    assert ring.current().key_id == PlatformKey.from_pem(pem).key_id
    (entry,) = ring.entries()
    assert entry.valid_from is not None and entry.valid_from <= datetime.now(UTC)
    assert (keys_dir / "signing-keys.json").stat().st_mode & 0o077 == 0


def test_readers_never_create_a_keyring(tmp_path):
    with pytest.raises(ConfigurationError):
        SigningKeys.from_data_dir(tmp_path, create=False)
    assert not (tmp_path / "keys").exists()


def test_concurrent_rotations_keep_every_key_and_one_live(tmp_path):
    first = SigningKeys.from_data_dir(tmp_path)
    original = first.current().key_id
    rings = [SigningKeys.from_data_dir(tmp_path) for _ in range(4)]
    barrier = threading.Barrier(len(rings))

    def rotate(ring: SigningKeys) -> None:
        barrier.wait()
        ring.rotate()

    threads = [threading.Thread(target=rotate, args=(r,)) for r in rings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = SigningKeys.from_data_dir(tmp_path).entries()
    assert len(entries) == 5 and entries[0].key_id == original
    assert [e.retired_at is None for e in entries] == [False, False, False, False, True]
    for earlier, later in pairwise(entries):  # each retired when its successor began
        assert earlier.retired_at == later.valid_from
    assert first.current().key_id == entries[-1].key_id  # a running process sees the rotation


def test_a_key_from_settings_cannot_be_rotated():
    ring = SigningKeys.from_pem(new_key_pem())
    with pytest.raises(ConfigurationError):
        ring.rotate()
