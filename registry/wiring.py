"""The registry's builder: its live parts, made from explicit values (never the environment).

:class:`RegistryWiring` holds what a deployment says about the registry — the data dir, the TSA, the IPFS
target, the chain and its keys, Redis, the plagiarism and batching limits — and opens each part on
request. ``api.wiring`` makes one from its settings; the Container composes the parts (so a test may
swap one, the chain say, and everything built after sees the swap), and the CLI asks the same wiring
for what a read-only command needs: :meth:`RegistryWiring.chain_reader` and
:meth:`RegistryWiring.local_trust` never create a key, a CA or a chain.

Every adapter choice lives here: a TSA URL means :class:`RemoteTSA`, else the embedded TSA; a Kubo API
means Kubo, a pinning-service URL the pinning service over the local blockstore, else the local
blockstore alone; an RPC URL means that node, else the embedded chain; a Redis URL the shared similarity
index, else the in-memory one. Heavy libraries (web3, py-evm, datasketch, numpy) are imported by the
method that needs them, so opening the wiring to verify a certificate stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from registry.errors import ChainError, ConfigurationError, RegistryError, Unavailable
from registry.signing_keys import FILE_NAME, LEGACY_FILE, SigningKeys
from registry.trust import Trust

if TYPE_CHECKING:
    from registry.anchoring import Anchorer
    from registry.chain.protocol import Chain, ChainReader
    from registry.chain.web3_chain import Web3Chain
    from registry.fingerprint_key import FingerprintKey
    from registry.ipfs.protocol import Pinner
    from registry.service import Registry
    from registry.similarity.protocol import SimilarityIndex
    from registry.timestamp.protocol import Timestamper

log = logging.getLogger("legato.registry")


@dataclass(frozen=True, kw_only=True)
class RegistryWiring:
    """The registry's configuration as plain values; each method opens one live part."""

    data_dir: Path
    signing_key_pem: bytes | None = None
    """The platform signing key given as PEM; else the rotating keyring in ``data_dir/keys``."""
    tsa_url: str | None = None
    tsa_cert: Path | None = None
    """PEM root(s) the remote TSA must chain to."""
    tsa_timeout: float = 10.0
    ipfs_api: str | None = None
    ipfs_pinning_url: str | None = None
    ipfs_pinning_token: str | None = None
    ipfs_gateway_url: str | None = None
    chain_rpc_url: str | None = None
    chain_private_key: str | None = None
    registry_address: str | None = None
    license_registry_address: str | None = None
    chain_confirmations: int = 0
    chain_tx_timeout: float = 120.0
    redis_url: str | None = None
    max_text_chars: int = 500_000
    block_containment: float | None = None
    block_jaccard: float | None = None
    batch_max_size: int = 256
    batch_max_age: timedelta = timedelta(seconds=60)

    # --- the deployment ----------------------------------------------------------------------------
    def has_deployment(self) -> bool:
        """Whether ``data_dir`` already holds a deployment (its signing keys), or a key is configured."""
        keys = self.data_dir / "keys"
        held = (keys / FILE_NAME).exists() or (keys / LEGACY_FILE).exists()
        return held or self.signing_key_pem is not None

    def signer(self, *, read_only: bool = False) -> SigningKeys:
        """The platform's signing keys: the newest signs, the retired ones stay published for verifiers.
        ``read_only`` opens an existing keyring (adopting the pre-rotation key file, no more)."""
        if self.signing_key_pem is not None:
            return SigningKeys.from_pem(self.signing_key_pem)
        create = not read_only or (self.data_dir / "keys" / LEGACY_FILE).exists()
        return SigningKeys.from_data_dir(self.data_dir, create=create)

    def fingerprint_key(self) -> FingerprintKey:
        """Seals stored fingerprints and keys their signatures; ``keys/fingerprint.key`` in the data dir."""
        from registry.fingerprint_key import FingerprintKey

        return FingerprintKey.load_or_create(self.data_dir)

    # --- timestamps --------------------------------------------------------------------------------
    def tsa_roots(self) -> list[bytes]:
        """The roots configured for the remote TSA (read when asked, so a missing file fails here)."""
        return [self.tsa_cert.read_bytes()] if self.tsa_cert else []

    def timestamper(self) -> Timestamper:
        from registry.timestamp.embedded import EmbeddedTSA
        from registry.timestamp.remote import RemoteTSA

        if self.tsa_url:
            return RemoteTSA(self.tsa_url, roots_pem=self.tsa_roots(), timeout=self.tsa_timeout)
        return EmbeddedTSA(self.data_dir)

    def existing_tsa_roots(self) -> list[bytes]:
        """What :meth:`timestamper` would pin, without creating the embedded TSA's CA: [] when none."""
        if self.tsa_url:
            return self.tsa_roots()
        if not (self.data_dir / "tsa").is_dir():
            return []
        from registry.timestamp.embedded import EmbeddedTSA

        return EmbeddedTSA(self.data_dir).trust_roots_pem()

    # --- IPFS ----------------------------------------------------------------------------------------
    def pinner(self) -> Pinner:
        from registry.ipfs.blockstore import LocalBlockstore

        if self.ipfs_api:
            from registry.ipfs.kubo import KuboPinner

            return KuboPinner(api=self.ipfs_api)
        blockstore = LocalBlockstore(root=self.data_dir / "ipfs")
        if self.ipfs_pinning_url:
            from registry.ipfs.pinning_service import PinningServicePinner

            origins = [self.ipfs_gateway_url] if self.ipfs_gateway_url else None
            return PinningServicePinner(endpoint=self.ipfs_pinning_url, token=self.ipfs_pinning_token or "",
                                        blockstore=blockstore, origins=origins)
        return blockstore

    # --- the chain -----------------------------------------------------------------------------------
    def chain(self) -> Web3Chain:
        """The deployment's chain, with its key: the configured node, else the embedded chain (created
        on first use, held by this process alone)."""
        if self.chain_rpc_url:
            from registry.chain.web3_chain import Web3Chain

            return Web3Chain.from_rpc(
                self.chain_rpc_url, private_key=self.chain_private_key,
                registry_address=self.registry_address,
                license_registry_address=self.license_registry_address,
                confirmations=self.chain_confirmations, tx_timeout=self.chain_tx_timeout,
                state_dir=self.data_dir / "chain",
            )
        from registry.chain.embedded import embedded_chain

        return embedded_chain(self.data_dir, tx_timeout=self.chain_tx_timeout)

    def chain_reader(self, *, rpc_url: str | None = None,
                     license_registry_address: str | None = None) -> ChainReader | None:
        """A read-only view of this deployment's chain: ``rpc_url`` (another node; the configured
        registry address is then not assumed), else the configured node, else the embedded chain when
        it exists (opened read-only beside a running server). None when there is no chain to read.
        Never creates a chain."""
        url = rpc_url or self.chain_rpc_url
        if url:
            return chain_reader(
                rpc_url=url, registry_address=None if rpc_url else self.registry_address,
                license_registry_address=license_registry_address or self.license_registry_address,
                state_dir=self.data_dir / "chain",
            )
        if (self.data_dir / "chain").exists():
            from registry.chain.embedded import embedded_chain

            return embedded_chain(self.data_dir, read_only=True)
        return None

    # --- services ------------------------------------------------------------------------------------
    def similarity_index(self, *, key_id: str) -> SimilarityIndex:
        """Redis when configured (shared by every process), else in memory (rebuilt at start)."""
        if self.redis_url:
            from registry.similarity.redis import RedisLSHIndex

            return RedisLSHIndex(url=self.redis_url, key_id=key_id)
        from registry.similarity.memory import MemoryLSHIndex

        return MemoryLSHIndex(key_id=key_id)

    def registry(self, *, timestamper: Timestamper, signer: SigningKeys, index: SimilarityIndex,
                 pinner: Pinner, fingerprint_key: FingerprintKey) -> Registry:
        from registry.service import Registry

        thresholds = {name: value for name, value in (("block_containment", self.block_containment),
                                                      ("block_jaccard", self.block_jaccard))
                      if value is not None}
        return Registry(timestamper=timestamper, signer=signer, index=index, pinner=pinner,
                        fingerprint_key=fingerprint_key, max_chars=self.max_text_chars,
                        index_is_shared=bool(self.redis_url), **thresholds)

    def anchorer(self, *, registry: Registry, chain: Chain, pinner: Pinner) -> Anchorer:
        from registry.anchoring import Anchorer

        return Anchorer(registry=registry, chain=chain, pinner=pinner, max_size=self.batch_max_size,
                        max_age=self.batch_max_age)

    # --- trust -----------------------------------------------------------------------------------------
    def local_trust(self, *, chain: ChainReader | None, platform: str | None,
                    warn: Callable[[RegistryError], None] | None = None) -> Trust:
        """The trust of the deployment in ``data_dir``, read without creating anything (``legato verify``
        and ``legato trust export`` in the data dir). ConfigurationError when there is no deployment."""
        if not self.has_deployment():
            raise ConfigurationError(f"no Legato deployment in {self.data_dir.resolve()}")
        return trust_document(
            keys=self.signer(read_only=True), tsa_roots_pem=self.existing_tsa_roots(), chain=chain,
            registry_address=self.registry_address, license_registry_address=self.license_registry_address,
            platform=platform, source=f"deployment's trust ({self.data_dir.resolve()})", warn=warn,
        )


def chain_reader(*, rpc_url: str, registry_address: str | None = None,
                 license_registry_address: str | None = None, state_dir: Path | None = None) -> ChainReader:
    """A keyless view of the Legato contracts through the node at ``rpc_url`` (``legato verify --rpc``)."""
    from registry.chain.web3_chain import Web3Chain

    return Web3Chain.from_rpc(rpc_url, registry_address=registry_address,
                              license_registry_address=license_registry_address, state_dir=state_dir)


def trust_document(
    *, keys: SigningKeys, tsa_roots_pem: list[bytes], chain: ChainReader | None, registry_address: str | None,
    license_registry_address: str | None, platform: str | None, source: str,
    warn: Callable[[RegistryError], None] | None = None,
) -> Trust:
    """The trust document (``legato.trust/v1``) of a deployment: its keys and TSA roots, and the chain's
    id and contract addresses as the chain reports them. With the chain down, unreachable or refusing,
    it still names the keys and the configured addresses, and ``warn`` (default: the log) says why."""
    chain_id, registry, license_registry = None, registry_address, license_registry_address
    if chain is not None:
        try:
            chain_id = chain.chain_id()
            registry, license_registry = chain.registry_address(), chain.license_registry_address()
        except (Unavailable, ConfigurationError, ChainError) as e:
            (warn or _log_warning)(e)
    return Trust(keys=keys.entries(), tsa_roots_pem=tsa_roots_pem, chain_id=chain_id, registry=registry,
                 license_registry=license_registry, platform=platform, source=source)


def _log_warning(error: RegistryError) -> None:
    log.warning("the trust document lacks chain details: %s", error.message)
