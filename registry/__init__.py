"""Legato's IP registry: canonical text, fingerprints, timestamps, certificates, anchoring, pinning.

No web framework, no environment reads, no global state: ``api`` builds the pieces from its settings
and passes them in. The public API is exported here; modules that pull in heavy libraries (datasketch,
web3, py-evm) load on first use, so ``import registry`` stays cheap for code that only verifies.
"""

from typing import TYPE_CHECKING, Any

from registry.errors import (
    ChainError,
    ChainUnavailable,
    ConfigurationError,
    InvalidContent,
    InvalidProof,
    InvalidSignature,
    InvalidTimestamp,
    LicenseOverlap,
    NotFound,
    PinningUnavailable,
    PlagiarismSuspected,
    RegistryError,
    TimestampUnavailable,
    Unavailable,
    VerificationError,
)

if TYPE_CHECKING:
    from registry.anchoring import Anchorer, BatchReport
    from registry.canonical import CANONICALIZATION, canonicalize, content_sha256
    from registry.certificate import check_signature, parse, parse_document, serialize
    from registry.chain import AnchorReceipt, Chain, Web3Chain, embedded_chain
    from registry.fingerprint import Fingerprint, fingerprint
    from registry.ipfs import KuboPinner, LocalBlockstore, Pinner, PinningServicePinner, cid_for_bytes
    from registry.merkle import build_tree, verify_proof
    from registry.service import Author, Registered, Registry
    from registry.signing import PlatformKey
    from registry.similarity import Match, MemoryLSHIndex, RedisLSHIndex, SimilarityIndex, find_matches
    from registry.timestamp import EmbeddedTSA, RemoteTSA, Timestamper, TimestampToken, verify_token
    from registry.verify import Report, verify_certificate

_LAZY = {
    "Anchorer": "anchoring", "BatchReport": "anchoring",
    "CANONICALIZATION": "canonical", "canonicalize": "canonical", "content_sha256": "canonical",
    "check_signature": "certificate", "parse": "certificate", "parse_document": "certificate",
    "serialize": "certificate",
    "AnchorReceipt": "chain", "Chain": "chain", "Web3Chain": "chain", "embedded_chain": "chain",
    "Fingerprint": "fingerprint", "fingerprint": "fingerprint",
    "KuboPinner": "ipfs", "LocalBlockstore": "ipfs", "Pinner": "ipfs", "PinningServicePinner": "ipfs",
    "cid_for_bytes": "ipfs",
    "build_tree": "merkle", "verify_proof": "merkle",
    "Author": "service", "Registered": "service", "Registry": "service",
    "PlatformKey": "signing",
    "Match": "similarity", "MemoryLSHIndex": "similarity", "RedisLSHIndex": "similarity",
    "SimilarityIndex": "similarity", "find_matches": "similarity",
    "EmbeddedTSA": "timestamp", "RemoteTSA": "timestamp", "Timestamper": "timestamp",
    "TimestampToken": "timestamp", "verify_token": "timestamp",
    "Report": "verify", "verify_certificate": "verify",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'registry' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"registry.{module}"), name)


__all__ = [
    "ChainError", "ChainUnavailable", "ConfigurationError", "InvalidContent", "InvalidProof",
    "InvalidSignature", "InvalidTimestamp", "LicenseOverlap", "NotFound", "PinningUnavailable",
    "PlagiarismSuspected", "RegistryError", "TimestampUnavailable", "Unavailable", "VerificationError",
    *_LAZY,
]
