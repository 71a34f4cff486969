"""The forgeries of test_hostile_trust_origin.py on a real JSON-RPC node: Hardhat, as installed from npm
into ``.tools/`` by scripts/_setup.sh (or any dev node at ``LEGATO_TEST_RPC_URL`` with Hardhat's default
accounts). Foreign key, foreign contract (deployed by another account), swapped id and retired key each
fail ``origin``; the genuine certificate passes with only the trust document and the RPC URL.

Skipped when neither is available (no npm on the machine); nothing is downloaded at run time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from factories import chapter_text

from registry import certificate as cert_mod
from registry.certificate_verify import verify_certificate
from registry.chain.web3_chain import Web3Chain
from registry.service import Author
from registry.signing import PlatformKey, new_key_pem
from registry.signing_keys import key_hash
from registry.trust import Trust

TOOLS = Path(__file__).resolve().parents[2] / ".tools"
HARDHAT = TOOLS / "node_modules" / ".bin" / "hardhat"
# Hardhat's well-known development accounts #0 (the platform) and #1 (a forger): public test keys.
PLATFORM_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
FORGER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
AUTHOR = Author(id="u-hardhat", display_name="Amina Yusuf")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        r = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                          timeout=2)
        return r.ok and "result" in r.json()
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def rpc_url(tmp_path_factory):
    external = os.environ.get("LEGATO_TEST_RPC_URL")
    if external:
        yield external
        return
    if not HARDHAT.exists():
        pytest.skip("no JSON-RPC node: npm is needed for scripts/_setup.sh to install Hardhat into .tools/")
    config = TOOLS / "hardhat.config.js"  # Hardhat runs only from the directory it is installed in
    if not config.exists():
        config.write_text("module.exports = {};\n")
    logs = tmp_path_factory.mktemp("hardhat")
    node, url = None, ""
    for attempt in range(3):  # another xdist worker's node may take the port between probe and bind
        port = _free_port()
        log = (logs / f"node-{attempt}.log").open("w")
        node = subprocess.Popen([str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port", str(port)],
                                cwd=TOOLS, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while node.poll() is None and time.monotonic() < deadline and not _started(logs / log.name):
            time.sleep(0.5)
        log.close()
        if node.poll() is None and _started(logs / log.name) and _answers(url):
            break
        _stop(node)
        node = None
    if node is None:
        pytest.fail(f"the Hardhat node did not start (see {logs})")
    try:
        yield url
    finally:
        _stop(node)


def _started(log: Path) -> bool:
    """Our own node printed that it listens (not merely: something answers on that port)."""
    return "Started HTTP and WebSocket JSON-RPC server" in log.read_text(errors="replace")


def _stop(node: subprocess.Popen[bytes]) -> None:
    if node.poll() is None:
        os.killpg(node.pid, signal.SIGTERM)
    node.wait(timeout=30)


@pytest.fixture(scope="module")
def deployment(rpc_url, tmp_path_factory, engine):
    """A deployment whose chain is the node: contracts deployed and keys authorized through JSON-RPC."""
    from conftest import make_settings

    from api.wiring import Container

    data = tmp_path_factory.mktemp("hardhat-data")
    container = Container(make_settings(data), engine=engine)
    container.chain = Web3Chain.from_rpc(rpc_url, private_key=PLATFORM_KEY, state_dir=data / "chain")
    yield container
    container.close()


def _issue(container, session, session_factory, seed: int, *, anchor: bool = True) -> bytes:
    reg = container.registry.register(session, text=chapter_text(seed), title="Node", author=AUTHOR)
    session.commit()
    if anchor:
        container.anchorer.run_once(session_factory, force=True)
    return bytes(container.registry.latest_certificate(session, reg.registration.certificate_id).body)


def _resign(doc: dict, key) -> bytes:
    return cert_mod.serialize(cert_mod.sign({k: v for k, v in doc.items() if k != "signature"}, key))


def _stranger(rpc_url: str, deployment) -> tuple[Trust, Web3Chain]:
    """What a stranger has: the published trust document and a read-only view of the node."""
    return Trust.parse(deployment.trust().to_bytes()), Web3Chain.from_rpc(rpc_url)


def test_genuine_passes_and_foreign_key_fails_over_hardhat(rpc_url, deployment, session, session_factory):
    deployment.session_factory = session_factory
    body = _issue(deployment, session, session_factory, 7600)
    trust, node = _stranger(rpc_url, deployment)
    assert trust.chain_id == 31337
    report = verify_certificate(body, trust=trust, chain=node)
    assert report.ok, report.first_failure
    assert {r.check: r.status for r in report.results}["chain"] == "pass"
    forged = json.loads(body)
    forged["author"]["display_name"] = "Mallory Forger"
    report = verify_certificate(_resign(forged, PlatformKey.from_pem(new_key_pem())), trust=trust, chain=node)
    assert report.first_failure.check == "origin" and "does not list" in report.first_failure.detail


def test_foreign_contract_and_swapped_id_fail_over_hardhat(rpc_url, deployment, session, session_factory):
    deployment.session_factory = session_factory
    body = _issue(deployment, session, session_factory, 7601)
    doc = json.loads(body)
    rogue = Web3Chain.from_rpc(rpc_url, private_key=FORGER_KEY)  # another account, its own registry
    receipt = rogue.anchor(bytes.fromhex(doc["anchor"]["merkle_root"][2:]), 1, doc["anchor"]["manifest_cid"])
    assert receipt.contract != deployment.chain.registry_address()
    doc["anchor"].update(contract=receipt.contract, tx_hash=receipt.tx_hash,
                         block_number=receipt.block_number, block_timestamp=receipt.block_timestamp)
    trust, node = _stranger(rpc_url, deployment)
    report = verify_certificate(_resign(doc, deployment.signer), trust=trust, chain=node)
    assert {r.check: r.status for r in report.results}["chain"] == "pass"
    assert report.first_failure.check == "origin" and "not the platform's" in report.first_failure.detail
    swapped = json.loads(body)
    swapped["work"]["title"] = "Another Title"
    report = deployment.verify_certificate(_resign(swapped, deployment.signer), None, None)
    assert report.first_failure.check == "origin" and "other bytes" in report.first_failure.detail


def test_retired_key_fails_after_retirement_over_hardhat(rpc_url, deployment, session, session_factory):
    deployment.session_factory = session_factory
    old_key = deployment.signer.current()
    before = _issue(deployment, session, session_factory, 7602, anchor=False)
    deployment.signer.rotate()
    deployment.signer.sync_chain(deployment.chain)
    record = deployment.chain.signing_key_record(deployment.chain.registry_address(),
                                                 key_hash(old_key.public_raw))
    assert record.retired_block > record.authorized_block > 0
    after = _issue(deployment, session, session_factory, 7603)
    trust, node = _stranger(rpc_url, deployment)
    assert verify_certificate(before, trust=trust, chain=node).ok  # signed before the rotation
    assert verify_certificate(after, trust=trust, chain=node).ok
    late = json.loads(before)
    late["issued_at"] = cert_mod.iso_utc(datetime.now(UTC) + timedelta(seconds=1))
    report = verify_certificate(_resign(late, old_key), trust=trust, chain=node)
    assert report.first_failure.check == "origin" and "retired" in report.first_failure.detail
    # By registry alone: a certificate the retired key signed and that was anchored after its retirement.
    anchored = json.loads(after)
    pin = Trust(registry=deployment.chain.registry_address(), chain_id=31337, source="pinned registry")
    report = verify_certificate(_resign(anchored, old_key), trust=pin, chain=node)
    assert report.first_failure.check == "origin" and "retired in block" in report.first_failure.detail
