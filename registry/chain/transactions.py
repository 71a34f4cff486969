"""Getting a transaction mined on a real node: local signing, nonces, fees, gas, waiting and resending.

The private key never leaves the process: transactions are signed here and sent raw, which every node and
hosted RPC accepts. The rules that make a retry safe:

* A caller names each logical transaction with a key (the anchor root, the grant id). While one is in
  flight, a second call with the same key waits for the *same* signed transaction — resending its raw bytes
  if the node forgot it, or replacing it with higher fees (same nonce) once it has been pending for a whole
  timeout — instead of signing a new one. Two variants of one nonce can never both be mined.
* Nonces come from ``eth_getTransactionCount(account, "pending")`` under a lock; when another process using
  the same key took that nonce first, the node says so and the send is retried with a fresh one.
* Fees are EIP-1559 (``2 × base fee + tip``) when the head block has a base fee, else the legacy gas price.
* Gas is the node's estimate with a margin, so a reverting call is refused before anything is signed.
"""

from __future__ import annotations

import ast
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed as TesterTransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_utils import ValidationError as EthValidationError
from web3 import Web3
from web3.exceptions import (
    ProviderConnectionError,
    RequestTimedOut,
    TimeExhausted,
    TooManyRequests,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)

from registry.chain.artifacts import Artifact
from registry.errors import ChainError, ChainUnavailable, RegistryError

log = logging.getLogger("legato.chain")

UNREACHABLE: tuple[type[BaseException], ...] = (
    requests.ConnectionError, requests.Timeout, requests.HTTPError, ProviderConnectionError, RequestTimedOut,
    TimeExhausted, TooManyRequests, ConnectionError, TimeoutError,
)
REFUSED: tuple[type[BaseException], ...] = (
    Web3Exception, TesterTransactionFailed, TesterValidationError, EthValidationError, ValueError,
)
_NONCE_TAKEN = ("nonce", "underpriced", "already imported", "replacement transaction")
_ALREADY_KNOWN = ("already known", "known transaction", "already in mempool", "alreadyknown")
FEE_BUMP = 1.125  # nodes refuse a replacement that does not raise both fees by at least 10%


@contextmanager
def chain_errors(action: str, artifacts: Iterable[Artifact] = ()) -> Iterator[None]:
    """Translate library exceptions at the boundary: unreachable → ChainUnavailable, refused → ChainError.

    A revert carrying one of our contracts' custom errors is named in the message (``NotAnchorer(0x…)``).
    """
    try:
        yield
    except RegistryError:
        raise
    except UNREACHABLE as e:
        raise ChainUnavailable(f"{action}: the node cannot be reached ({type(e).__name__}: {e})") from e
    except REFUSED as e:
        details: dict[str, Any] = {}
        reason = f"{type(e).__name__}: {e}"
        data = revert_data(e)
        if data is not None:
            details["revert_data"] = "0x" + data.hex()
            for artifact in artifacts:
                decoded = artifact.decode_error(data)
                if decoded is not None:
                    details["revert_error"] = decoded[0]
                    reason = f"reverted with {decoded[0]}{_args(decoded[1])}"
                    break
        raise ChainError(f"{action}: {reason}", details=details) from e


def _args(values: tuple[Any, ...]) -> str:
    return "(" + ", ".join("0x" + v.hex() if isinstance(v, bytes) else str(v) for v in values) + ")"


def revert_data(e: BaseException) -> bytes | None:
    """The raw revert data behind ``e``, wherever the library put it (web3 error data, an RPC error's
    ``data`` field, or eth-tester's ``execution reverted: b'...'`` message)."""
    candidates: list[Any] = [getattr(e, "data", None)]
    response = getattr(e, "rpc_response", None)
    if isinstance(response, dict):
        error = response.get("error") or {}
        candidates.append(error.get("data") if isinstance(error, dict) else None)
    for candidate in candidates:
        if isinstance(candidate, dict):
            candidate = candidate.get("data")
        if isinstance(candidate, str) and candidate.startswith("0x") and len(candidate) >= 10:
            try:
                return bytes.fromhex(candidate[2:])
            except ValueError:
                continue
    if e.args and isinstance(e.args[0], bytes):
        return e.args[0]
    message = str(e)
    starts = [i for i in (message.find("b'"), message.find('b"')) if i >= 0]
    if starts:
        marker = min(starts)
        try:
            value = ast.literal_eval(message[marker:])
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, bytes) else None
    return None


@dataclass
class _InFlight:
    nonce: int
    fields: dict[str, Any]
    raws: list[bytes] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    sent_at: float = field(default_factory=time.monotonic)


class TxSender:
    """Signs, sends and waits, one account on one chain. Thread-safe."""

    def __init__(
        self, *, w3: Web3, account: LocalAccount, chain_id: int, confirmations: int, timeout: float,
        poll_interval: float = 0.05, max_poll_interval: float = 2.0, resend_after: float = 10.0,
        gas_margin: float = 1.25, artifacts: Iterable[Artifact] = (),
    ) -> None:
        self.w3 = w3
        self.account = account
        self.chain_id = chain_id
        self.confirmations = confirmations
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.resend_after = resend_after
        self.gas_margin = gas_margin
        self.artifacts = tuple(artifacts)
        self._lock = threading.RLock()
        self._in_flight: dict[str, _InFlight] = {}

    def transact(self, *, to: str | None, data: bytes, key: str, label: str, value: int = 0) -> Any:
        """Send ``data`` to ``to`` (``None`` deploys) and return the receipt once mined and confirmed.

        Raises ChainUnavailable on timeout, keeping the signed transaction for the next call with ``key``.
        """
        with self._lock:
            flight = self._in_flight.get(key)
            if flight is not None and not self._revive(flight, label):
                flight = None
            if flight is None:
                flight = self._send_new(to, data, value, label)
                self._in_flight[key] = flight
        receipt = self._wait(flight, label)
        with self._lock:
            self._in_flight.pop(key, None)
        return receipt

    # --- sending ------------------------------------------------------------------------------
    def _send_new(self, to: str | None, data: bytes, value: int, label: str) -> _InFlight:
        with chain_errors(f"{label}: preparing the transaction", self.artifacts):
            call: dict[str, Any] = {"from": self.account.address, "data": data, "value": value}
            if to is not None:
                call["to"] = to
            gas = int(self.w3.eth.estimate_gas(call) * self.gas_margin) + 5_000  # type: ignore[arg-type]
            fees = self._fees()
        for _ in range(5):
            with chain_errors(f"{label}: reading the nonce"):
                nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
            fields = {**call, "gas": gas, "nonce": nonce, "chainId": self.chain_id, **fees}
            fields.pop("from")
            flight = _InFlight(nonce=nonce, fields=fields)
            if self._sign_and_send(flight, fields, label):
                return flight
            log.info("nonce %s was taken by another sender; retrying", nonce)
        raise ChainError(f"{label}: could not get a nonce accepted after 5 attempts")

    def _sign_and_send(self, flight: _InFlight, fields: dict[str, Any], label: str) -> bool:
        """Send one signed variant; False when its nonce is already used by another transaction."""
        signed = self.account.sign_transaction(fields)
        tx_hash = "0x" + bytes(signed.hash).hex()
        try:
            with chain_errors(f"{label}: sending {tx_hash}"):
                self._send_raw(bytes(signed.raw_transaction))
        except ChainError as e:
            if any(s in str(e).lower() for s in _NONCE_TAKEN):
                return False
            raise
        flight.raws.append(bytes(signed.raw_transaction))
        flight.hashes.append(tx_hash)
        flight.fields = fields
        flight.sent_at = time.monotonic()
        log.info("%s: sent %s (nonce %s)", label, tx_hash, flight.nonce)
        return True

    def _send_raw(self, raw: bytes) -> None:
        try:
            self.w3.eth.send_raw_transaction(raw)
        except (Web3RPCError, ValueError) as e:
            if not any(s in str(e).lower() for s in _ALREADY_KNOWN):
                raise

    def _fees(self) -> dict[str, int]:
        head = self.w3.eth.get_block("latest")
        base = head.get("baseFeePerGas")
        if base is None:
            return {"gasPrice": int(self.w3.eth.gas_price)}
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except (Web3RPCError, ValueError):
            tip = 10**9
        return {"type": 2, "maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}

    def _revive(self, flight: _InFlight, label: str) -> bool:
        """Make an earlier attempt live again; False when its nonce went to some other transaction."""
        if self._receipt(flight) is not None:
            return True
        with chain_errors(f"{label}: checking the nonce"):
            mined_nonce = self.w3.eth.get_transaction_count(self.account.address, "latest")
        if mined_nonce > flight.nonce:
            return self._receipt(flight) is not None
        if time.monotonic() - flight.sent_at < self.timeout:
            self._resend_if_unknown(flight, label)
            return True
        bumped = dict(flight.fields)
        if "gasPrice" in bumped:
            bumped["gasPrice"] = max(int(bumped["gasPrice"] * FEE_BUMP) + 1, self._fees().get("gasPrice", 0))
        else:
            fresh = self._fees()
            bumped["maxPriorityFeePerGas"] = max(int(bumped["maxPriorityFeePerGas"] * FEE_BUMP) + 1,
                                                 fresh.get("maxPriorityFeePerGas", 0))
            bumped["maxFeePerGas"] = max(int(bumped["maxFeePerGas"] * FEE_BUMP) + 1,
                                         fresh.get("maxFeePerGas", 0))
        log.warning("%s: nonce %s pending for %.0f s; replacing with higher fees", label, flight.nonce,
                    time.monotonic() - flight.sent_at)
        return self._sign_and_send(flight, bumped, label) or self._receipt(flight) is not None

    def _resend_if_unknown(self, flight: _InFlight, label: str) -> None:
        for tx_hash in flight.hashes:
            try:
                with chain_errors(f"{label}: looking up {tx_hash}"):
                    self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
                return
            except ChainError as e:
                if not isinstance(e.__cause__, TransactionNotFound):
                    raise
        log.warning("%s: the node forgot %s; resending the same signed bytes", label, flight.hashes[-1])
        with chain_errors(f"{label}: resending {flight.hashes[-1]}"):
            self._send_raw(flight.raws[-1])

    # --- waiting ------------------------------------------------------------------------------
    def _receipt(self, flight: _InFlight) -> Any | None:
        for tx_hash in flight.hashes:
            try:
                with chain_errors(f"reading the receipt of {tx_hash}"):
                    receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except ChainError as e:
                if isinstance(e.__cause__, TransactionNotFound):
                    continue
                raise
            if receipt is not None and receipt.get("blockNumber") is not None:
                return receipt
        return None

    def _wait(self, flight: _InFlight, label: str) -> Any:
        deadline = time.monotonic() + self.timeout
        delay = self.poll_interval
        last_resend_check = time.monotonic()
        while True:
            receipt = self._receipt(flight)
            if receipt is not None:
                confirmed = self._confirmed(flight, receipt, deadline, label)
                if confirmed is not None:
                    return confirmed
                continue  # reorganised away: wait for it to be mined again
            now = time.monotonic()
            if now >= deadline:
                raise ChainUnavailable(
                    f"{label}: {flight.hashes[-1]} not mined within {self.timeout:.0f} s; it will be resumed",
                    details={"tx_hash": flight.hashes[-1], "nonce": flight.nonce},
                )
            if now - last_resend_check >= self.resend_after:
                self._resend_if_unknown(flight, label)
                last_resend_check = now
            time.sleep(delay)
            delay = min(delay * 2, self.max_poll_interval)

    def _confirmed(self, flight: _InFlight, receipt: Any, deadline: float, label: str) -> Any | None:
        if self.confirmations <= 0:
            return receipt
        target = int(receipt["blockNumber"]) + self.confirmations
        delay = self.poll_interval
        while True:
            with chain_errors(f"{label}: waiting for {self.confirmations} confirmations"):
                head = self.w3.eth.block_number
            if head >= target:
                return self._receipt(flight)
            if time.monotonic() >= deadline:
                raise ChainUnavailable(
                    f"{label}: 0x{bytes(receipt['transactionHash']).hex()} mined in block "
                    f"{receipt['blockNumber']} but not yet {self.confirmations} blocks deep (head {head})",
                    details={"tx_hash": flight.hashes[-1]},
                )
            time.sleep(delay)
            delay = min(delay * 2, self.max_poll_interval)
