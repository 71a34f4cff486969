"""The embedded chain: an in-process EVM whose blocks live in ``<data dir>/chain/`` and survive restarts.

It is a real chain, not a stand-in: py-evm executes the same contract bytecode a public node would, every
transaction is mined into its own block (timestamped with the wall clock), and the chain is reached through
web3.py's ``EthereumTesterProvider`` — so :class:`~registry.chain.web3_chain.Web3Chain` talks to it exactly as
to any JSON-RPC node. What is specific here:

* Persistence: py-evm's database is :class:`~registry.chain.kvstore.SqliteKV`, committed once per mined
  block, and on start the chain resumes from the stored canonical head instead of a fresh genesis.
  A root anchored before a restart is still anchored after it, in the same block with the same timestamp.
* The funded account is generated on first start and kept in ``chain/embedded-account.key`` (0600); no
  well-known test key ever holds the deployer or anchorer role.
* Single process: the owning process holds an exclusive ``flock`` on ``chain/LOCK`` while the chain is
  open; a second opener gets :class:`ChainUnavailable`. Other processes may open it ``read_only`` (for
  ``legato verify``): they see every block committed so far and cannot send transactions.
* Threads: every JSON-RPC request runs under one lock, since py-evm and eth-tester are not thread-safe.
* No time travel, snapshots or reset: the chain is append-only.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.estimators.gas import binary_gas_search_intrinsic_tolerance
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.forks import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_account import Account
from eth_tester import EthereumTester
from eth_tester.backends.pyevm.main import (
    PyEVMBackend,
    _get_block_by_number,
    get_default_account_state,
    get_default_genesis_params,
)
from eth_tester.backends.pyevm.serializers import serialize_transaction, serialize_transaction_receipt
from eth_tester.exceptions import TransactionFailed, TransactionNotFound
from eth_utils.toolz import assoc
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.providers.eth_tester.defaults import API_ENDPOINTS, static_return

from registry.chain.deployments import STANDARD_DEV_CHAIN_IDS
from registry.chain.kvstore import SqliteKV
from registry.chain.web3_chain import Web3Chain
from registry.errors import ChainUnavailable
from registry.keystore import read_or_create_secret

# "LEG" in ASCII. Distinct from eth-tester's 131277322940537 so a certificate names the embedded chain.
EMBEDDED_CHAIN_ID = 4998471
FORMAT_VERSION = "1"
FORK = "prague"
DB_FILE = "evm.sqlite3"
KEY_FILE = "embedded-account.key"
LOCK_FILE = "LOCK"


def _estimate_gas(state: Any, transaction: Any) -> int:
    """Gas for ``transaction`` from one run at the block limit, confirmed by a second at the estimate.

    py-evm's default binary search executes a transaction about a dozen times, which made estimation half the
    cost of an embedded anchor. The estimate adds the 1/64 that EIP-150 withholds from nested calls and is
    at least Prague's calldata floor (EIP-7623, which py-evm charges after execution); if the confirming run
    fails anyway, fall back to the binary search.
    """
    full = SpoofTransaction(transaction, gas=state.gas_limit, gas_price=0)
    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(full)
    finally:
        state.revert(snapshot)
    if computation.is_error:
        raise computation.error
    executed = (transaction.intrinsic_gas + computation.get_gas_used()) * 64 // 63 + 1
    estimate = min(state.gas_limit, max(executed, _calldata_floor(transaction.data)))
    snapshot = state.snapshot()
    try:
        trial = SpoofTransaction(transaction, gas=estimate, gas_price=0)
        confirmed = not state.apply_transaction(trial).is_error
    finally:
        state.revert(snapshot)
    return estimate if confirmed else int(binary_gas_search_intrinsic_tolerance(state, transaction))


def _calldata_floor(data: bytes) -> int:
    """EIP-7623: 21 000 + 10 gas per calldata token (a zero byte is one token, any other byte four)."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


class _EmbeddedEVM(MiningChain):
    chain_id = EMBEDDED_CHAIN_ID
    vm_configuration = ((0, PragueVM),)
    gas_estimator = staticmethod(_estimate_gas)

    def create_header_from_parent(self, parent_header: Any, **header_params: Any) -> Any:
        # a constant gas limit, as eth-tester's own chain keeps it
        params = assoc(header_params, "gas_limit", parent_header.gas_limit)
        return super().create_header_from_parent(parent_header, **params)

    def get_transaction_builder(self) -> Any:
        return self.get_vm().get_transaction_builder()


class _NodeLikeBackend(PyEVMBackend):
    """eth-tester's py-evm backend, with ``eth_call`` run the way geth and anvil run it: at base fee 0.

    eth-tester prices a call at 1 gwei per gas and demands the caller afford it, so a caller without ether
    (the zero address a read-only opener calls from) fails; nodes run such calls for free.
    """

    def call(self, transaction: Any, block_number: Any = "latest") -> Any:
        tx = dict(transaction)
        tx.setdefault("gas", self._max_available_gas())
        if not tx.get("from"):
            tx["from"] = b"\x00" * 20
        if not any(k in tx for k in ("gas_price", "max_fee_per_gas", "max_priority_fee_per_gas")):
            tx["gas_price"] = 0
        header = _get_block_by_number(self.chain, block_number).header
        if getattr(header, "base_fee_per_gas", None) is not None:
            header = header.copy(base_fee_per_gas=0)
        unsigned = self._get_normalized_and_unsigned_evm_transaction(tx, block_number)
        state = self.chain.get_vm(at_header=header).state
        snapshot = state.snapshot()
        computation = state.apply_transaction(SpoofTransaction(unsigned, from_=tx["from"]))
        state.revert(snapshot)
        if computation.is_error:
            error = computation.error  # a revert's args[0] is its raw data: web3 passes it on for decoding
            raise TransactionFailed(error.args[0] if error.args else str(error))
        return computation.output


class _PersistentBackend(_NodeLikeBackend):
    """The node-like backend over a chain reopened from disk, committing after every mined block."""

    def __init__(self, *, chain: _EmbeddedEVM, store: SqliteKV, account_keys: tuple[Any, ...]) -> None:
        # PyEVMBackend.__init__ would build a new in-memory chain from genesis; this one resumes ``chain``.
        self.chain = chain
        self.account_keys = account_keys
        self._store = store

    def mine_blocks(self, num_blocks: int = 1, coinbase: bytes = b"\x00" * 20) -> tuple[bytes, ...]:
        try:
            hashes = super().mine_blocks(num_blocks, coinbase)
            self._store.commit()
        except BaseException as e:
            self._store.discard()
            self.chain = _EmbeddedEVM(self.chain.chaindb.db)
            if isinstance(e, sqlite3.Error):
                raise ChainUnavailable(f"the embedded chain cannot write its database: {e}") from e
            raise
        return hashes

    def _fresh_pending_header(self) -> None:
        """Stamp the next block with the time its first transaction arrives, not when the last was mined."""
        if not self.chain.get_block().transactions:
            self.chain.header = self.chain.create_header_from_parent(self.chain.get_canonical_head())

    def send_raw_transaction(self, raw_transaction: bytes) -> bytes:
        self._fresh_pending_header()
        return super().send_raw_transaction(raw_transaction)

    def send_signed_transaction(self, signed_transaction: Any, block_number: Any = "latest") -> bytes:
        self._fresh_pending_header()
        return super().send_signed_transaction(signed_transaction, block_number)

    def send_transaction(self, transaction: Any) -> bytes:
        self._fresh_pending_header()
        return super().send_transaction(transaction)

    # eth-tester finds a transaction by scanning every block back from the head; py-evm keeps an index.
    def _locate(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
        pending = self.chain.get_block()
        for index, tx in enumerate(pending.transactions):
            if tx.hash == transaction_hash:
                return pending, tx, index
        try:
            number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except EVMTransactionNotFound as e:
            raise TransactionNotFound(f"No transaction found for hash 0x{transaction_hash.hex()}") from e
        block = self.chain.get_canonical_block_by_number(number)
        return block, block.transactions[index], index

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, tx, index = self._locate(transaction_hash)
        return serialize_transaction(block, tx, index, block.number == self.chain.get_block().number)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        block, tx, index = self._locate(transaction_hash)
        receipts = block.get_receipts(self.chain.chaindb)
        is_pending = block.number == self.chain.get_block().number
        return serialize_transaction_receipt(block, receipts, tx, index, is_pending, self.chain.get_vm())

    def get_accounts(self) -> tuple[bytes, ...]:
        # web3's eth-tester middleware sends calls "from" the first account; a read-only opener holds no key
        return super().get_accounts() or (b"\x00" * 20,)

    def _append_only(self, *_: Any, **__: Any) -> Any:
        raise NotImplementedError("the embedded chain is append-only: no snapshots, resets or time travel")

    take_snapshot = revert_to_snapshot = reset_to_genesis = time_travel = _append_only


class EmbeddedProvider(EthereumTesterProvider):
    """``EthereumTesterProvider`` that serialises requests (py-evm is not thread-safe) and reports the chain's
    own id (eth-tester's endpoint table hard-codes its default)."""

    def __init__(
        self, *, tester: EthereumTester, chain_id: int = EMBEDDED_CHAIN_ID,
        before_request: Callable[[], None] | None = None,
    ) -> None:
        endpoints = {namespace: dict(methods) for namespace, methods in API_ENDPOINTS.items()}
        endpoints["eth"]["chainId"] = static_return(chain_id)
        endpoints["net"]["version"] = static_return(str(chain_id))
        super().__init__(ethereum_tester=tester, api_endpoints=endpoints)
        self.lock = threading.RLock()
        self.closed = False
        self._before_request = before_request

    def make_request(self, method: Any, params: Any) -> Any:
        with self.lock:
            if self.closed:
                raise ChainUnavailable("the embedded chain has been closed")
            if self._before_request is not None:
                self._before_request()
            return super().make_request(method, params)


class EmbeddedNode:
    """An open embedded chain: the web3 handle, the funded key (owner only) and what to close."""

    def __init__(self, chain_dir: Path, *, read_only: bool = False) -> None:
        self.chain_dir = chain_dir
        self.read_only = read_only
        self._lock_fd: int | None = None
        self.private_key: bytes | None = None
        if read_only:
            try:
                self._store = SqliteKV(chain_dir / DB_FILE, read_only=True)
            except FileNotFoundError as e:
                raise ChainUnavailable(f"no embedded chain in {chain_dir} yet") from e
        else:
            chain_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock_fd = _lock_exclusive(chain_dir / LOCK_FILE)
            try:
                self.private_key = _account_key(chain_dir / KEY_FILE)
                self._store = SqliteKV(chain_dir / DB_FILE)
            except BaseException:
                self._unlock()
                raise
        try:
            evm = self._open_evm()
        except BaseException:
            self.close()
            raise
        keys = () if self.private_key is None else (_eth_key(self.private_key),)
        self._backend = _PersistentBackend(chain=evm, store=self._store, account_keys=keys)
        self.provider = EmbeddedProvider(
            tester=EthereumTester(backend=self._backend),
            before_request=self._follow_head if read_only else None,
        )
        self.w3 = Web3(self.provider)

    def _open_evm(self) -> _EmbeddedEVM:
        meta = self._store.meta()
        base_db = AtomicDB(self._store)
        if not meta:
            if self.read_only:
                raise ChainUnavailable(f"the embedded chain in {self.chain_dir} was never started")
            return self._genesis(base_db)
        expected = {"format": FORMAT_VERSION, "chain_id": str(EMBEDDED_CHAIN_ID), "fork": FORK}
        wrong = {k: meta.get(k) for k, v in expected.items() if meta.get(k) != v}
        if wrong:
            raise ChainUnavailable(f"the embedded chain in {self.chain_dir} has {wrong}; expected {expected}")
        return _EmbeddedEVM(base_db)

    def _genesis(self, base_db: AtomicDB) -> _EmbeddedEVM:
        assert self.private_key is not None
        address = Account.from_key(self.private_key).address
        state = {bytes.fromhex(address[2:]): get_default_account_state()}
        params = get_default_genesis_params({"timestamp": int(time.time())})
        evm = _EmbeddedEVM.from_genesis(base_db, params, state)
        self._store.commit(meta={
            "format": FORMAT_VERSION, "chain_id": str(EMBEDDED_CHAIN_ID), "fork": FORK,
            "genesis_hash": "0x" + evm.get_canonical_head().hash.hex(), "created_at": str(int(time.time())),
        })
        return evm  # type: ignore[return-value]

    def _follow_head(self) -> None:
        """A read-only opener picks up blocks the owning process committed since the last request."""
        chain = self._backend.chain
        self._store.discard()
        head = chain.get_canonical_head()
        if chain.header.parent_hash != head.hash:
            chain.header = chain.create_header_from_parent(head)

    def close(self) -> None:
        """Release the database and the lock, after any request in flight in another thread."""
        provider = getattr(self, "provider", None)
        if provider is not None:
            with provider.lock:
                provider.closed = True
        store = getattr(self, "_store", None)
        if store is not None:
            store.close()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _lock_exclusive(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as e:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ChainUnavailable(
            f"the embedded chain in {path.parent} is open in another process (pid {holder}); it is "
            "single-process: stop that process, or open this one read_only / point it at an RPC node",
            details={"pid": holder},
        ) from e
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def _account_key(path: Path) -> bytes:
    text = read_or_create_secret(path, lambda: f"0x{secrets.token_bytes(32).hex()}\n".encode()).decode()
    return bytes.fromhex(text.strip().removeprefix("0x"))


def _eth_key(private_key: bytes) -> Any:
    from eth_keys import keys

    return keys.PrivateKey(private_key)


def embedded_chain(data_dir: Path, *, read_only: bool = False, tx_timeout: float = 30.0) -> Web3Chain:
    """The embedded persistent chain in ``data_dir/chain/``, through the same adapter as any RPC node.

    Contracts are deployed on first use and remembered in ``chain/deployments.json``. Confirmations are
    always 0: nothing mines a block on top of the last one. ``close()`` releases the single-process lock.
    """
    chain_dir = data_dir / "chain"
    node = EmbeddedNode(chain_dir, read_only=read_only)
    return Web3Chain(
        w3=node.w3, private_key=node.private_key, confirmations=0, tx_timeout=tx_timeout, state_dir=chain_dir,
        name=f"embedded-evm ({chain_dir})", dev_chain_ids=STANDARD_DEV_CHAIN_IDS | {EMBEDDED_CHAIN_ID},
        poll_interval=0.0, on_close=node.close,
    )


def memory_chain(*, tx_timeout: float = 30.0) -> Web3Chain:
    """A throwaway in-memory eth-tester chain (nothing persisted), e.g. for tests that need no restart.

    Its one funded account has a fresh random key; contracts deploy on first use; threads may share it.
    """
    key = secrets.token_bytes(32)
    address = bytes.fromhex(Account.from_key(key).address[2:])
    backend = _NodeLikeBackend(genesis_state={address: get_default_account_state()})
    provider = EmbeddedProvider(tester=EthereumTester(backend=backend), chain_id=int(backend.chain.chain_id))
    return Web3Chain(w3=Web3(provider), private_key=key, tx_timeout=tx_timeout, name="eth-tester (in memory)",
                     poll_interval=0.0)
