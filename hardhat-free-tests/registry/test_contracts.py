"""The Solidity contracts themselves, on eth-tester's in-process EVM: roles, anchors, proofs, license overlap,
gas, and that the committed artifacts are what the sources compile to.

Contracts are deployed once per module; every test anchors its own roots and licenses its own works, so no
test depends on another's state.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from registry.chain.artifacts import LICENSE_REGISTRY, REGISTRY, load_artifact
from registry.chain.transactions import revert_data
from registry.errors import InvalidProof
from registry.merkle import build_tree, leaf_hash, verify_proof

ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def w3() -> Web3:
    return Web3(EthereumTesterProvider())


@pytest.fixture(scope="module")
def accounts(w3: Web3) -> list[str]:
    return list(w3.eth.accounts)


def _deploy(w3: Web3, name: str, owner: str) -> Contract:
    artifact = load_artifact(name)
    tx = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor().transact({"from": owner})
    receipt = w3.eth.get_transaction_receipt(tx)
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


@pytest.fixture(scope="module")
def registry(w3: Web3, accounts: list[str]) -> Contract:
    return _deploy(w3, REGISTRY, accounts[0])


@pytest.fixture(scope="module")
def licenses(w3: Web3, accounts: list[str]) -> Contract:
    return _deploy(w3, LICENSE_REGISTRY, accounts[0])


def reverts_with(name: str, contract_name: str, call: Callable[[], Any]) -> tuple[Any, ...]:
    with pytest.raises(Exception) as info:
        call()
    data = revert_data(info.value)
    assert data is not None, f"no revert data in {info.value!r}"
    decoded = load_artifact(contract_name).decode_error(data)
    assert decoded is not None and decoded[0] == name, f"expected {name}, got {decoded}"
    return decoded[1]


def fresh_root() -> bytes:
    return os.urandom(32)


def anchored_tree(registry: Contract, owner: str, n: int) -> Any:
    tree = build_tree([leaf_hash(os.urandom(32)) for _ in range(n)])
    registry.functions.anchor(tree.root, n, "bafy-test").transact({"from": owner})
    return tree


# --- LegatoRegistry: roles ----------------------------------------------------------------------
def test_deployer_is_owner_and_first_anchorer(registry: Contract, accounts: list[str]) -> None:
    assert registry.functions.owner().call() == accounts[0]
    assert registry.functions.isAnchorer(accounts[0]).call() is True
    assert registry.functions.isAnchorer(accounts[1]).call() is False


def test_non_anchorer_is_refused_with_not_anchorer(registry: Contract, accounts: list[str]) -> None:
    root = fresh_root()
    args = reverts_with("NotAnchorer", REGISTRY,
                        lambda: registry.functions.anchor(root, 1, "x").transact({"from": accounts[3]}))
    assert args == (accounts[3].lower(),)
    assert registry.functions.anchoredAt(root).call() == 0


def test_owner_adds_then_removes_an_anchorer(registry: Contract, accounts: list[str]) -> None:
    owner, helper = accounts[0], accounts[2]
    registry.functions.setAnchorer(helper, True).transact({"from": owner})
    registry.functions.anchor(fresh_root(), 1, "x").transact({"from": helper})
    registry.functions.setAnchorer(helper, False).transact({"from": owner})
    reverts_with("NotAnchorer", REGISTRY,
                 lambda: registry.functions.anchor(fresh_root(), 1, "x").transact({"from": helper}))


def test_only_the_owner_manages_anchorers(registry: Contract, accounts: list[str]) -> None:
    reverts_with("NotOwner", REGISTRY,
                 lambda: registry.functions.setAnchorer(accounts[4], True).transact({"from": accounts[4]}))
    reverts_with("ZeroAddress", REGISTRY,
                 lambda: registry.functions.setAnchorer(ZERO, True).transact({"from": accounts[0]}))


def test_ownership_transfer_moves_the_owner_role(w3: Web3, accounts: list[str]) -> None:
    own = _deploy(w3, REGISTRY, accounts[0])
    own.functions.transferOwnership(accounts[5]).transact({"from": accounts[0]})
    assert own.functions.owner().call() == accounts[5]
    reverts_with("NotOwner", REGISTRY,
                 lambda: own.functions.setAnchorer(accounts[6], True).transact({"from": accounts[0]}))
    own.functions.setAnchorer(accounts[6], True).transact({"from": accounts[5]})
    assert own.functions.isAnchorer(accounts[6]).call() is True


# --- LegatoRegistry: anchors --------------------------------------------------------------------
def test_anchor_records_timestamp_block_count_and_event(
    w3: Web3, registry: Contract, accounts: list[str]
) -> None:
    root = fresh_root()
    tx = registry.functions.anchor(root, 7, "bafkreiexample").transact({"from": accounts[0]})
    receipt = w3.eth.get_transaction_receipt(tx)
    block = w3.eth.get_block(receipt["blockNumber"])
    assert registry.functions.anchoredAt(root).call() == block["timestamp"]
    assert registry.functions.anchorOf(root).call() == [block["timestamp"], receipt["blockNumber"], 7]
    (event,) = registry.events.Anchored().process_receipt(receipt)
    assert event["args"]["root"] == root
    assert event["args"]["leafCount"] == 7
    assert event["args"]["manifestCid"] == "bafkreiexample"
    assert event["args"]["timestamp"] == block["timestamp"]
    assert registry.functions.anchorOf(fresh_root()).call() == [0, 0, 0]


def test_double_anchor_is_refused_and_keeps_the_first(
    w3: Web3, registry: Contract, accounts: list[str]
) -> None:
    root = fresh_root()
    registry.functions.anchor(root, 1, "first").transact({"from": accounts[0]})
    first = registry.functions.anchorOf(root).call()
    args = reverts_with("AlreadyAnchored", REGISTRY,
                        lambda: registry.functions.anchor(root, 2, "second").transact({"from": accounts[0]}))
    assert args == (root, first[0])
    # mined anyway (explicit gas skips the estimate): the transaction fails and changes nothing
    tx = registry.functions.anchor(root, 2, "second").transact({"from": accounts[0], "gas": 200_000})
    assert w3.eth.get_transaction_receipt(tx)["status"] == 0
    assert registry.functions.anchorOf(root).call() == first


def test_zero_root_and_empty_batch_are_refused(registry: Contract, accounts: list[str]) -> None:
    reverts_with("EmptyRoot", REGISTRY,
                 lambda: registry.functions.anchor(b"\x00" * 32, 1, "x").transact({"from": accounts[0]}))
    reverts_with("EmptyBatch", REGISTRY,
                 lambda: registry.functions.anchor(fresh_root(), 0, "x").transact({"from": accounts[0]}))


# --- LegatoRegistry: verify ---------------------------------------------------------------------
def test_verify_is_true_for_every_leaf_of_an_anchored_tree(registry: Contract, accounts: list[str]) -> None:
    tree = anchored_tree(registry, accounts[0], 11)
    for i, leaf in enumerate(tree.leaves):
        assert registry.functions.verify(leaf, tree.proof(i), tree.root).call() is True


def test_verify_is_false_for_bad_proofs(registry: Contract, accounts: list[str]) -> None:
    tree = anchored_tree(registry, accounts[0], 6)
    leaf, proof = tree.leaves[2], tree.proof(2)
    bad = [
        (leaf_hash(os.urandom(32)), proof),              # a leaf that is not in the tree
        (bytes([leaf[0] ^ 1]) + leaf[1:], proof),         # one bit of the leaf flipped
        (leaf, tree.proof(3)),                            # another leaf's proof
        (leaf, proof[:-1]),                               # truncated
        (leaf, [*proof, proof[0]]),                       # an extra step
        (leaf, [os.urandom(32), *proof[1:]]),             # a forged sibling
        (tree.leaves[0], []),                             # no proof at all
    ]
    for candidate, steps in bad:
        assert registry.functions.verify(candidate, steps, tree.root).call() is False


def test_verify_is_false_for_a_valid_proof_under_an_unanchored_root(registry: Contract) -> None:
    tree = build_tree([leaf_hash(os.urandom(32)) for _ in range(4)])
    verify_proof(tree.leaves[1], tree.proof(1), tree.root)
    assert registry.functions.verify(tree.leaves[1], tree.proof(1), tree.root).call() is False
    assert registry.functions.processProof(tree.leaves[1], tree.proof(1)).call() == tree.root


def test_a_batch_with_duplicate_leaves_anchors_and_each_copy_verifies(
    registry: Contract, accounts: list[str]
) -> None:
    same = leaf_hash(os.urandom(32))
    tree = build_tree([same, leaf_hash(os.urandom(32)), same, same])
    registry.functions.anchor(tree.root, 4, "dup").transact({"from": accounts[0]})
    for i in (0, 2, 3):
        assert registry.functions.verify(same, tree.proof(i), tree.root).call() is True


def test_contract_verify_agrees_with_python_verify_proof_on_random_trees(
    registry: Contract, accounts: list[str]
) -> None:
    rng = random.Random(2459)
    for _ in range(12):
        n = rng.randint(1, 40)
        tree = build_tree([leaf_hash(rng.randbytes(32)) for _ in range(n)])
        registry.functions.anchor(tree.root, n, "r").transact({"from": accounts[0]})
        for _ in range(4):
            i = rng.randrange(n)
            leaf, proof = tree.leaves[i], tree.proof(i)
            mutation = rng.choice(["none", "leaf", "step", "drop", "swap-leaf"])
            if mutation == "leaf":
                leaf = rng.randbytes(32)
            elif mutation == "step" and proof:
                proof = [*proof[:-1], rng.randbytes(32)]
            elif mutation == "drop" and proof:
                proof = proof[1:]
            elif mutation == "swap-leaf" and n > 1:
                leaf = tree.leaves[(i + 1) % n]
            try:
                verify_proof(leaf, proof, tree.root)
                python_says = True
            except InvalidProof:
                python_says = False
            assert registry.functions.verify(leaf, proof, tree.root).call() is python_says, (n, i, mutation)


# --- LicenseRegistry ----------------------------------------------------------------------------
FILM, GAME = 1, 2


def grant(licenses: Contract, sender: str, work: bytes, start: int, end: int, exclusive: bool,
          media: int = FILM, grant_id: bytes | None = None, licensee: str | None = None) -> Any:
    gid = grant_id or os.urandom(32)
    return gid, licenses.functions.grant(
        gid, work, licensee or sender, b"\x11" * 32, media, start, end, exclusive
    ).transact({"from": sender})


def test_exclusive_over_exclusive_overlap_is_refused(licenses: Contract, accounts: list[str]) -> None:
    work, owner = os.urandom(32), accounts[0]
    first, _ = grant(licenses, owner, work, 1000, 1000 + 365 * DAY, True)
    args = reverts_with("LicenseOverlap", LICENSE_REGISTRY,
                        lambda: grant(licenses, owner, work, 1000 + 100 * DAY, 1000 + 500 * DAY, True))
    assert args == (first,)
    assert licenses.functions.grantCount(work).call() == 1


def test_exclusive_and_non_exclusive_overlaps_are_refused_both_ways(
    licenses: Contract, accounts: list[str]
) -> None:
    owner = accounts[0]
    work_a, work_b = os.urandom(32), os.urandom(32)
    grant(licenses, owner, work_a, 0, 100, False)
    reverts_with("LicenseOverlap", LICENSE_REGISTRY, lambda: grant(licenses, owner, work_a, 50, 150, True))
    grant(licenses, owner, work_b, 0, 100, True)
    reverts_with("LicenseOverlap", LICENSE_REGISTRY, lambda: grant(licenses, owner, work_b, 99, 150, False))


def test_non_exclusive_grants_may_overlap_each_other(licenses: Contract, accounts: list[str]) -> None:
    work = os.urandom(32)
    for start in (0, 10, 20):
        grant(licenses, accounts[0], work, start, start + 100, False, licensee=accounts[start // 10 + 1])
    assert licenses.functions.grantCount(work).call() == 3


def test_different_media_and_different_works_do_not_conflict(licenses: Contract, accounts: list[str]) -> None:
    work = os.urandom(32)
    grant(licenses, accounts[0], work, 0, 1000, True, media=FILM)
    grant(licenses, accounts[0], work, 0, 1000, True, media=GAME)
    grant(licenses, accounts[0], os.urandom(32), 0, 1000, True, media=FILM)
    assert licenses.functions.grantCount(work).call() == 2


def test_adjacent_periods_do_not_overlap(licenses: Contract, accounts: list[str]) -> None:
    work = os.urandom(32)
    grant(licenses, accounts[0], work, 100, 200, True)
    grant(licenses, accounts[0], work, 200, 300, True)      # starts when the first ends
    grant(licenses, accounts[0], work, 0, 100, True)        # ends when the first starts
    reverts_with("LicenseOverlap", LICENSE_REGISTRY,
                 lambda: grant(licenses, accounts[0], work, 199, 201, False))
    assert licenses.functions.findConflict(work, FILM, 300, 400, True).call() == [False, b"\x00" * 32]


def test_grant_refusals_role_period_duplicate_and_ids(licenses: Contract, accounts: list[str]) -> None:
    owner, stranger = accounts[0], accounts[7]
    reverts_with("NotGranter", LICENSE_REGISTRY,
                 lambda: grant(licenses, stranger, os.urandom(32), 0, 10, False))
    reverts_with("InvalidPeriod", LICENSE_REGISTRY,
                 lambda: grant(licenses, owner, os.urandom(32), 10, 10, False))
    gid, _ = grant(licenses, owner, os.urandom(32), 0, 10, False)
    reverts_with("DuplicateGrant", LICENSE_REGISTRY,
                 lambda: grant(licenses, owner, os.urandom(32), 0, 10, False, grant_id=gid))
    reverts_with("EmptyId", LICENSE_REGISTRY,
                 lambda: grant(licenses, owner, b"\x00" * 32, 0, 10, False))
    reverts_with("NotOwner", LICENSE_REGISTRY,
                 lambda: licenses.functions.setGranter(stranger, True).transact({"from": stranger}))
    licenses.functions.setGranter(stranger, True).transact({"from": owner})
    grant(licenses, stranger, os.urandom(32), 0, 10, False)
    licenses.functions.setGranter(stranger, False).transact({"from": owner})
    assert licenses.functions.isGranter(stranger).call() is False


def test_grants_are_listed_per_work_and_evented(w3: Web3, licenses: Contract, accounts: list[str]) -> None:
    work = os.urandom(32)
    first, _ = grant(licenses, accounts[0], work, 0, 100, False, licensee=accounts[1])
    second, tx = grant(licenses, accounts[0], work, 100, 200, True, media=GAME, licensee=accounts[2])
    receipt = w3.eth.get_transaction_receipt(tx)
    listed = licenses.functions.grantsOf(work).call()
    assert [g[0] for g in listed] == [first, second]
    stored = licenses.functions.getGrant(second).call()
    assert stored[:8] == (second, work, b"\x11" * 32, accounts[2], GAME, True, 100, 200)
    assert stored[9] == receipt["blockNumber"]
    assert licenses.functions.grantAt(work, 1).call() == stored
    assert licenses.functions.hasGrant(second).call() is True
    (event,) = licenses.events.LicenseGranted().process_receipt(receipt)
    assert event["args"]["grantId"] == second
    assert event["args"]["workId"] == work
    assert event["args"]["licensee"] == accounts[2]
    assert (event["args"]["media"], event["args"]["start"], event["args"]["end"]) == (GAME, 100, 200)
    assert event["args"]["exclusive"] is True
    reverts_with("UnknownGrant", LICENSE_REGISTRY, lambda: licenses.functions.getGrant(os.urandom(32)).call())


# --- gas ----------------------------------------------------------------------------------------
def test_gas_figures_stay_in_their_expected_ranges(
    w3: Web3, registry: Contract, licenses: Contract, accounts: list[str]
) -> None:
    tree = build_tree([leaf_hash(os.urandom(32)) for _ in range(256)])
    cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    tx = registry.functions.anchor(tree.root, 256, cid)
    anchor_gas = w3.eth.get_transaction_receipt(tx.transact({"from": accounts[0]}))["gasUsed"]
    verify_call = registry.functions.verify(tree.leaves[0], tree.proof(0), tree.root)
    verify_tx = verify_call.transact({"from": accounts[0]})
    verify_gas = w3.eth.get_transaction_receipt(verify_tx)["gasUsed"]  # exact, unlike an estimate
    work = os.urandom(32)
    for i in range(4):
        grant(licenses, accounts[0], work, i * 10, i * 10 + 10, True)
    _, tx = grant(licenses, accounts[0], work, 40, 50, True)
    grant_gas = w3.eth.get_transaction_receipt(tx)["gasUsed"]
    print(f"\ngas: anchor(256 leaves) {anchor_gas}, verify(8 steps) {verify_gas}, "
          f"grant (5th on a work) {grant_gas}")
    assert 40_000 < anchor_gas < 70_000
    assert verify_gas < 35_000  # includes the 21 000 every transaction pays
    assert grant_gas < 250_000


# --- artifacts ----------------------------------------------------------------------------------
def test_artifacts_record_the_pinned_compiler_and_evm_version() -> None:
    for name in (REGISTRY, LICENSE_REGISTRY):
        artifact = load_artifact(name)
        assert artifact.compiler.startswith("0.8.28+commit.")
        assert artifact.evm_version == "cancun"
        assert artifact.bytecode.startswith("0x60") and len(artifact.deployed_bytecode) > 1000


def test_committed_artifacts_match_a_fresh_compile_of_the_sources() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "compile_contracts.py"), "--check"],
                          capture_output=True, text=True, check=False)
    if proc.returncode == 2:
        pytest.skip(f"no solc 0.8.28 available: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
