"""LegatoRegistry's record of the platform's signing keys: owner-only authorization and retirement, with
events and block numbers a verifier compares to an anchor's block; and the adapter's idempotent calls."""

from __future__ import annotations

import hashlib
import os

import pytest
from test_contracts import _deploy, reverts_with
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from registry.chain.artifacts import REGISTRY
from registry.chain.embedded import memory_chain


@pytest.fixture(scope="module")
def w3() -> Web3:
    return Web3(EthereumTesterProvider())


@pytest.fixture(scope="module")
def accounts(w3: Web3) -> list[str]:
    return list(w3.eth.accounts)


@pytest.fixture(scope="module")
def registry(w3: Web3, accounts: list[str]) -> Contract:
    return _deploy(w3, REGISTRY, accounts[0])


def fresh_key() -> bytes:
    return hashlib.sha256(os.urandom(32)).digest()


def test_owner_authorizes_then_retires_with_events_and_blocks(w3, registry, accounts):
    key = fresh_key()
    assert registry.functions.signingKey(key).call() == [0, 0, 0, 0]
    receipt = w3.eth.get_transaction_receipt(
        registry.functions.authorizeSigningKey(key).transact({"from": accounts[0]}))
    block = w3.eth.get_block(receipt["blockNumber"])
    (event,) = registry.events.SigningKeyAuthorized().process_receipt(receipt)
    assert event["args"]["keyHash"] == key and event["args"]["timestamp"] == block["timestamp"]
    assert registry.functions.signingKey(key).call() == [block["timestamp"], block["number"], 0, 0]
    retired = w3.eth.get_transaction_receipt(
        registry.functions.retireSigningKey(key).transact({"from": accounts[0]}))
    (event,) = registry.events.SigningKeyRetired().process_receipt(retired)
    at = w3.eth.get_block(retired["blockNumber"])
    assert registry.functions.signingKey(key).call() == [
        block["timestamp"], block["number"], at["timestamp"], at["number"]]


def test_only_the_owner_authorizes_or_retires(registry, accounts):
    key = fresh_key()
    caller = {"from": accounts[1]}
    authorize = registry.functions.authorizeSigningKey(key)
    args = reverts_with("NotOwner", REGISTRY, lambda: authorize.transact(caller))
    assert args[0].lower() == accounts[1].lower()
    registry.functions.authorizeSigningKey(key).transact({"from": accounts[0]})
    reverts_with("NotOwner", REGISTRY, lambda: registry.functions.retireSigningKey(key).transact(caller))


def test_a_key_is_authorized_once_retired_once_and_never_unretired(registry, accounts):
    key, owner = fresh_key(), {"from": accounts[0]}
    reverts_with("KeyNotAuthorized", REGISTRY,
                 lambda: registry.functions.retireSigningKey(key).transact(owner))
    registry.functions.authorizeSigningKey(key).transact(owner)
    reverts_with("KeyAlreadyAuthorized", REGISTRY,
                 lambda: registry.functions.authorizeSigningKey(key).transact(owner))
    registry.functions.retireSigningKey(key).transact(owner)
    reverts_with("KeyAlreadyRetired", REGISTRY,
                 lambda: registry.functions.retireSigningKey(key).transact(owner))
    reverts_with("KeyAlreadyAuthorized", REGISTRY,
                 lambda: registry.functions.authorizeSigningKey(key).transact(owner))
    reverts_with("EmptyRoot", REGISTRY,
                 lambda: registry.functions.authorizeSigningKey(b"\0" * 32).transact(owner))


def test_the_adapter_is_idempotent_and_reads_back():
    chain = memory_chain()
    key = fresh_key()
    first = chain.authorize_signing_key(key)
    height = chain.w3.eth.block_number
    assert chain.authorize_signing_key(key) == first and chain.w3.eth.block_number == height  # nothing sent
    retired = chain.retire_signing_key(key)
    assert retired.retired_block > first.authorized_block
    assert chain.retire_signing_key(key) == retired
    assert chain.signing_key_record(chain.registry_address(), key) == retired
    chain.close()
