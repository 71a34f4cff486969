"""The IPFS port: what the registry needs from "somewhere that keeps content-addressed bytes".

Three adapters implement it — the embedded :class:`~registry.ipfs.blockstore.LocalBlockstore`, a Kubo
node (:class:`~registry.ipfs.kubo.KuboPinner`) and an IPFS Pinning Service
(:class:`~registry.ipfs.pinning_service.PinningServicePinner`) — and all of them answer with the CID
:func:`~registry.ipfs.unixfs.cid_for_bytes` computes, so a certificate's CID never depends on which one
is configured.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Pinner(Protocol):
    """Stores and pins whole files by CID.

    Every method raises :class:`~registry.errors.PinningUnavailable` when the backing system cannot be
    reached or refuses (timeouts, HTTP errors, a bad token), so callers can defer the work and retry.
    """

    name: str
    """Human-readable target, logged at start: ``"local-blockstore (var/ipfs)"``, ``"kubo http://…"``."""

    def add(self, data: bytes, *, name: str | None = None) -> str:
        """Store and pin ``data``; return its CID, always equal to ``cid_for_bytes(data)``."""
        ...

    def get(self, cid: str) -> bytes:
        """The whole file behind ``cid``; :class:`~registry.errors.NotFound` when it is not held here."""
        ...

    def has(self, cid: str) -> bool:
        """True when ``cid`` is pinned here (cheap: does not reread the whole file)."""
        ...

    def health(self) -> dict[str, Any]:
        """A small JSON-safe status for ``/health``; raises ``PinningUnavailable`` when down."""
        ...
