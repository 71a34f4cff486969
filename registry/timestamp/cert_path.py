"""Path building from a TSA signer certificate to a pinned certificate, evaluated at genTime.

A timestamp is judged at the moment it claims: every certificate on the path must be valid at genTime,
not now, so a token stays verifiable after its TSA certificate expires. Trust anchors are the pinned
certificates only (matched by subject and public key, so a re-issued copy of the same root counts);
certificates carried in the token may serve as intermediates but never as anchors, which is exactly
what stops a rogue TSA that ships its own root inside the token.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization

from registry.errors import InvalidTimestamp

MAX_DEPTH = 6
"""Signer, up to four intermediates, root: more than any public TSA hierarchy uses."""

_WEAK_SIGNATURE_HASHES = (hashes.MD5, hashes.SHA1)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_roots(roots_pem: list[bytes]) -> list[x509.Certificate]:
    """Parse the pinned certificates; an empty list is refused so nothing falls back to trusting the token."""
    if not roots_pem:
        raise InvalidTimestamp("no pinned TSA root to verify against", check="chain")
    roots: list[x509.Certificate] = []
    for pem in roots_pem:
        try:
            roots.extend(x509.load_pem_x509_certificates(pem))
        except ValueError as e:
            raise InvalidTimestamp(f"a pinned TSA root is not a PEM certificate: {e}", check="chain") from e
    return roots


def _check_valid_at(cert: x509.Certificate, at: datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise InvalidTimestamp(
            f"{cert.subject.rfc4514_string()} is valid {cert.not_valid_before_utc.isoformat()} to "
            f"{cert.not_valid_after_utc.isoformat()}, not at genTime {at.isoformat()}",
            check="chain",
        )


def _may_issue(issuer: x509.Certificate, intermediates_below: int) -> None:
    name = issuer.subject.rfc4514_string()
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound as e:
        raise InvalidTimestamp(
            f"{name} issued a certificate but is not a CA (no basicConstraints)", check="chain"
        ) from e
    if not constraints.ca:
        raise InvalidTimestamp(f"{name} issued a certificate but is not a CA", check="chain")
    if constraints.path_length is not None and intermediates_below > constraints.path_length:
        raise InvalidTimestamp(
            f"{name} allows {constraints.path_length} intermediates below it", check="chain"
        )
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise InvalidTimestamp(f"{name} lacks keyCertSign", check="chain")


def _check_signature_hash(cert: x509.Certificate) -> None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm as e:
        raise InvalidTimestamp(
            f"{cert.subject.rfc4514_string()} uses an unsupported signature", check="chain"
        ) from e
    if isinstance(algorithm, _WEAK_SIGNATURE_HASHES):
        raise InvalidTimestamp(
            f"{cert.subject.rfc4514_string()} is signed with {algorithm.name}", check="chain"
        )


def _issued_by(cert: x509.Certificate, candidate: x509.Certificate) -> bool:
    if cert.issuer != candidate.subject:
        return False
    try:
        cert.verify_directly_issued_by(candidate)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def build_chain(
    signer: x509.Certificate, carried: list[x509.Certificate], roots: list[x509.Certificate], *, at: datetime
) -> list[x509.Certificate]:
    """Return signer → intermediates → pinned anchor, or raise ``InvalidTimestamp(check="chain")``."""
    anchors = {(c.subject.public_bytes(), _spki(c)) for c in roots}
    candidates = [*roots, *carried]
    chain = [signer]
    current = signer
    while len(chain) <= MAX_DEPTH:
        _check_valid_at(current, at)
        if (current.subject.public_bytes(), _spki(current)) in anchors:
            return chain
        _check_signature_hash(current)
        seen = {der(c) for c in chain}
        issuer = next((c for c in candidates if der(c) not in seen and _issued_by(current, c)), None)
        if issuer is None:
            raise InvalidTimestamp(
                f"{current.subject.rfc4514_string()} (issued by {current.issuer.rfc4514_string()}) "
                "does not chain to a pinned TSA root",
                check="chain",
            )
        _may_issue(issuer, intermediates_below=len(chain) - 1)
        chain.append(issuer)
        current = issuer
    raise InvalidTimestamp(f"no pinned root within {MAX_DEPTH} certificates", check="chain")
