"""One contract for every Pinner adapter, then each adapter's own failure modes.

The Kubo and pinning-service adapters run their real HTTP clients against the in-process doubles in
``test_ipfs_fakes.py`` (127.0.0.1, a thread each).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ipfs_fakes import FakeKubo, FakePinningService

from registry.errors import NotFound, PinningUnavailable
from registry.ipfs import (
    CHUNK_SIZE,
    InvalidCid,
    KuboPinner,
    LocalBlockstore,
    Pinner,
    PinningServicePinner,
    cid_for_bytes,
)

CERT = b'{"anchor":null,"schema":"legato.certificate/v1"}'
MULTI_BLOCK = bytes(range(256)) * (2 * CHUNK_SIZE // 256) + b"tail"  # three leaves and a root
UNKNOWN = "bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm"  # b"a", never added
ORIGINS = ["/dns4/legato.example/tcp/443/https"]
# ipfshttpclient 0.7.0 passes urllib3 a parameter it deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")


@pytest.fixture(params=["local", "kubo", "pinning-service"])
def pinner(request, tmp_path: Path) -> Iterator[Pinner]:
    if request.param == "local":
        yield LocalBlockstore(root=tmp_path / "ipfs")
        return
    if request.param == "kubo":
        kubo = FakeKubo()
        adapter = KuboPinner(api=kubo.multiaddr, timeout=5)
        yield adapter
        adapter.close()
        kubo.stop()
        return
    psa = FakePinningService(token="tok")
    adapter = PinningServicePinner(endpoint=psa.endpoint, token="tok", origins=ORIGINS,
                                   blockstore=LocalBlockstore(root=tmp_path / "ipfs"), timeout=5)
    yield adapter
    adapter.close()
    psa.stop()


# --- the contract -----------------------------------------------------------------------------------
def test_pinner_satisfies_the_protocol_and_names_its_target(pinner):
    assert isinstance(pinner, Pinner)
    assert pinner.name.split(" ")[0] in ("local-blockstore", "kubo", "pinning-service")


@pytest.mark.parametrize("data", [CERT, b"", MULTI_BLOCK], ids=["certificate", "empty", "multi-block"])
def test_add_returns_the_kubo_cid_and_get_returns_the_same_bytes(pinner, data):
    cid = pinner.add(data, name="legato-test")
    assert cid == cid_for_bytes(data)
    assert pinner.get(cid) == data


def test_has_is_false_before_add_and_true_after(pinner):
    cid = cid_for_bytes(CERT)
    assert pinner.has(cid) is False
    pinner.add(CERT)
    assert pinner.has(cid) is True


def test_adding_the_same_bytes_twice_is_idempotent(pinner):
    assert pinner.add(CERT, name="one") == pinner.add(CERT, name="two")
    assert pinner.get(cid_for_bytes(CERT)) == CERT


def test_get_of_an_unknown_cid_is_not_found(pinner):
    with pytest.raises(NotFound):
        pinner.get(UNKNOWN)


@pytest.mark.parametrize("bad", ["not-a-cid", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", "../blocks"])
def test_malformed_cids_are_refused_with_invalid_cid(pinner, bad):
    with pytest.raises(InvalidCid):
        pinner.get(bad)
    with pytest.raises(InvalidCid):
        pinner.has(bad)


def test_health_reports_ok_with_the_pinner_name(pinner):
    health = pinner.health()
    assert health["status"] == "ok"
    assert health["pinner"] == pinner.name


# --- LocalBlockstore ----------------------------------------------------------------------------------
def test_local_blockstore_persists_across_instances(tmp_path):
    cid = LocalBlockstore(root=tmp_path).add(MULTI_BLOCK, name="manifest")
    reopened = LocalBlockstore(root=tmp_path)
    assert reopened.has(cid) and reopened.get(cid) == MULTI_BLOCK
    assert list(reopened.pins()) == [cid]
    assert reopened.pin_info(cid)["name"] == "manifest"


def test_local_blockstore_layout_is_sharded_content_addressed_files_and_leaves_no_temp_files(tmp_path):
    store = LocalBlockstore(root=tmp_path)
    cid = store.add(CERT)
    assert (tmp_path / "blocks" / cid[-3:-1] / cid).read_bytes() == CERT
    assert (tmp_path / "pins" / cid[-3:-1] / f"{cid}.json").exists()
    assert (tmp_path / "VERSION").read_text() == "legato-blockstore/1\n"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_local_blockstore_detects_a_corrupted_block_moves_it_aside_and_re_adding_repairs(tmp_path):
    from registry.ipfs import CorruptBlock

    store = LocalBlockstore(root=tmp_path)
    cid = store.add(CERT)
    (tmp_path / "blocks" / cid[-3:-1] / cid).write_bytes(CERT.replace(b"null", b"true"))
    with pytest.raises(CorruptBlock) as info:
        store.get(cid)
    assert info.value.code == "IPFS_BLOCK_CORRUPT" and info.value.details["cid"] == cid
    assert len(list((tmp_path / "corrupt").iterdir())) == 1
    assert store.has(cid) is False
    assert store.add(CERT) == cid and store.get(cid) == CERT


def test_local_blockstore_reports_a_missing_leaf_of_a_pinned_file(tmp_path):
    from registry.ipfs import CorruptBlock, build_dag

    store = LocalBlockstore(root=tmp_path)
    dag = build_dag(MULTI_BLOCK)
    store.add(MULTI_BLOCK)
    leaf = next(iter(dag.blocks))
    (tmp_path / "blocks" / leaf[-3:-1] / leaf).unlink()
    with pytest.raises(CorruptBlock, match="missing"):
        store.get(dag.root)


def test_local_blockstore_get_block_serves_one_verified_raw_block(tmp_path):
    from registry.ipfs import build_dag

    store = LocalBlockstore(root=tmp_path)
    dag = build_dag(MULTI_BLOCK)
    store.add(MULTI_BLOCK)
    assert store.get_block(dag.root) == dag.blocks[dag.root]
    with pytest.raises(NotFound):
        store.get_block(UNKNOWN)


def test_local_blockstore_that_cannot_write_is_unavailable(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    store = LocalBlockstore(root=tmp_path / "file")
    with pytest.raises(PinningUnavailable):
        store.add(CERT)
    with pytest.raises(PinningUnavailable):
        store.health()
