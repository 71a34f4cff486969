"""The timestamp port: what the registry asks of a Time-Stamp Authority, and what it gets back.

A registration needs one thing from a TSA: a signed statement that a SHA-256 digest existed at a time,
which a stranger can check later with public tools. ``Timestamper`` is that port; ``EmbeddedTSA`` and
``RemoteTSA`` are its two adapters. Both hand back a ``TimestampToken`` that has already passed the
strict verifier, so nothing downstream stores a token it could not defend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class TimestampToken:
    """A verified RFC 3161 token, as the certificate's ``timestamp`` section records it."""

    token_der: bytes
    """The DER TimeStampToken (a CMS ContentInfo holding SignedData), not the whole TimeStampResp:
    this is what ``openssl ts -verify -token_in`` reads."""
    gen_time: datetime
    """UTC-aware genTime from the signed TSTInfo."""
    tsa_name: str
    tsa_url: str | None
    chain_pem: list[str]
    """PEM certificates from the signer up to the pinned root: signer first, root last."""


@dataclass(frozen=True)
class VerifiedTimestamp:
    """What ``verify_token`` established about a token; every field comes from signed data."""

    gen_time: datetime
    serial: int
    signer_subject: str
    """RFC 4514 subject of the certificate that signed the token."""
    policy: str
    """Dotted TSA policy OID."""
    hash_algorithm: str
    nonce: int | None
    chain_pem: list[str]
    """Signer first, then intermediates, then the pinned certificate the chain ended at."""


@runtime_checkable
class Timestamper(Protocol):
    """An RFC 3161 Time-Stamp Authority that the registry can ask for a token."""

    name: str
    """``"embedded"`` or the TSA URL; logged at server start so operators see which one is live."""

    def timestamp(self, digest: bytes) -> TimestampToken:
        """Timestamp a 32-byte SHA-256 digest; raises ``TimestampUnavailable`` when the TSA cannot answer
        and ``InvalidTimestamp`` when it answers with a token that does not verify."""
        ...

    def trust_roots_pem(self) -> list[bytes]:
        """The pinned root certificate(s) this TSA's tokens must chain to."""
        ...

    def health(self) -> dict[str, Any]:
        """Details for ``/health``; raises ``TimestampUnavailable`` when the TSA is not usable."""
        ...
