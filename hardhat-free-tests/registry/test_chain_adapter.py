"""The Chain contract, run against every adapter that runs in-process: the embedded persistent EVM and a
plain in-memory eth-tester chain, both through the one Web3Chain class.

One chain per adapter per module (deploying is the slow part); every test anchors its own roots and
licenses its own works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_utils import is_checksum_address

from registry.chain.embedded import EMBEDDED_CHAIN_ID, embedded_chain, memory_chain
from registry.chain.protocol import AnchorReceipt, Chain, ChainReader
from registry.chain.web3_chain import Web3Chain
from registry.errors import ChainError, ChainUnavailable, LicenseOverlap
from registry.merkle import build_tree, leaf_hash

FILM, AUDIO = 1, 4


@pytest.fixture(scope="module", params=["embedded", "memory"])
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web3Chain]:
    c = embedded_chain(tmp_path_factory.mktemp("data")) if request.param == "embedded" else memory_chain()
    yield c
    c.close()


def new_tree(n: int) -> object:
    return build_tree([leaf_hash(os.urandom(32)) for _ in range(n)])


def nonce(chain: Web3Chain) -> int:
    assert chain.account is not None
    return chain.w3.eth.get_transaction_count(chain.account)


def test_adapter_satisfies_the_chain_protocol(chain: Web3Chain) -> None:
    assert isinstance(chain, Chain)
    assert isinstance(chain, ChainReader)
    assert chain.name


def test_identity_addresses_and_health(chain: Web3Chain) -> None:
    assert chain.chain_id() in (EMBEDDED_CHAIN_ID, 131277322940537)
    assert is_checksum_address(chain.registry_address())
    assert is_checksum_address(chain.license_registry_address())
    assert chain.registry_address() != chain.license_registry_address()
    health = chain.health()
    assert health["chain_id"] == chain.chain_id()
    assert health["block_number"] >= 2  # both deployments
    assert health["account"] == chain.account
    assert health["balance_wei"] > 10**18
    assert health["registry"] == chain.registry_address()
    assert health["is_anchorer"] is True


def test_anchor_returns_a_receipt_that_find_anchor_reads_back(chain: Web3Chain) -> None:
    tree = new_tree(5)
    receipt = chain.anchor(tree.root, 5, "bafkreimanifest")
    assert isinstance(receipt, AnchorReceipt)
    assert (receipt.root, receipt.leaf_count, receipt.manifest_cid) == (tree.root, 5, "bafkreimanifest")
    assert receipt.chain_id == chain.chain_id()
    assert receipt.contract == chain.registry_address()
    assert receipt.tx_hash.startswith("0x") and len(receipt.tx_hash) == 66
    block = chain.w3.eth.get_block(receipt.block_number)
    assert receipt.block_timestamp == block["timestamp"]
    assert receipt.block_hash == "0x" + bytes(block["hash"]).hex()
    assert 40_000 < (receipt.gas_used or 0) < 70_000
    assert chain.find_anchor(tree.root) == receipt
    assert chain.contract_anchored_at(receipt.contract, tree.root) == receipt.block_timestamp


def test_find_anchor_of_an_unknown_root_is_none(chain: Web3Chain) -> None:
    assert chain.find_anchor(os.urandom(32)) is None


def test_verify_is_true_for_each_leaf_and_false_when_tampered(chain: Web3Chain) -> None:
    tree = new_tree(6)
    chain.anchor(tree.root, 6, "cid")
    for i, leaf in enumerate(tree.leaves):
        assert chain.verify(leaf, tree.proof(i), tree.root) is True
        assert chain.contract_verify(chain.registry_address(), leaf, tree.proof(i), tree.root) is True
    tampered = bytes([tree.leaves[0][0] ^ 0xFF]) + tree.leaves[0][1:]
    assert chain.verify(tampered, tree.proof(0), tree.root) is False
    unanchored = new_tree(2)
    assert chain.verify(unanchored.leaves[0], unanchored.proof(0), unanchored.root) is False


def test_anchoring_the_same_root_again_sends_nothing_and_returns_the_first(chain: Web3Chain) -> None:
    tree = new_tree(3)
    first = chain.anchor(tree.root, 3, "cid-a")
    before = nonce(chain)
    assert chain.anchor(tree.root, 3, "cid-a") == first
    assert nonce(chain) == before


def test_a_lost_receipt_is_retried_without_a_second_transaction(
    chain: Web3Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction lands but the wait times out; the retry reads the anchor back instead of resending."""
    tree = new_tree(4)
    sender = chain._tx_sender()
    real_wait = sender._wait

    def lost(flight: object, label: str) -> object:
        real_wait(flight, label)  # mined…
        raise ChainUnavailable("timed out waiting for the receipt")  # …but the caller never hears of it

    monkeypatch.setattr(sender, "_wait", lost)
    before = nonce(chain)
    with pytest.raises(ChainUnavailable):
        chain.anchor(tree.root, 4, "cid")
    monkeypatch.undo()
    receipt = chain.anchor(tree.root, 4, "cid")
    assert nonce(chain) == before + 1
    assert chain.find_anchor(tree.root) == receipt


def test_a_root_anchored_by_someone_else_meanwhile_is_returned_not_refused(chain: Web3Chain) -> None:
    tree = new_tree(2)
    registry = chain._contract("LegatoRegistry")
    data = registry.encode_abi("anchor", args=[tree.root, 2, "other-worker"])
    chain._tx_sender().transact(to=registry.address, data=bytes.fromhex(data[2:]), key="other", label="other")
    receipt = chain.anchor(tree.root, 2, "cid")
    assert receipt.manifest_cid == "other-worker"


def test_a_batch_with_duplicate_leaves_anchors_and_verifies(chain: Web3Chain) -> None:
    same = leaf_hash(os.urandom(32))
    tree = build_tree([same, same, leaf_hash(os.urandom(32))])
    chain.anchor(tree.root, 3, "dup")
    assert chain.verify(same, tree.proof(0), tree.root)
    assert chain.verify(same, tree.proof(1), tree.root)


def test_a_revert_is_a_chain_error_naming_the_custom_error(chain: Web3Chain) -> None:
    tree = new_tree(1)
    chain.anchor(tree.root, 1, "cid")
    registry = chain._contract("LegatoRegistry")
    data = registry.encode_abi("anchor", args=[tree.root, 1, "again"])
    with pytest.raises(ChainError) as info:
        chain._tx_sender().transact(to=registry.address, data=bytes.fromhex(data[2:]), key="x", label="again")
    assert info.value.details["revert_error"] == "AlreadyAnchored"
    assert "AlreadyAnchored(0x" + tree.root.hex() in info.value.message


def test_anchor_rejects_malformed_arguments(chain: Web3Chain) -> None:
    with pytest.raises(ValueError):
        chain.anchor(b"\x01" * 31, 1, "cid")
    with pytest.raises(ValueError):
        chain.anchor(os.urandom(32), 0, "cid")


def test_an_account_without_the_anchorer_role_is_refused_until_granted(chain: Web3Chain) -> None:
    helper = Account.create()
    chain._tx_sender().transact(to=helper.address, data=b"", value=10**18, key="fund", label="fund")
    other = Web3Chain(w3=chain.w3, private_key=helper.key, registry_address=chain.registry_address(),
                      license_registry_address=chain.license_registry_address(), poll_interval=0.0)
    tree = new_tree(2)
    with pytest.raises(ChainError, match="not an anchorer"):
        other.anchor(tree.root, 2, "cid")
    chain.set_anchorer(helper.address, True)
    assert other.anchor(tree.root, 2, "cid").leaf_count == 2


def test_deploy_contracts_makes_fresh_registries_whose_owner_grants_roles(chain: Web3Chain) -> None:
    """The public-chain setup of docs/chain.md: deploy once, then hand the roles to other keys."""
    addresses = chain.deploy_contracts()
    assert set(addresses) == {"LegatoRegistry", "LicenseRegistry"}
    assert addresses["LegatoRegistry"] != chain.registry_address()
    deployed = {"registry_address": addresses["LegatoRegistry"],
                "license_registry_address": addresses["LicenseRegistry"], "poll_interval": 0.0}
    fresh = Web3Chain(w3=chain.w3, private_key=chain._account.key, **deployed)
    helper = Account.create()
    chain._tx_sender().transact(to=helper.address, data=b"", value=10**18, key="fund-granter", label="fund")
    other = Web3Chain(w3=chain.w3, private_key=helper.key, **deployed)
    args = license_args(os.urandom(32), 1_700_000_000, 1_800_000_000, False)
    with pytest.raises(ChainError, match="not a granter"):
        other.grant_license(**args)  # type: ignore[arg-type]
    fresh.set_granter(helper.address, True)
    assert other.grant_license(**args).contract == addresses["LicenseRegistry"]  # type: ignore[arg-type]


# --- licenses -----------------------------------------------------------------------------------
def license_args(work: bytes, start: int, end: int, exclusive: bool, media: int = FILM) -> dict[str, object]:
    return {"grant_id": os.urandom(32), "work_id": work, "licensee": Account.create().address,
            "terms_hash": os.urandom(32), "media": media, "start": start, "end": end, "exclusive": exclusive}


def test_grant_license_records_and_reads_back(chain: Web3Chain) -> None:
    args = license_args(os.urandom(32), 1_700_000_000, 1_800_000_000, True)
    receipt = chain.grant_license(**args)  # type: ignore[arg-type]
    g = receipt.grant
    assert (g.grant_id, g.work_id, g.licensee, g.terms_hash, g.media, g.start, g.end, g.exclusive) == tuple(
        args.values())
    assert receipt.contract == chain.license_registry_address()
    assert receipt.block_number == g.block_number
    assert chain.find_grant(g.grant_id) == receipt
    assert chain.grants_of(g.work_id) == [g]
    assert chain.find_grant(os.urandom(32)) is None


def test_grant_license_is_idempotent_on_grant_id(chain: Web3Chain) -> None:
    args = license_args(os.urandom(32), 0, 100, True)
    first = chain.grant_license(**args)  # type: ignore[arg-type]
    before = nonce(chain)
    assert chain.grant_license(**args) == first  # type: ignore[arg-type]
    assert nonce(chain) == before
    with pytest.raises(ChainError, match="different terms"):
        chain.grant_license(**{**args, "end": 200})  # type: ignore[arg-type]


def test_overlapping_exclusive_license_raises_license_overlap(chain: Web3Chain) -> None:
    work = os.urandom(32)
    first = chain.grant_license(**license_args(work, 0, 1000, True))  # type: ignore[arg-type]
    before = nonce(chain)
    for start, end, exclusive in ((500, 1500, True), (999, 2000, False)):
        with pytest.raises(LicenseOverlap) as info:
            chain.grant_license(**license_args(work, start, end, exclusive))  # type: ignore[arg-type]
        assert info.value.code == "LICENSE_OVERLAP"
        assert info.value.details["conflicting_grant_id"] == "0x" + first.grant.grant_id.hex()
    assert nonce(chain) == before  # refused before anything was signed
    chain.grant_license(**license_args(work, 1000, 2000, True))  # type: ignore[arg-type]
    chain.grant_license(**license_args(work, 0, 1000, True, media=AUDIO))  # type: ignore[arg-type]
    assert len(chain.grants_of(work)) == 3


def test_license_arguments_are_validated(chain: Web3Chain) -> None:
    for bad in ({"start": 10, "end": 10}, {"media": 256}, {"licensee": "not-an-address"}):
        with pytest.raises(ValueError):
            chain.grant_license(**{**license_args(os.urandom(32), 0, 10, False), **bad})  # type: ignore[arg-type]
