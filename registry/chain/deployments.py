"""Where the Legato contracts live on dev chains that were given no address: ``<state_dir>/deployments.json``.

On a development chain (hardhat/anvil 31337, geth --dev/ganache 1337, eth-tester, the embedded chain) the
adapter deploys both contracts on first use and writes their addresses here, keyed by chain id *and*
genesis hash — a restarted hardhat node keeps its chain id but is a new chain, and a recorded address with
no code behind it is simply deployed again. Public chains never deploy implicitly: they need configured
addresses. An exclusive ``flock`` around check-deploy-record keeps two processes from deploying twice.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from registry.chain.transactions import chain_errors
from registry.errors import ChainError, ConfigurationError

STANDARD_DEV_CHAIN_IDS = frozenset({31337, 1337, 131277322940537})
FILE_NAME = "deployments.json"


class DeploymentBook:
    """The JSON file of dev-chain deployments; ``path=None`` keeps them in memory (ephemeral chains)."""

    def __init__(self, state_dir: Path | None) -> None:
        self.path = state_dir / FILE_NAME if state_dir is not None else None
        self._memory: dict[str, Any] = {}

    @staticmethod
    def key(chain_id: int, genesis_hash: str) -> str:
        return f"{chain_id}:{genesis_hash.lower()}"

    def read(self) -> dict[str, Any]:
        if self.path is None:
            return self._memory
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def get(self, chain_id: int, genesis_hash: str) -> dict[str, Any]:
        return dict(self.read().get(self.key(chain_id, genesis_hash), {}))

    def put(self, chain_id: int, genesis_hash: str, record: dict[str, Any]) -> None:
        book = self.read()
        book[self.key(chain_id, genesis_hash)] = record
        if self.path is None:
            self._memory = book
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(book, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def has_code(w3: Web3, address: str) -> bool:
    with chain_errors(f"reading the code at {address}"):
        return len(w3.eth.get_code(to_checksum_address(address))) > 0


def resolve_address(
    *, w3: Web3, name: str, configured: str | None, chain_id: int, dev_chain_ids: frozenset[int],
    book: DeploymentBook, deploy: Callable[[], str], deployer: str | None,
) -> str:
    """The address of contract ``name``: the configured one (which must hold code), else on a dev chain the
    one recorded in ``book`` — deployed now with ``deploy()`` if there is none or its code is gone."""
    if configured is not None:
        if not has_code(w3, configured):
            raise ChainError(f"no contract code at the configured {name} address {configured} "
                             f"on chain {chain_id}")
        return configured
    if chain_id not in dev_chain_ids:
        env = "LEGATO_REGISTRY_ADDRESS" if name == "LegatoRegistry" else "LEGATO_LICENSE_REGISTRY_ADDRESS"
        raise ConfigurationError(f"no {name} address configured for chain {chain_id} (set {env}); "
                                 "contracts are deployed implicitly only on dev chains")
    with chain_errors("reading the genesis block"):
        genesis = "0x" + bytes(w3.eth.get_block(0)["hash"]).hex()
    with book.locked():
        record = book.get(chain_id, genesis)
        address = record.get(name)
        if address is None or not has_code(w3, address):
            address = deploy()
            record[name] = address
            record.setdefault("deployer", deployer)
            book.put(chain_id, genesis, record)
    return str(address)
