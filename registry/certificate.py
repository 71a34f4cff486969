"""Certificate of authorship, ``legato.certificate/v1``.

A JSON document serialized with RFC 8785 (JCS), so the same certificate always has the same bytes and
therefore the same IPFS CID. It is built in two states that share one *core*:

* pending: ``anchor`` is null;
* anchored: ``anchor`` holds the chain transaction and the Merkle proof.

The core is the certificate without ``anchor`` and ``signature``. The Merkle leaf commits to the core
and to a random 16-byte nonce kept in ``anchor.leaf_nonce``, so a published batch manifest (every leaf
of a batch) reveals nothing about certificates that were never published. The platform's Ed25519
signature covers everything but ``signature`` itself; see docs/certificate.md for the byte layouts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import rfc8785

from registry.errors import VerificationError
from registry.merkle import leaf_hash
from registry.signing import PlatformKey, key_id, verify_ed25519

if TYPE_CHECKING:
    from registry.signing_keys import SigningKeys

SCHEMA = "legato.certificate/v1"
SIGNATURE_ALG = "Ed25519"
CORE_EXCLUDES = ("anchor", "signature")


def canonical_json(obj: Any) -> bytes:
    return rfc8785.dumps(obj)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def core_of(cert: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cert.items() if k not in CORE_EXCLUDES}


def leaf_input(core: dict[str, Any], nonce: bytes) -> bytes:
    """``sha256(JCS(core) || nonce)``: the 32 bytes the Merkle tree's leaf hash is taken over."""
    if len(nonce) != 16:
        raise ValueError("the leaf nonce is 16 bytes")
    return hashlib.sha256(canonical_json(core) + nonce).digest()


def merkle_leaf(core: dict[str, Any], nonce: bytes) -> bytes:
    return leaf_hash(leaf_input(core, nonce))


@dataclass(frozen=True)
class Parts:
    """Everything a certificate says, gathered by the registry service before signing."""

    certificate_id: str
    registration_id: str
    issued_at: datetime
    work: dict[str, Any]
    author: dict[str, Any]
    content: dict[str, Any]
    timestamp: dict[str, Any]
    # A derivative work (a translation): the original's certificate id and SHA-256, who translated it
    # and with which engine. Absent from every other certificate, so their bytes are unchanged.
    derived_from: dict[str, Any] | None = None


def build_unsigned(parts: Parts, *, anchor: dict[str, Any] | None = None) -> dict[str, Any]:
    extra = {"derived_from": parts.derived_from} if parts.derived_from is not None else {}
    return {
        "schema": SCHEMA,
        "id": parts.certificate_id,
        "registration_id": parts.registration_id,
        "issued_at": iso_utc(parts.issued_at),
        "work": parts.work,
        "author": parts.author,
        "content": parts.content,
        "timestamp": parts.timestamp,
        **extra,
        "anchor": anchor,
    }


def sign(unsigned: dict[str, Any], signer: PlatformKey | SigningKeys) -> dict[str, Any]:
    key = signer.current()  # one key for the id, public key and value, even if a rotation lands meanwhile
    body = {k: v for k, v in unsigned.items() if k != "signature"}
    value = key.sign(canonical_json(body))
    return {
        **body,
        "signature": {
            "alg": SIGNATURE_ALG,
            "key_id": key.key_id,
            "public_key": base64.b64encode(key.public_raw).decode(),
            "value": base64.b64encode(value).decode(),
        },
    }


def json_loads(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def serialize(cert: dict[str, Any]) -> bytes:
    return canonical_json(cert)


def parse_document(data: bytes, schema: str) -> dict[str, Any]:
    """Parse a signed Legato document (certificate, license, receipt, bundle) of ``schema``; any
    problem is a failure of the ``format`` check."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise VerificationError("The document is not JSON.", check="format") from e
    if not isinstance(doc, dict) or doc.get("schema") != schema:
        raise VerificationError(f"Not a {schema} document.", check="format")
    if not isinstance(doc.get("signature"), dict):
        raise VerificationError("The document is not signed.", check="format")
    return doc


def parse(data: bytes) -> dict[str, Any]:
    """Parse certificate bytes and check their shape; any problem is a failure of the ``format`` check."""
    cert = parse_document(data, SCHEMA)
    for section in ("work", "author", "content", "timestamp"):
        if not isinstance(cert.get(section), dict):
            raise VerificationError(f"The certificate has no {section!r} section.", check="format")
    if cert.get("anchor") is not None and not isinstance(cert["anchor"], dict):
        raise VerificationError("The certificate's 'anchor' must be null or an object.", check="format")
    return cert


def check_signature(doc: dict[str, Any]) -> str:
    """Verify the platform signature of any signed document; returns the signing key id, which must
    name the embedded public key. Raises InvalidSignature / VerificationError(check="signature")."""
    sig = doc["signature"]
    if sig.get("alg") != SIGNATURE_ALG:
        raise VerificationError(f"Unsupported signature algorithm {sig.get('alg')!r}.", check="signature")
    body = {k: v for k, v in doc.items() if k != "signature"}
    verify_ed25519(str(sig.get("public_key", "")), str(sig.get("value", "")), canonical_json(body))
    named, actual = str(sig.get("key_id", "")), key_id(base64.b64decode(str(sig["public_key"])))
    if named != actual:
        raise VerificationError(f"key_id {named} does not name the public key ({actual})", check="signature")
    return named
