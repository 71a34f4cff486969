"""How the chain adapter fails and recovers: unreachable or broken nodes, missing configuration, and the
transaction machinery a real node needs (resending a forgotten transaction, replacing a stuck one with higher
fees, losing a nonce race, legacy gas pricing, POA block headers).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.providers.base import BaseProvider

from registry.chain.embedded import memory_chain
from registry.chain.transactions import TxSender
from registry.chain.web3_chain import Web3Chain
from registry.errors import ChainError, ChainUnavailable, ConfigurationError


@pytest.fixture
def chain() -> Iterator[Web3Chain]:
    c = memory_chain()
    c.registry_address()
    yield c
    c.close()


# --- nodes that are down or broken --------------------------------------------------------------
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_node_is_chain_unavailable_for_every_call_and_fails_fast() -> None:
    chain = Web3Chain.from_rpc(f"http://127.0.0.1:{closed_port()}", private_key=Account.create().key)
    start = time.monotonic()
    for call in (chain.health, chain.chain_id, lambda: chain.anchor(os.urandom(32), 1, "cid"),
                 lambda: chain.find_anchor(os.urandom(32))):
        with pytest.raises(ChainUnavailable) as info:
            call()
        assert info.value.code == "CHAIN_UNAVAILABLE"
    assert time.monotonic() - start < 5


def test_a_node_that_never_answers_times_out_as_chain_unavailable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        chain = Web3Chain.from_rpc(f"http://127.0.0.1:{port}", request_timeout=0.3)
        with pytest.raises(ChainUnavailable):
            chain.chain_id()


class _Scripted(BaseHTTPRequestHandler):
    """A JSON-RPC endpoint answering from ``server.answers`` (method → result), or with an HTTP status."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, answers = self.server.status, self.server.answers  # type: ignore[attr-defined]
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": answers.get(request["method"])})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def scripted_node() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Scripted)
    server.status, server.answers = 200, {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_a_node_answering_http_500_is_chain_unavailable(scripted_node: HTTPServer) -> None:
    scripted_node.status = 500  # type: ignore[attr-defined]
    chain = Web3Chain.from_rpc(f"http://127.0.0.1:{scripted_node.server_port}")
    with pytest.raises(ChainUnavailable, match="500"):
        chain.chain_id()


def test_rpc_chains_read_poa_blocks_and_hide_url_paths(scripted_node: HTTPServer) -> None:
    block = {"number": "0x5", "hash": "0x" + "ab" * 32, "parentHash": "0x" + "00" * 32,
             "extraData": "0x" + "11" * 97, "timestamp": "0x1", "gasLimit": "0x1", "gasUsed": "0x0",
             "transactions": []}
    scripted_node.answers = {"eth_getBlockByNumber": block, "eth_chainId": "0x539"}  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{scripted_node.server_port}/v3/secret-api-key"
    chain = Web3Chain.from_rpc(url)
    assert chain.w3.eth.get_block("latest")["proofOfAuthorityData"] == bytes([0x11] * 97)
    assert chain.chain_id() == 1337
    assert "secret" not in chain.name


class _LegacyNode(BaseProvider):
    """A pre-London node: no base fee in its blocks, no eth_maxPriorityFeePerGas."""

    def make_request(self, method: Any, params: Any) -> Any:
        results = {"eth_getBlockByNumber": {"number": "0x1", "hash": "0x" + "00" * 32},
                   "eth_gasPrice": "0x3b9aca00"}
        return {"jsonrpc": "2.0", "id": 1, "result": results[method]}


def test_fees_are_legacy_gas_price_without_a_base_fee_and_1559_with_one(chain: Web3Chain) -> None:
    legacy = TxSender(w3=Web3(_LegacyNode()), account=Account.create(), chain_id=1, confirmations=0,
                      timeout=1)
    assert legacy._fees() == {"gasPrice": 10**9}
    fees = chain._tx_sender()._fees()
    base = chain.w3.eth.get_block("latest")["baseFeePerGas"]
    assert fees["type"] == 2
    assert fees["maxFeePerGas"] == 2 * base + fees["maxPriorityFeePerGas"]


# --- configuration ------------------------------------------------------------------------------
def test_a_public_chain_without_configured_addresses_is_a_configuration_error() -> None:
    plain = memory_chain()
    public = Web3Chain(w3=plain.w3, private_key=plain._account.key, dev_chain_ids=frozenset())  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError, match="LEGATO_REGISTRY_ADDRESS"):
        public.registry_address()


def test_a_configured_address_without_code_is_a_chain_error(chain: Web3Chain) -> None:
    empty = Account.create().address
    wrong = Web3Chain(w3=chain.w3, registry_address=empty, license_registry_address=empty)
    with pytest.raises(ChainError, match="no contract code"):
        wrong.find_anchor(os.urandom(32))
    with pytest.raises(ConfigurationError):
        Web3Chain(w3=chain.w3, registry_address="0x1234")


def test_a_chain_without_a_key_reads_but_cannot_write(chain: Web3Chain) -> None:
    root = os.urandom(32)
    chain.anchor(root, 1, "cid")
    reader = Web3Chain(w3=chain.w3, registry_address=chain.registry_address(),
                       license_registry_address=chain.license_registry_address())
    assert reader.find_anchor(root) == chain.find_anchor(root)
    assert reader.contract_anchored_at(chain.registry_address(), root) > 0
    with pytest.raises(ConfigurationError, match="read-only"):
        reader.anchor(os.urandom(32), 1, "cid")


# --- transactions on a real node ----------------------------------------------------------------
def test_a_transaction_the_node_forgot_is_resent_as_the_same_signed_bytes(
    chain: Web3Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = chain._tx_sender()
    sender.resend_after = 0.05
    real_send = sender._send_raw
    sent: list[bytes] = []

    def forgetful(raw: bytes) -> None:
        sent.append(raw)
        if len(sent) > 1:  # the first one is "accepted" and then dropped by the node
            real_send(raw)

    monkeypatch.setattr(sender, "_send_raw", forgetful)
    receipt = chain.anchor(os.urandom(32), 1, "cid")
    assert len(sent) == 2 and sent[0] == sent[1]
    assert receipt.tx_hash == "0x" + Web3.keccak(sent[0]).hex()


def test_a_stuck_transaction_is_replaced_with_higher_fees_on_the_same_nonce(
    chain: Web3Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    tester = chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    sender = chain._tx_sender()
    sender.timeout = 0.3
    root = os.urandom(32)
    start_nonce = chain.w3.eth.get_transaction_count(chain.account)  # type: ignore[arg-type]
    tester.disable_auto_mine_transactions()
    try:
        with pytest.raises(ChainUnavailable) as info:
            chain.anchor(root, 1, "cid")  # sent, never mined
        first_hash = info.value.details["tx_hash"]
        (flight,) = sender._in_flight.values()
        first_fee = flight.fields["maxFeePerGas"]
        time.sleep(0.35)  # pending for a whole timeout
        real_wait = sender._wait

        def mine_then_wait(flight: Any, label: str) -> Any:
            tester.mine_blocks()
            return real_wait(flight, label)

        monkeypatch.setattr(sender, "_wait", mine_then_wait)
        receipt = chain.anchor(root, 1, "cid")
    finally:
        tester.enable_auto_mine_transactions()
    assert receipt.tx_hash != first_hash
    assert receipt.tx_hash == flight.hashes[-1] and len(flight.hashes) == 2
    assert flight.fields["maxFeePerGas"] >= first_fee * 1.125
    assert chain.w3.eth.get_transaction_count(chain.account) == start_nonce + 1  # type: ignore[arg-type]
    assert sender._in_flight == {}


def test_a_nonce_taken_by_another_sender_is_retried_with_a_fresh_one(
    chain: Web3Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_count = chain.w3.eth.get_transaction_count
    calls = {"n": 0}

    def stale(account: Any, block: Any = "latest") -> int:
        calls["n"] += 1
        fresh = real_count(account, block)
        return fresh - 1 if calls["n"] == 1 else fresh  # another process just used this nonce

    monkeypatch.setattr(chain.w3.eth, "get_transaction_count", stale)
    receipt = chain.anchor(os.urandom(32), 1, "cid")
    assert receipt.leaf_count == 1
    assert calls["n"] >= 2
