"""Merkle leaf/node/root hashing, byte for byte, and proof checking (docs/merkle.md).

The vectors were computed independently of registry.merkle (pycryptodome's keccak and a direct transcription
of the layout), with leaf input ``i`` = ``i`` as a 32-byte big-endian integer.
"""

from __future__ import annotations

import hashlib

import pytest

from registry.errors import InvalidProof
from registry.merkle import build_tree, keccak256, leaf_hash, node_hash, root_from_proof, verify_proof


def inp(i: int) -> bytes:
    return i.to_bytes(32, "big")


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(inp(i)) for i in range(n)]


def h(hex_: str) -> bytes:
    return bytes.fromhex(hex_)


LEAF0 = h("f39a869f62e75cf5f0bf914688a6b289caf2049435d8e68c5c5e6d05e44913f3")
LEAF1 = h("c13ad76448cbefd1ee83b801bcd8f33061f2577d6118395e7b44ea21c7ef62e0")
NODE01 = h("1d178264424b1389f0584589f83a882ee2fc5129582794c8d56480e2d7808763")
ROOTS = {
    1: LEAF0,
    2: NODE01,
    3: h("4a343af32ecc501fdd2bfef02b21cd296f74c0b031cc9ec2de4979de3703a40b"),
    5: h("7f5a6ba72be6d10e7ca84dc4e09562eece3d83f9c71ae6287d3229e36a0acecb"),
    256: h("5346e158b087f79d510ce39261fd394a0f5294f5ba18e69066bf7d2bc9d2a703"),
}


def test_keccak256_is_ethereum_keccak_not_sha3() -> None:
    empty = keccak256(b"")
    assert empty.hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert empty != hashlib.sha3_256(b"").digest()


def test_leaf_hash_vectors_are_keccak_of_0x00_prefix_and_input() -> None:
    assert leaf_hash(inp(0)) == LEAF0
    assert leaf_hash(inp(1)) == LEAF1
    assert leaf_hash(inp(1)) == keccak256(b"\x00" + inp(1))


def test_leaf_hash_refuses_inputs_that_are_not_32_bytes() -> None:
    for size in (0, 31, 33, 64):
        with pytest.raises(ValueError):
            leaf_hash(b"\x01" * size)


def test_node_hash_vector_sorts_its_children() -> None:
    assert node_hash(LEAF0, LEAF1) == NODE01
    assert node_hash(LEAF1, LEAF0) == NODE01
    low, high = sorted([LEAF0, LEAF1])
    assert keccak256(b"\x01" + low + high) == NODE01


@pytest.mark.parametrize("n", sorted(ROOTS))
def test_root_vectors_for_1_2_3_5_and_256_leaves(n: int) -> None:
    assert build_tree(leaves(n)).root == ROOTS[n]


def test_five_leaf_proofs_match_the_vectors_and_skip_promoted_levels() -> None:
    tree = build_tree(leaves(5))
    assert [p.hex() for p in tree.proof(0)] == [
        "c13ad76448cbefd1ee83b801bcd8f33061f2577d6118395e7b44ea21c7ef62e0",
        "b84fc810a1cbfadce53f9b17131112fc009fc2ed81856f2417f61cf0b04c874d",
        "97cd000267b15a3feb9b0786a59bd67dad2095427750ffd7aa1aaa74da0733c1",
    ]
    assert [p.hex() for p in tree.proof(4)] == [
        "0b5305054a29cb0da3c10c46c382eaa9078d94c8a2f8491b6516da1d662ea21e",
    ]


def test_one_leaf_tree_has_the_leaf_as_root_and_an_empty_proof() -> None:
    tree = build_tree([LEAF0])
    assert tree.root == LEAF0
    assert tree.proof(0) == []
    verify_proof(LEAF0, [], LEAF0)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 256])
def test_every_leaf_proof_verifies_for_many_sizes(n: int) -> None:
    tree = build_tree(leaves(n))
    for i, leaf in enumerate(tree.leaves):
        verify_proof(leaf, tree.proof(i), tree.root)
        assert root_from_proof(leaf, tree.proof(i)) == tree.root


def test_duplicate_leaves_build_and_each_copy_gets_a_valid_proof() -> None:
    x, y = leaf_hash(inp(7)), leaf_hash(inp(8))
    tree = build_tree([x, x, y])
    assert tree.root.hex() == "725307b381b0bcebb0c8071e602e244a6c86fb0d30e78737c5e09799825655ea"
    assert node_hash(x, x).hex() == "0a86ac04fc71f5ef4ac30f0b21570780c8fd0f0194fed8a8e1bc04889c43ae58"
    for i in range(3):
        verify_proof(tree.leaves[i], tree.proof(i), tree.root)


def test_odd_node_is_promoted_so_a_repeated_last_leaf_changes_the_root() -> None:
    a, b, c = leaves(3)
    assert build_tree([a, b, c]).root == ROOTS[3]
    repeated = build_tree([a, b, c, c]).root
    assert repeated.hex() == "f98c006ee3b4d45cfdec956ddce0b0b92c3be96e0b3a27a1dafcd9f261573087"
    assert repeated != build_tree([a, b, c]).root


def test_verify_proof_raises_invalid_proof_naming_the_merkle_check() -> None:
    tree = build_tree(leaves(5))
    proof = tree.proof(2)
    cases = [
        (leaf_hash(inp(99)), proof, tree.root),          # a leaf not in the tree
        (tree.leaves[2], proof, ROOTS[3]),               # another root
        (tree.leaves[2], proof[:-1], tree.root),         # truncated proof
        (tree.leaves[2], [proof[0], proof[0], *proof[2:]], tree.root),  # a wrong step
        (tree.leaves[2], [*proof, proof[0]], tree.root),  # an extra step
    ]
    for leaf, steps, root in cases:
        with pytest.raises(InvalidProof) as info:
            verify_proof(leaf, steps, root)
        assert info.value.check == "merkle_proof"
        assert info.value.code == "INVALID_PROOF"


def test_verify_proof_refuses_malformed_sizes() -> None:
    tree = build_tree(leaves(2))
    with pytest.raises(InvalidProof):
        verify_proof(tree.leaves[0], [b"\x00" * 31], tree.root)
    with pytest.raises(InvalidProof):
        verify_proof(tree.leaves[0][:31], tree.proof(0), tree.root)


def test_build_tree_refuses_empty_batches_and_non_hash_leaves() -> None:
    with pytest.raises(ValueError):
        build_tree([])
    with pytest.raises(ValueError):
        build_tree([b"\x00" * 31])


def test_proof_index_out_of_range_is_an_index_error() -> None:
    with pytest.raises(IndexError):
        build_tree(leaves(3)).proof(3)
