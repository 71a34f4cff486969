"""Legato's IP registry: canonical text, fingerprints, timestamps, certificates, anchoring, pinning.

No web framework, no environment reads, no global state: ``api`` builds the pieces from its settings
and passes them in.
"""

from registry.errors import (
    ChainError,
    ChainUnavailable,
    ConfigurationError,
    InvalidContent,
    InvalidProof,
    InvalidSignature,
    InvalidTimestamp,
    NotFound,
    PinningUnavailable,
    PlagiarismSuspected,
    RegistryError,
    TimestampUnavailable,
    Unavailable,
    VerificationError,
)

__all__ = [
    "ChainError",
    "ChainUnavailable",
    "ConfigurationError",
    "InvalidContent",
    "InvalidProof",
    "InvalidSignature",
    "InvalidTimestamp",
    "NotFound",
    "PinningUnavailable",
    "PlagiarismSuspected",
    "RegistryError",
    "TimestampUnavailable",
    "Unavailable",
    "VerificationError",
]
