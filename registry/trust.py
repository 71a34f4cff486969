"""The trust document (``legato.trust/v1``) and the ``origin`` check that pins a certificate to it.

A signature only proves that *some* key signed a certificate; the public key printed inside it proves
nothing about who owns that key. What a verifier pins instead is published by the platform at
``GET /.well-known/legato-trust.json`` (and ``legato trust export``): its Ed25519 signing keys with their
validity, the TSA roots, the chain id and the contract addresses. docs/trust.md describes each field.

:func:`check_origin` decides whether a certificate comes from that platform: its key must be one the
trust lists (same public key), valid when the certificate was signed; its anchor must name the pinned
chain and ``LegatoRegistry``; and given a chain, the contract must have authorized the key at the anchor's
block. With nothing pinned the check fails: a certificate whose origin was not checked is not verified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from registry.errors import VerificationError
from registry.signing_keys import SigningKeyEntry, key_hash

if TYPE_CHECKING:  # web3 types stay unloaded for code that only verifies
    from registry.chain.protocol import ChainReader

TRUST_SCHEMA = "legato.trust/v1"
MAX_TRUST_BYTES = 1_000_000


@dataclass(frozen=True)
class Trust:
    """What a verifier pins. ``keys`` may be empty when only a registry address is pinned."""

    keys: list[SigningKeyEntry] = field(default_factory=list)
    tsa_roots_pem: list[bytes] = field(default_factory=list)
    chain_id: int | None = None
    registry: str | None = None
    license_registry: str | None = None
    platform: str | None = None
    source: str = "trust document"

    def document(self) -> dict[str, Any]:
        return {
            "schema": TRUST_SCHEMA,
            "platform": self.platform,
            "signing_keys": [k.public_doc() for k in self.keys],
            "tsa_roots": [pem.decode() for pem in self.tsa_roots_pem],
            "chain": {
                "chain_id": self.chain_id,
                "registry": self.registry,
                "license_registry": self.license_registry,
            },
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.document(), indent=2) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes, *, source: str = "trust document") -> Trust:
        if len(data) > MAX_TRUST_BYTES:
            raise VerificationError("The trust document is too large.", check="origin")
        try:
            doc = json.loads(data.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("schema") != TRUST_SCHEMA:
                raise ValueError(f"not a {TRUST_SCHEMA} document")
            keys = [
                SigningKeyEntry(
                    key_id=str(k["key_id"]), public_key=str(k["public_key"]),
                    valid_from=_time(k.get("valid_from")), retired_at=_time(k.get("retired_at")),
                )
                for k in doc.get("signing_keys", [])
            ]
            chain = doc.get("chain") or {}
            return cls(
                keys=keys,
                tsa_roots_pem=[str(p).encode() for p in doc.get("tsa_roots", [])],
                chain_id=int(chain["chain_id"]) if chain.get("chain_id") is not None else None,
                registry=chain.get("registry"),
                license_registry=chain.get("license_registry"),
                platform=doc.get("platform"),
                source=source,
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise VerificationError(f"The trust document cannot be read: {e}", check="origin") from e


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no zone")
    return moment


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def signed_at(doc: dict[str, Any]) -> datetime:
    """When the platform signed ``doc``: an anchored certificate is signed again once its block is mined,
    so that block's time; otherwise its issue time."""
    anchor = doc.get("anchor")
    if isinstance(anchor, dict) and anchor.get("block_timestamp") is not None:
        return datetime.fromtimestamp(int(anchor["block_timestamp"]), UTC)
    return _moment(str(doc.get("issued_at") or doc["generated_at"]))  # a bundle says generated_at


def check_origin(
    doc: dict[str, Any], trust: Trust | None, chain: ChainReader | None = None
) -> tuple[str, str]:
    """``("pass", detail)`` or raises VerificationError(check="origin")."""
    if trust is None:
        raise VerificationError(
            "no trust anchor: pin the platform's trust document (--trust FILE|URL) or its registry "
            "(--registry ADDRESS --rpc URL); a certificate whose origin is unchecked is not verified",
            check="origin",
        )
    sig = doc["signature"]
    kid, public = str(sig.get("key_id")), str(sig.get("public_key"))
    when = signed_at(doc)
    notes: list[str] = []
    if trust.keys:
        entry = next((k for k in trust.keys if k.key_id == kid), None)
        if entry is None or entry.public_key != public:
            raise VerificationError(
                f"signed by key {kid}, which the {trust.source} does not list "
                f"(it lists {', '.join(k.key_id for k in trust.keys) or 'no key'})",
                check="origin",
            )
        # Stored times have microseconds, block times whole seconds: compare at whole seconds.
        if entry.valid_from is not None and int(entry.valid_from.timestamp()) > int(when.timestamp()):
            raise VerificationError(f"key {kid} was valid only from {entry.valid_from.isoformat()}; "
                                    f"the certificate was signed at {when.isoformat()}", check="origin")
        if entry.retired_at is not None and when >= entry.retired_at:
            raise VerificationError(f"key {kid} was retired at {entry.retired_at.isoformat()}; the "
                                    f"certificate claims to be signed at {when.isoformat()}", check="origin")
        notes.append(f"key {kid} listed by the {trust.source}")
    anchor = doc.get("anchor")
    if isinstance(anchor, dict):
        if trust.chain_id is not None and int(anchor["chain_id"]) != trust.chain_id:
            raise VerificationError(f"anchored on chain {anchor['chain_id']}, the {trust.source} pins chain "
                                    f"{trust.chain_id}", check="origin")
        if trust.registry is None:
            raise VerificationError(f"the {trust.source} pins no LegatoRegistry to check the anchor's "
                                    "contract against", check="origin")
        if str(anchor["contract"]).lower() != trust.registry.lower():
            raise VerificationError(f"anchored in contract {anchor['contract']}, not the platform's "
                                    f"LegatoRegistry {trust.registry}", check="origin")
        notes.append(f"anchored in the pinned registry {trust.registry}")
    # A pending certificate listed by the pinned keys needs no chain; an anchored one, or one pinned by
    # registry alone, is checked against the contract's record of the key.
    if chain is not None and trust.registry is not None and (isinstance(anchor, dict) or not trust.keys):
        if trust.chain_id is not None and chain.chain_id() != trust.chain_id:
            raise VerificationError(f"the node is on chain {chain.chain_id()}, the {trust.source} pins chain "
                                    f"{trust.chain_id}", check="origin")
        notes.append(_authorized_on_chain(doc, public, trust.registry, chain))
    elif not trust.keys:
        raise VerificationError("only a registry is pinned and there is no chain to ask whether it "
                                "authorized the key (--rpc URL)", check="origin")
    return "pass", "; ".join(notes)


def _authorized_on_chain(doc: dict[str, Any], public_b64: str, registry: str,
                         chain: ChainReader) -> str:
    import base64

    digest = key_hash(base64.b64decode(public_b64, validate=True))
    record = chain.signing_key_record(registry, digest)
    kid = doc["signature"]["key_id"]
    if record.authorized_block == 0:
        raise VerificationError(f"the registry {registry} never authorized key {kid}", check="origin")
    anchor = doc.get("anchor")
    if isinstance(anchor, dict):
        block = int(anchor["block_number"])
        if record.authorized_block > block:
            raise VerificationError(f"key {kid} was authorized in block {record.authorized_block}, after the "
                                    f"anchor's block {block}", check="origin")
        if record.retired_block and record.retired_block < block:
            raise VerificationError(f"key {kid} was retired in block {record.retired_block}, before the "
                                    f"anchor's block {block}", check="origin")
        return f"authorized on chain in block {record.authorized_block} (anchor in block {block})"
    when = int(signed_at(doc).timestamp())
    if record.retired_at and record.retired_at <= when:
        raise VerificationError(f"key {kid} was retired on chain at {record.retired_at}, before the "
                                f"certificate's issue time", check="origin")
    return f"authorized on chain in block {record.authorized_block}"
