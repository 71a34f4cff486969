"""One error root for the registry.

Every failure the registry reports is a :class:`RegistryError` with a stable ``code`` (the same string
the HTTP envelope carries) and JSON-safe ``details``. Adapters wrap third-party exceptions at the
boundary (``raise TimestampUnavailable(...) from e``) so callers never catch library types.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RegistryError(Exception):
    code: ClassVar[str] = "REGISTRY_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class InvalidContent(RegistryError):
    """The text cannot be registered as given (bad UTF-8, empty, too long)."""

    code = "INVALID_CONTENT_FORMAT"


class NotFound(RegistryError):
    code = "NOT_FOUND"


class PlagiarismSuspected(RegistryError):
    """The text matches an earlier registration by a different author above the block threshold."""

    code = "PLAGIARISM_SUSPECTED"


class Unavailable(RegistryError):
    """An external system (TSA, chain, IPFS) cannot be reached now; the work waits and is retried."""

    code = "DEPENDENCY_UNAVAILABLE"


class TimestampUnavailable(Unavailable):
    code = "TSA_UNAVAILABLE"


class ChainUnavailable(Unavailable):
    code = "CHAIN_UNAVAILABLE"


class PinningUnavailable(Unavailable):
    code = "IPFS_UNAVAILABLE"


class VerificationError(RegistryError):
    """A check on a certificate, token, signature or proof did not hold.

    ``check`` names which one, so ``legato verify`` can say which check failed first.
    """

    code = "VERIFICATION_FAILED"

    def __init__(self, message: str, *, check: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"check": check, **(details or {})})
        self.check = check


class InvalidTimestamp(VerificationError):
    code = "INVALID_TIMESTAMP"


class InvalidSignature(VerificationError):
    code = "INVALID_SIGNATURE"


class InvalidProof(VerificationError):
    code = "INVALID_PROOF"


class ChainError(RegistryError):
    """The chain answered but refused: a reverted transaction, a bad contract address."""

    code = "CHAIN_ERROR"


class LicenseOverlap(ChainError):
    """The license registry refused a grant: it overlaps an exclusive grant (or, being exclusive, any grant)
    on the same work and medium. ``details["conflicting_grant_id"]`` names the grant in the way."""

    code = "LICENSE_OVERLAP"


class ConfigurationError(RegistryError):
    code = "CONFIGURATION_ERROR"
