"""Merkle trees over certificate leaves, hashed exactly as ``LegatoRegistry.verify`` hashes them on chain.

A batch of certificates is anchored by one root; each certificate carries the sibling hashes (its proof)
that lead from its leaf to that root. The layout (docs/merkle.md has it byte by byte):

* leaf  = keccak256(0x00 || leaf_input)        leaf_input is exactly 32 bytes (33 bytes hashed)
* node  = keccak256(0x01 || min(a, b) || max(a, b))   (65 bytes hashed; a, b compared as big-endian integers)
* level by level, left to right, pairs (0, 1), (2, 3), …; a lone last node is promoted unchanged to the
  next level, never paired with itself.

Why these choices:

* The 0x00/0x01 prefixes (and the different input lengths) keep a leaf from ever equalling an inner node,
  so nobody can present an inner node as a certificate leaf.
* Sorted pairs make a proof a plain list of hashes, with no left/right flags to carry or to get wrong, and
  keep the contract's loop trivial.
* Promoting the odd node instead of duplicating it avoids Bitcoin's CVE-2012-2459 class of bugs, where the
  batches [a, b, c] and [a, b, c, c] share a root.
* Equal leaves are allowed: they pair like any other hashes (node = keccak256(0x01 || x || x)) and each gets
  its own valid proof, so a duplicate in a batch never breaks building, proving or anchoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_hash.auto import keccak as _keccak

from registry.errors import InvalidProof

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (the pre-standard padding Solidity's ``keccak256`` uses, not SHA3-256)."""
    return bytes(_keccak(data))


def leaf_hash(leaf_input: bytes) -> bytes:
    """keccak256(0x00 || leaf_input) for a 32-byte ``leaf_input`` (the certificate code's digest)."""
    if len(leaf_input) != HASH_SIZE:
        raise ValueError(f"a leaf input is {HASH_SIZE} bytes, got {len(leaf_input)}")
    return keccak256(LEAF_PREFIX + leaf_input)


def node_hash(a: bytes, b: bytes) -> bytes:
    """keccak256(0x01 || min(a, b) || max(a, b)); symmetric, so ``node_hash(a, b) == node_hash(b, a)``."""
    if len(a) != HASH_SIZE or len(b) != HASH_SIZE:
        raise ValueError(f"tree nodes are {HASH_SIZE} bytes")
    low, high = (a, b) if a <= b else (b, a)
    return keccak256(NODE_PREFIX + low + high)


@dataclass(frozen=True)
class MerkleTree:
    """Every level of the tree, leaves first; ``levels[-1]`` holds the root alone."""

    levels: tuple[tuple[bytes, ...], ...]

    @property
    def leaves(self) -> tuple[bytes, ...]:
        return self.levels[0]

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def proof(self, index: int) -> list[bytes]:
        """The sibling hashes from leaf ``index`` up to the root (empty for a one-leaf tree).

        Promoted levels contribute no step, so proofs in one tree may differ in length by one.
        """
        if not 0 <= index < len(self):
            raise IndexError(f"leaf index {index} out of range for {len(self)} leaves")
        steps: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                steps.append(level[sibling])
            index //= 2
        return steps


def build_tree(leaves: Sequence[bytes]) -> MerkleTree:
    """Build the tree over ``leaves`` — leaf *hashes* (see :func:`leaf_hash`), in batch order."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = tuple(bytes(leaf) for leaf in leaves)
    for i, leaf in enumerate(level):
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf {i} is {len(leaf)} bytes, leaves are {HASH_SIZE}-byte hashes")
    levels = [level]
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = tuple(paired)
        levels.append(level)
    return MerkleTree(levels=tuple(levels))


def root_from_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root ``proof`` leads to from ``leaf`` (what the contract's ``processProof`` computes)."""
    computed = bytes(leaf)
    for step in proof:
        computed = node_hash(computed, bytes(step))
    return computed


def verify_proof(leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Return if ``proof`` leads from ``leaf`` to ``root``; raise :class:`InvalidProof` otherwise."""
    if len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        raise InvalidProof(f"leaf and root are {HASH_SIZE}-byte hashes", check="merkle_proof")
    for i, step in enumerate(proof):
        if len(step) != HASH_SIZE:
            raise InvalidProof(f"proof step {i} is {len(step)} bytes, not {HASH_SIZE}", check="merkle_proof")
    computed = root_from_proof(leaf, proof)
    if computed != bytes(root):
        raise InvalidProof(
            f"the proof leads to 0x{computed.hex()}, not to the root 0x{bytes(root).hex()}",
            check="merkle_proof", details={"computed_root": "0x" + computed.hex()},
        )
