"""The IPFS port: what the registry needs from "somewhere that keeps content-addressed bytes".

Three adapters implement it — the embedded :class:`~registry.ipfs.blockstore.LocalBlockstore`, a Kubo
node (:class:`~registry.ipfs.kubo.KuboPinner`) and an IPFS Pinning Service
(:class:`~registry.ipfs.pinning_service.PinningServicePinner`) — and all of them answer with the CID
:func:`~registry.ipfs.unixfs.cid_for_bytes` computes, so a certificate's CID never depends on which one
is configured. The helpers below serve pinned bytes over HTTP (``GET /ipfs/{cid}``).
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

JSON_TYPE = "application/json"
BINARY_TYPE = "application/octet-stream"


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


def content_type_for(data: bytes) -> str:
    """``application/json`` for bytes that are a UTF-8 JSON object or array, else octet-stream.

    Certificates and batch manifests are JSON objects; anything else pinned is served as opaque bytes
    (a gateway cannot know more, and guessing ``text/html`` from content would be an XSS vector).
    """
    if data.lstrip(b" \t\r\n")[:1] not in (b"{", b"["):
        return BINARY_TYPE
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return BINARY_TYPE
    return JSON_TYPE if isinstance(parsed, dict | list) else BINARY_TYPE


def etag_for(cid: str) -> str:
    """The strong ETag for content at ``cid``: the bytes behind a CID never change."""
    return f'"{cid}"'
