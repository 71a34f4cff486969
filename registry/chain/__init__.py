"""The chain port and its adapter: anchoring batch roots and recording licenses on an EVM chain.

* :class:`Chain` — the protocol callers depend on; :class:`AnchorReceipt`, :class:`LicenseReceipt`,
  :class:`LicenseGrant` — what it returns.
* :class:`Web3Chain` — the one implementation, over web3.py: :meth:`Web3Chain.from_rpc` for any JSON-RPC
  node (anvil, hardhat, geth, a testnet or mainnet/L2 RPC), :func:`embedded_chain` for the in-process EVM
  persisted in the data dir, :func:`memory_chain` for a throwaway in-memory one.

docs/chain.md shows how to point Legato at a node; docs/merkle.md how the anchored roots are computed.
"""

from typing import TYPE_CHECKING, Any

from registry.chain.protocol import AnchorReceipt, Chain, LicenseGrant, LicenseReceipt, SigningKeyRecord

if TYPE_CHECKING:
    from registry.chain.artifacts import LICENSE_REGISTRY, REGISTRY, Artifact, load_artifact
    from registry.chain.embedded import EMBEDDED_CHAIN_ID, embedded_chain, memory_chain
    from registry.chain.web3_chain import Web3Chain

# web3 and the in-process EVM (py-evm, eth-tester) take seconds to import; they load on first use so
# commands and processes that never touch a chain do not pay for them.
_LAZY = {
    "LICENSE_REGISTRY": "artifacts",
    "REGISTRY": "artifacts",
    "Artifact": "artifacts",
    "load_artifact": "artifacts",
    "EMBEDDED_CHAIN_ID": "embedded",
    "embedded_chain": "embedded",
    "memory_chain": "embedded",
    "Web3Chain": "web3_chain",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'registry.chain' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"registry.chain.{module}"), name)


__all__ = [
    "EMBEDDED_CHAIN_ID",
    "LICENSE_REGISTRY",
    "REGISTRY",
    "AnchorReceipt",
    "Artifact",
    "Chain",
    "LicenseGrant",
    "LicenseReceipt",
    "SigningKeyRecord",
    "Web3Chain",
    "embedded_chain",
    "load_artifact",
    "memory_chain",
]
