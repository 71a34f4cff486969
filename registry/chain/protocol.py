"""The chain port: what the batcher, the verifier and the marketplace need from an EVM chain.

Two protocols, one for reading and one for writing: :class:`ChainReader` is every view a verifier, the
trust document and the chain-of-title checks use; :class:`Chain` adds the transactions (anchor, grant,
signing keys) only the deployment's own worker sends. One adapter implements both
(:class:`~registry.chain.web3_chain.Web3Chain`), over any JSON-RPC node or over the embedded persistent
EVM; opened without a key it only reads. Byte values are raw ``bytes`` (32 bytes for roots, leaves, ids
and hashes); addresses and transaction hashes are the strings the chain prints (checksummed, ``0x``-hex).

Errors: :class:`~registry.errors.ChainUnavailable` when the node cannot be reached or a transaction is not
mined in time (retry later: nothing was lost, and a retry never anchors twice);
:class:`~registry.errors.ChainError` when the chain answered and refused (reverted, wrong address, not an
anchorer); :class:`~registry.errors.LicenseOverlap` for a license that collides with an existing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from eth_utils import to_checksum_address


@dataclass(frozen=True)
class AnchorReceipt:
    """Where and when a batch root was recorded. Read back identically from the chain at any later time."""

    root: bytes
    tx_hash: str
    block_number: int
    block_timestamp: int
    chain_id: int
    contract: str
    manifest_cid: str
    leaf_count: int
    block_hash: str = ""
    gas_used: int | None = None


@dataclass(frozen=True)
class SigningKeyRecord:
    """What ``LegatoRegistry.signingKey(keyHash)`` returns: block timestamp and number of the key's
    authorization and retirement, zeros for "never"."""

    authorized_at: int
    authorized_block: int
    retired_at: int
    retired_block: int


@dataclass(frozen=True)
class LicenseGrant:
    """One license as the ``LicenseRegistry`` holds it. Period is ``[start, end)`` in Unix seconds."""

    grant_id: bytes
    work_id: bytes
    licensee: str
    terms_hash: bytes
    media: int
    start: int
    end: int
    exclusive: bool
    granted_at: int
    block_number: int

    @classmethod
    def from_contract(cls, raw: Any) -> LicenseGrant:
        """From the ``Grant`` struct tuple the contract's views return (fields in declaration order)."""
        grant_id, work_id, terms_hash, licensee, media, exclusive, start, end, granted_at, block_number = raw
        return cls(
            grant_id=bytes(grant_id), work_id=bytes(work_id), licensee=to_checksum_address(licensee),
            terms_hash=bytes(terms_hash), media=int(media), start=int(start), end=int(end),
            exclusive=bool(exclusive), granted_at=int(granted_at), block_number=int(block_number),
        )


@dataclass(frozen=True)
class LicenseReceipt:
    grant: LicenseGrant
    tx_hash: str
    block_number: int
    block_timestamp: int
    chain_id: int
    contract: str
    gas_used: int | None = None


@runtime_checkable
class ChainReader(Protocol):
    """A read-only view of the Legato contracts: everything a verifier, the trust document and the
    chain-of-title checks read. ``legato verify`` opens one without a key (see ``registry.wiring``)."""

    name: str

    def chain_id(self) -> int: ...

    def registry_address(self) -> str:
        """The ``LegatoRegistry`` this deployment uses (on a dev or embedded chain with a key: deployed on
        first use)."""
        ...

    def license_registry_address(self) -> str: ...

    def find_anchor(self, root: bytes) -> AnchorReceipt | None: ...

    def verify(self, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
        """The contract's ``verify`` view via ``eth_call``: proof holds and root is anchored."""
        ...

    def contract_verify(self, contract: str, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
        """``verify`` on the registry at ``contract`` (the address a certificate names)."""
        ...

    def contract_anchored_at(self, contract: str, root: bytes) -> int: ...

    def signing_key_record(self, contract: str, key_hash: bytes) -> SigningKeyRecord: ...

    def find_grant(self, grant_id: bytes) -> LicenseReceipt | None:
        """The grant recorded under ``grant_id`` on the ``LicenseRegistry``, None when there is none."""
        ...

    def grants_of(self, work_id: bytes) -> list[LicenseGrant]:
        """Every grant the ``LicenseRegistry`` holds for ``work_id``."""
        ...

    def health(self) -> dict[str, Any]:
        """Chain id, head block, account and balance; raises ChainUnavailable when the node is down."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Chain(ChainReader, Protocol):
    """A :class:`ChainReader` with an account allowed to anchor, grant and manage signing keys."""

    def anchor(self, root: bytes, leaf_count: int, manifest_cid: str) -> AnchorReceipt:
        """Record ``root``. Idempotent: a root already anchored (an earlier attempt) is read back, not resent.

        Returns once the transaction is mined and has the configured confirmations.
        """
        ...

    def authorize_signing_key(self, key_hash: bytes) -> SigningKeyRecord:
        """Owner only; idempotent (a key authorized earlier is read back)."""
        ...

    def retire_signing_key(self, key_hash: bytes) -> SigningKeyRecord: ...

    def grant_license(
        self, *, grant_id: bytes, work_id: bytes, licensee: str, terms_hash: bytes, media: int, start: int,
        end: int, exclusive: bool,
    ) -> LicenseReceipt:
        """Record a license; idempotent on ``grant_id`` (the same grant sent twice is read back)."""
        ...
