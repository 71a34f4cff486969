"""A dev node restarted from its deterministic genesis (hardhat, anvil) loses every contract while
looking like the same chain: the adapter notices and deploys again instead of failing forever."""

from __future__ import annotations

import time

from registry.chain import web3_chain as web3_chain_module
from registry.chain.embedded import memory_chain


def test_contracts_redeployed_after_the_dev_node_is_reset(monkeypatch):
    monkeypatch.setattr(web3_chain_module, "RESET_CHECK_SECONDS", 0.0)
    chain = memory_chain()
    tester = chain.w3.provider.ethereum_tester
    genesis_snapshot = tester.take_snapshot()
    first = chain.registry_address()
    chain.anchor(b"\x01" * 32, 1, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")

    tester.revert_to_snapshot(genesis_snapshot)  # the node restarts: same genesis, no contracts
    assert chain.w3.eth.get_code(first) == b""
    time.sleep(0.01)
    receipt = chain.anchor(b"\x02" * 32, 1, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    assert chain.w3.eth.get_code(receipt.contract) != b""
    assert chain.find_anchor(b"\x02" * 32) is not None
    chain.close()
