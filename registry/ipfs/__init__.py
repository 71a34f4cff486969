"""IPFS for the registry: Kubo-identical CIDs, and a ``Pinner`` port with three adapters.

* :func:`cid_for_bytes` / :func:`build_dag` — the CID and blocks ``ipfs add --cid-version=1`` gives
  (raw leaves, 256 KiB chunks, sha2-256, balanced layout of at most 174 links, base32);
* :class:`LocalBlockstore` — the embedded default, a verified content-addressed store on disk;
* :class:`KuboPinner` — a Kubo node over its RPC API (ipfshttpclient);
* :class:`PinningServicePinner` — an IPFS Pinning Service API endpoint (httpx), bytes kept locally.

docs/ipfs.md explains the byte layouts, the test vectors and how to check a CID with Kubo.
"""

from registry.ipfs.blockstore import CorruptBlock, LocalBlockstore
from registry.ipfs.cid import Cid, InvalidCid, normalize_cid, parse_cid
from registry.ipfs.kubo import KuboPinner
from registry.ipfs.pinning_service import PinningServicePinner
from registry.ipfs.protocol import Pinner
from registry.ipfs.serving import content_type_for, etag_for
from registry.ipfs.unixfs import (
    CHUNK_SIZE,
    MAX_LINKS,
    Dag,
    MalformedBlock,
    build_dag,
    cid_for_bytes,
    read_file,
)

__all__ = [
    "CHUNK_SIZE",
    "MAX_LINKS",
    "Cid",
    "CorruptBlock",
    "Dag",
    "InvalidCid",
    "KuboPinner",
    "LocalBlockstore",
    "MalformedBlock",
    "Pinner",
    "PinningServicePinner",
    "build_dag",
    "cid_for_bytes",
    "content_type_for",
    "etag_for",
    "normalize_cid",
    "parse_cid",
    "read_file",
]
