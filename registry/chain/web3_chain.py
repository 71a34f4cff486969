"""The one chain adapter: the Legato contracts on any EVM chain reached through web3.py.

The same class serves a hosted RPC endpoint, a local dev node (anvil, hardhat, geth --dev) and the embedded
persistent EVM (:func:`registry.chain.embedded.embedded_chain`), so the code path that anchors in tests is
the one that anchors in production. Nothing talks to the node until first use: an adapter for a node that is
down can be built, and reports ``ChainUnavailable`` when asked.

Anchoring is idempotent by root: the contract refuses a second anchor of a root, and this adapter reads an
existing anchor back (``anchorOf`` + the ``Anchored`` event in that one block) before sending anything, so a
batch retried after a lost receipt gets the original anchor. Grants are idempotent by ``grant_id`` likewise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from eth_account import Account
from eth_utils import is_address, to_checksum_address
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from registry.chain.artifacts import LICENSE_REGISTRY, REGISTRY, Artifact, load_artifact
from registry.chain.deployments import STANDARD_DEV_CHAIN_IDS, DeploymentBook, has_code, resolve_address
from registry.chain.protocol import AnchorReceipt, LicenseGrant, LicenseReceipt, SigningKeyRecord
from registry.chain.transactions import TxSender, chain_errors
from registry.errors import ChainError, ChainUnavailable, ConfigurationError, LicenseOverlap

log = logging.getLogger("legato.chain")
RESET_CHECK_SECONDS = 5.0
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1


def _b32(value: bytes, what: str) -> bytes:
    value = bytes(value)
    if len(value) != 32:
        raise ValueError(f"{what} must be 32 bytes, got {len(value)}")
    return value


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


class Web3Chain:
    """The Legato registry and license registry on one chain, with one signing account (or read-only)."""

    def __init__(
        self, *, w3: Web3, private_key: str | bytes | None = None, registry_address: str | None = None,
        license_registry_address: str | None = None, confirmations: int = 0, tx_timeout: float = 120.0,
        state_dir: Path | None = None, name: str | None = None, build_dir: Path | None = None,
        dev_chain_ids: frozenset[int] = STANDARD_DEV_CHAIN_IDS, poll_interval: float = 0.05,
        on_close: Any = None,
    ) -> None:
        self.w3 = w3
        self.name = name or type(w3.provider).__name__
        self._account = Account.from_key(private_key) if private_key else None
        self._configured = {REGISTRY: registry_address, LICENSE_REGISTRY: license_registry_address}
        for address in self._configured.values():
            if address is not None and not is_address(address):
                raise ConfigurationError(f"{address!r} is not an address")
        self.confirmations = confirmations
        self.tx_timeout = tx_timeout
        self.poll_interval = poll_interval
        self._book = DeploymentBook(state_dir)
        self._dev_chain_ids = dev_chain_ids
        self._artifacts = {n: load_artifact(n, build_dir) for n in (REGISTRY, LICENSE_REGISTRY)}
        self._on_close = on_close
        self._lock = threading.RLock()
        self._chain_id: int | None = None
        self._contracts: dict[str, Contract] = {}
        self._code_checked_at: dict[str, float] = {}
        self._sender: TxSender | None = None

    @classmethod
    def from_rpc(cls, url: str, *, private_key: str | bytes | None = None, request_timeout: float = 10.0,
                 **kwargs: Any) -> Web3Chain:
        """An adapter over the JSON-RPC node at ``url``. Without a key it only reads and verifies."""
        retry = ExceptionRetryConfiguration(errors=(requests.ConnectionError, requests.Timeout), retries=2,
                                            backoff_factor=0.1)
        provider = HTTPProvider(url, request_kwargs={"timeout": request_timeout},
                                exception_retry_configuration=retry)
        w3 = Web3(provider)
        # POA chains (clique dev nodes, some testnets, L2s) carry >32 bytes of extraData; harmless elsewhere
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        parts = urlsplit(url)
        # scheme, host and port only: hosted RPC URLs carry API keys in their paths
        port = f":{parts.port}" if parts.port else ""
        kwargs.setdefault("name", f"{parts.scheme}://{parts.hostname}{port}")
        return cls(w3=w3, private_key=private_key, **kwargs)

    # --- identity -----------------------------------------------------------------------------
    @property
    def account(self) -> str | None:
        return self._account.address if self._account else None

    def chain_id(self) -> int:
        if self._chain_id is None:
            with chain_errors("reading the chain id"):
                self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def registry_address(self) -> str:
        return str(self._contract(REGISTRY).address)

    def license_registry_address(self) -> str:
        return str(self._contract(LICENSE_REGISTRY).address)

    # --- anchoring ----------------------------------------------------------------------------
    def anchor(self, root: bytes, leaf_count: int, manifest_cid: str) -> AnchorReceipt:
        root = _b32(root, "root")
        if not 1 <= leaf_count <= UINT32_MAX:
            raise ValueError(f"leaf_count must be 1..{UINT32_MAX}, got {leaf_count}")
        existing = self.find_anchor(root)
        if existing is None:
            registry = self._contract(REGISTRY)
            sender = self._tx_sender()
            with chain_errors("checking the anchorer role"):
                allowed = registry.functions.isAnchorer(sender.account.address).call()
            if not allowed:
                raise ChainError(f"{sender.account.address} is not an anchorer on {registry.address}; the "
                                 "owner must call setAnchorer(account, true)")
            data = registry.encode_abi("anchor", args=[root, leaf_count, manifest_cid])
            try:
                receipt = sender.transact(to=registry.address, data=bytes.fromhex(data[2:]),
                                          key=f"anchor:{root.hex()}", label=f"anchor {_hex(root)[:14]}")
            except ChainError:
                existing = self.find_anchor(root)  # another worker won the race
                if existing is None:
                    raise
                return existing
            if receipt["status"] == 1:
                return self._anchor_from_receipt(root, receipt)
            existing = self.find_anchor(root)
            if existing is None:
                raise ChainError(f"anchor transaction {_hex(receipt['transactionHash'])} reverted",
                                 details={"tx_hash": _hex(receipt["transactionHash"])})
        if existing.leaf_count != leaf_count or existing.manifest_cid != manifest_cid:
            log.warning("root %s was anchored earlier with %s leaves and manifest %s", _hex(root),
                        existing.leaf_count, existing.manifest_cid)
        self._await_depth(existing.block_number)
        confirmed = self.find_anchor(root) if self.confirmations else existing
        if confirmed is None:
            raise ChainUnavailable(f"the anchor of {_hex(root)} was reorganised away; retry")
        return confirmed

    def find_anchor(self, root: bytes) -> AnchorReceipt | None:
        root = _b32(root, "root")
        registry = self._contract(REGISTRY)
        with chain_errors("reading an anchor"):
            timestamp, block_number, _count = registry.functions.anchorOf(root).call()
            if timestamp == 0:
                return None
            event = registry.events.Anchored()
            logs = self.w3.eth.get_logs({
                "address": registry.address, "fromBlock": block_number, "toBlock": block_number,
                "topics": [event.topic, _hex(root)],
            })
            if not logs:
                raise ChainError(f"root {_hex(root)} is anchored in block {block_number} but the node "
                                 "returns no Anchored event there (does it prune logs?)")
            receipt = self.w3.eth.get_transaction_receipt(logs[0]["transactionHash"])
        return self._anchor_from_receipt(root, receipt)

    def _anchor_from_receipt(self, root: bytes, receipt: Any) -> AnchorReceipt:
        registry = self._contract(REGISTRY)
        events = [e for e in registry.events.Anchored().process_receipt(receipt, errors=DISCARD)
                  if bytes(e["args"]["root"]) == root]
        if not events:
            tx_hash = _hex(receipt["transactionHash"])
            raise ChainError(f"transaction {tx_hash} holds no Anchored event for {_hex(root)}")
        args = events[0]["args"]
        return AnchorReceipt(
            root=root, tx_hash=_hex(receipt["transactionHash"]), block_number=int(receipt["blockNumber"]),
            block_timestamp=int(args["timestamp"]), chain_id=self.chain_id(), contract=str(registry.address),
            manifest_cid=str(args["manifestCid"]), leaf_count=int(args["leafCount"]),
            block_hash=_hex(receipt["blockHash"]), gas_used=int(receipt["gasUsed"]),
        )

    def _await_depth(self, block_number: int) -> None:
        """Wait until ``block_number`` has ``confirmations`` blocks on top (for anchors found, not sent)."""
        if self.confirmations <= 0:
            return
        deadline = time.monotonic() + self.tx_timeout
        while True:
            with chain_errors("waiting for confirmations"):
                head = self.w3.eth.block_number
            if head >= block_number + self.confirmations:
                return
            if time.monotonic() >= deadline:
                raise ChainUnavailable(
                    f"block {block_number} is not {self.confirmations} blocks deep yet (head {head})")
            time.sleep(min(2.0, max(self.poll_interval, 0.05)))

    # --- verification -------------------------------------------------------------------------
    def verify(self, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
        return self.contract_verify(self.registry_address(), leaf, proof, root)

    def contract_verify(self, contract: str, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
        registry = self._contract_at(REGISTRY, contract)
        steps = [_b32(p, "proof step") for p in proof]
        with chain_errors(f"calling verify on {contract}"):
            return bool(registry.functions.verify(_b32(leaf, "leaf"), steps, _b32(root, "root")).call())

    def contract_anchored_at(self, contract: str, root: bytes) -> int:
        registry = self._contract_at(REGISTRY, contract)
        with chain_errors(f"calling anchoredAt on {contract}"):
            return int(registry.functions.anchoredAt(_b32(root, "root")).call())

    # --- licenses -----------------------------------------------------------------------------
    def grant_license(
        self, *, grant_id: bytes, work_id: bytes, licensee: str, terms_hash: bytes, media: int, start: int,
        end: int, exclusive: bool,
    ) -> LicenseReceipt:
        grant_id, work_id, terms_hash = (_b32(grant_id, "grant_id"), _b32(work_id, "work_id"),
                                         _b32(terms_hash, "terms_hash"))
        if not is_address(licensee):
            raise ValueError(f"{licensee!r} is not an address")
        licensee = to_checksum_address(licensee)
        if not 0 <= media <= 255 or not 0 <= start < end <= UINT64_MAX:
            raise ValueError("media is 0..255 and the period 0 <= start < end < 2**64")
        wanted = (work_id, licensee, terms_hash, media, start, end, exclusive)
        existing = self.find_grant(grant_id)
        if existing is None:
            registry = self._contract(LICENSE_REGISTRY)
            sender = self._tx_sender()
            with chain_errors("checking the granter role"):
                allowed = registry.functions.isGranter(sender.account.address).call()
            if not allowed:
                raise ChainError(f"{sender.account.address} is not a granter on {registry.address}")
            self._refuse_overlap(registry, work_id, media, start, end, exclusive)
            data = registry.encode_abi("grant", args=[grant_id, *wanted])
            try:
                receipt = sender.transact(to=registry.address, data=bytes.fromhex(data[2:]),
                                          key=f"grant:{grant_id.hex()}", label=f"grant {_hex(grant_id)[:14]}")
            except ChainError:
                if (existing := self.find_grant(grant_id)) is None:
                    self._refuse_overlap(registry, work_id, media, start, end, exclusive)
                    raise
            else:
                existing = self.find_grant(grant_id)
                if existing is None:
                    self._refuse_overlap(registry, work_id, media, start, end, exclusive)
                    raise ChainError(f"grant transaction {_hex(receipt['transactionHash'])} reverted",
                                     details={"tx_hash": _hex(receipt["transactionHash"])})
        g = existing.grant
        if (g.work_id, g.licensee, g.terms_hash, g.media, g.start, g.end, g.exclusive) != wanted:
            raise ChainError(f"grant {_hex(grant_id)} exists on chain with different terms",
                             details={"grant_id": _hex(grant_id)})
        self._await_depth(existing.block_number)
        return existing

    def _refuse_overlap(self, registry: Contract, work_id: bytes, media: int, start: int, end: int,
                        exclusive: bool) -> None:
        with chain_errors("checking for overlapping licenses"):
            found, conflicting = registry.functions.findConflict(work_id, media, start, end, exclusive).call()
        if found:
            raise LicenseOverlap(
                f"the license overlaps grant {_hex(conflicting)} on the same work and medium",
                details={"conflicting_grant_id": _hex(conflicting), "work_id": _hex(work_id), "media": media},
            )

    def find_grant(self, grant_id: bytes) -> LicenseReceipt | None:
        grant_id = _b32(grant_id, "grant_id")
        registry = self._contract(LICENSE_REGISTRY)
        with chain_errors("reading a grant"):
            if not registry.functions.hasGrant(grant_id).call():
                return None
            grant = LicenseGrant.from_contract(registry.functions.getGrant(grant_id).call())
            event = registry.events.LicenseGranted()
            logs = self.w3.eth.get_logs({
                "address": registry.address, "fromBlock": grant.block_number, "toBlock": grant.block_number,
                "topics": [event.topic, _hex(grant_id)],
            })
            if not logs:
                raise ChainError(
                    f"grant {_hex(grant_id)} has no LicenseGranted event in block {grant.block_number}")
            receipt = self.w3.eth.get_transaction_receipt(logs[0]["transactionHash"])
        return LicenseReceipt(
            grant=grant, tx_hash=_hex(receipt["transactionHash"]), block_number=int(receipt["blockNumber"]),
            block_timestamp=grant.granted_at, chain_id=self.chain_id(), contract=str(registry.address),
            gas_used=int(receipt["gasUsed"]),
        )

    def grants_of(self, work_id: bytes) -> list[LicenseGrant]:
        registry = self._contract(LICENSE_REGISTRY)
        with chain_errors("listing grants"):
            raw = registry.functions.grantsOf(_b32(work_id, "work_id")).call()
        return [LicenseGrant.from_contract(g) for g in raw]

    # --- platform signing keys ----------------------------------------------------------------
    def signing_key_record(self, contract: str, key_hash: bytes) -> SigningKeyRecord:
        """What the registry at ``contract`` says about the key whose public key hashes to ``key_hash``."""
        registry = self._contract_at(REGISTRY, contract)
        with chain_errors(f"reading signing key {_hex(key_hash)[:18]} at {contract}"):
            raw = registry.functions.signingKey(_b32(key_hash, "key_hash")).call()
        return SigningKeyRecord(*(int(v) for v in raw))

    def authorize_signing_key(self, key_hash: bytes) -> SigningKeyRecord:
        """Owner only. Idempotent: a key already authorized is read back, not sent again."""
        return self._key_call("authorizeSigningKey", key_hash, done=lambda r: r.authorized_block > 0)

    def retire_signing_key(self, key_hash: bytes) -> SigningKeyRecord:
        """Owner only. Idempotent like :meth:`authorize_signing_key`."""
        return self._key_call("retireSigningKey", key_hash, done=lambda r: r.retired_block > 0)

    def _key_call(self, function: str, key_hash: bytes, *,
                  done: Callable[[SigningKeyRecord], bool]) -> SigningKeyRecord:
        key_hash = _b32(key_hash, "key_hash")
        address = self.registry_address()
        record = self.signing_key_record(address, key_hash)
        if done(record):
            return record
        contract = self._contract(REGISTRY)
        data = contract.encode_abi(function, args=[key_hash])
        try:
            receipt = self._tx_sender().transact(to=contract.address, data=bytes.fromhex(data[2:]),
                                                 key=f"{function}:{key_hash.hex()}", label=function)
        except ChainError:
            record = self.signing_key_record(address, key_hash)
            if done(record):  # another process sent it first
                return record
            raise
        record = self.signing_key_record(address, key_hash)
        if receipt["status"] != 1 or not done(record):
            raise ChainError(f"{function} reverted (is {self.account} the owner of {address}?)",
                             details={"tx_hash": _hex(receipt["transactionHash"])})
        return record

    # --- roles (the owner's key) --------------------------------------------------------------
    def set_anchorer(self, account: str, allowed: bool) -> str:
        return self._owner_call(REGISTRY, "setAnchorer", account, allowed)

    def set_granter(self, account: str, allowed: bool) -> str:
        return self._owner_call(LICENSE_REGISTRY, "setGranter", account, allowed)

    def _owner_call(self, name: str, function: str, account: str, allowed: bool) -> str:
        contract = self._contract(name)
        data = contract.encode_abi(function, args=[to_checksum_address(account), allowed])
        receipt = self._tx_sender().transact(to=contract.address, data=bytes.fromhex(data[2:]),
                                             key=f"{function}:{account}:{allowed}", label=function)
        if receipt["status"] != 1:
            raise ChainError(f"{function} reverted (is {self.account} the owner of {contract.address}?)")
        return _hex(receipt["transactionHash"])

    # --- health -------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        with chain_errors("health check"):
            status: dict[str, Any] = {
                "name": self.name, "chain_id": self.chain_id(), "block_number": int(self.w3.eth.block_number),
                "account": self.account, "confirmations": self.confirmations,
            }
            if self._account is not None:
                status["balance_wei"] = int(self.w3.eth.get_balance(self._account.address))
        registry = self._contract(REGISTRY)
        status["registry"] = str(registry.address)
        status["license_registry"] = self.license_registry_address()
        if self._account is not None:
            with chain_errors("health check"):
                status["is_anchorer"] = bool(registry.functions.isAnchorer(self._account.address).call())
        return status

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> Web3Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- contracts ----------------------------------------------------------------------------
    def _tx_sender(self) -> TxSender:
        if self._account is None:
            raise ConfigurationError(f"the chain {self.name} was opened without a private key (read-only)")
        with self._lock:
            if self._sender is None:
                self._sender = TxSender(w3=self.w3, account=self._account, chain_id=self.chain_id(),
                                        confirmations=self.confirmations, timeout=self.tx_timeout,
                                        poll_interval=self.poll_interval,
                                        artifacts=self._artifacts.values())
            return self._sender

    def _contract_at(self, name: str, address: str) -> Contract:
        if not is_address(address):
            raise ChainError(f"{address!r} is not an address")
        return self.w3.eth.contract(address=to_checksum_address(address), abi=self._artifacts[name].abi)

    def _contract(self, name: str) -> Contract:
        with self._lock:
            if name in self._contracts and self._configured[name] is None and self._dev_node_was_reset(name):
                log.warning("%s vanished from %s (the dev node was reset); deploying again", name, self.name)
                del self._contracts[name]
            if name not in self._contracts:
                address = resolve_address(
                    w3=self.w3, name=name, configured=self._configured[name], chain_id=self.chain_id(),
                    dev_chain_ids=self._dev_chain_ids, book=self._book,
                    deploy=lambda: self._deploy(self._artifacts[name]), deployer=self.account,
                )
                self._contracts[name] = self._contract_at(name, address)
                self._code_checked_at[name] = time.monotonic()
            return self._contracts[name]

    def _dev_node_was_reset(self, name: str) -> bool:
        """A dev node (hardhat, anvil) restarted from its deterministic genesis looks like the same chain
        but has lost every contract. Contracts Legato deployed itself are re-checked for code at most every
        ``RESET_CHECK_SECONDS``, so a reset is noticed and they are deployed again."""
        now = time.monotonic()
        if now - self._code_checked_at.get(name, 0.0) < RESET_CHECK_SECONDS:
            return False
        self._code_checked_at[name] = now
        return not has_code(self.w3, self._contracts[name].address)

    def _deploy(self, artifact: Artifact) -> str:
        if self._account is None:
            raise ConfigurationError(f"{artifact.name} is not deployed here and there is no key to deploy it")
        receipt = self._tx_sender().transact(to=None, data=bytes.fromhex(artifact.bytecode[2:]),
                                             key=f"deploy:{artifact.name}", label=f"deploy {artifact.name}")
        if receipt["status"] != 1 or not receipt.get("contractAddress"):
            raise ChainError(f"deploying {artifact.name} failed in {_hex(receipt['transactionHash'])}")
        address = str(receipt["contractAddress"])
        log.info("deployed %s at %s on chain %s (%s)", artifact.name, address, self.chain_id(), self.name)
        return address

    def deploy_contracts(self) -> dict[str, str]:
        """Deploy both contracts afresh (a public chain's first setup, docs/chain.md); their addresses."""
        return {name: self._deploy(artifact) for name, artifact in self._artifacts.items()}
