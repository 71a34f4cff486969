"""The chain port and its adapter: anchoring batch roots and recording licenses on an EVM chain.

* :mod:`registry.chain.protocol` — :class:`ChainReader` (read-only views) and :class:`Chain` (adds the
  transactions), and the receipts they return;
* :mod:`registry.chain.web3_chain` — :class:`Web3Chain`, the one implementation, over web3.py;
* :mod:`registry.chain.embedded` — the in-process EVM persisted in the data dir (``embedded_chain``) and
  a throwaway in-memory one (``memory_chain``).

Nothing is imported here: web3 and py-evm take seconds to load, and only the code that opens a chain
pays for them. docs/chain.md shows how to point Legato at a node; docs/merkle.md how anchored roots are
computed.
"""
