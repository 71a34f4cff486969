"""The studio's documents: the license certificate (``legato.license/v1``) and the payment receipt
(``legato.receipt/v1``), both carried in the chain-of-title bundle (``legato.chain-of-title/v1``).

Both are made like certificates of authorship (``registry/certificate.py``): a JSON object serialized
with RFC 8785 (JCS), signed with the platform's Ed25519 key over its JCS bytes without ``signature``, so
the bytes — and therefore the IPFS CID — are reproducible and anyone can check the signature with the
public key printed in the document. The license certificate names the work and the certificates of
authorship of the licensed chapters, the parties, the terms and their hash, the payment receipt (by id
and the SHA-256 of its bytes) and the on-chain grants.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from registry import certificate as cert_mod
from registry.errors import VerificationError
from registry.signing import PlatformKey

LICENSE_SCHEMA = "legato.license/v1"
RECEIPT_SCHEMA = "legato.receipt/v1"
BUNDLE_SCHEMA = "legato.chain-of-title/v1"  # made by chain_of_title.py, checked by offline_verification.py


def sign_document(unsigned: dict[str, Any], key: PlatformKey) -> bytes:
    """The signed document's exact bytes (JCS)."""
    return cert_mod.serialize(cert_mod.sign(unsigned, key))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_receipt(
    *, receipt_id: str, issued_at: datetime, agreement_id: str, checkout_id: str, payer_id: str,
    payee_id: str, amount_cents: int, currency: str, gateway: str, payment_ref: str, paid_at: datetime,
    writer_cents: int, platform_cents: int, writer_share_pct: int, transfer_id: str, applied: bool,
) -> dict[str, Any]:
    """What the studio paid, for which agreement, and how the ledger split it."""
    return {
        "schema": RECEIPT_SCHEMA,
        "id": receipt_id,
        "issued_at": cert_mod.iso_utc(issued_at),
        "agreement_id": agreement_id,
        "checkout_id": checkout_id,
        "payer": {"id": payer_id},
        "payee": {"id": payee_id},
        "amount_cents": amount_cents,
        "currency": currency,
        "gateway": gateway,
        "payment_ref": payment_ref,
        "paid_at": cert_mod.iso_utc(paid_at),
        "split": {"writer_share_pct": writer_share_pct, "writer_cents": writer_cents,
                  "platform_cents": platform_cents, "ledger_transfer_id": transfer_id},
        "applied": applied,
    }


def build_license(
    *, certificate_id: str, issued_at: datetime, agreement_id: str, terms_document: dict[str, Any],
    terms_hash: str, receipt: dict[str, Any], receipt_bytes: bytes, grants: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The license certificate. ``terms_document`` is the agreement's hashed terms, carried whole so the
    hash can be recomputed from the certificate alone."""
    work = terms_document["work"]
    return {
        "schema": LICENSE_SCHEMA,
        "id": certificate_id,
        "issued_at": cert_mod.iso_utc(issued_at),
        "agreement_id": agreement_id,
        "work": {"story_id": work["story_id"], "title": work["title"], "work_id": work["work_id"],
                 "chapters": work["chapters"]},
        "licensor": terms_document["licensor"],
        "licensee": terms_document["licensee"],
        "terms_document": terms_document,
        "terms_hash": terms_hash,
        "payment": {"receipt_id": receipt["id"], "receipt_sha256": sha256_hex(receipt_bytes),
                    "checkout_id": receipt["checkout_id"], "amount_cents": receipt["amount_cents"],
                    "currency": receipt["currency"], "paid_at": receipt["paid_at"]},
        "grants": list(grants),
    }


def check_signature(doc: dict[str, Any], *, data: bytes | None = None) -> str:
    """Verify the platform's Ed25519 signature; returns the signer's key id. With ``data``, also checks
    the bytes are the document's canonical (JCS) form, as a CID of them requires."""
    signer = cert_mod.check_signature(doc)
    if data is not None and cert_mod.serialize(doc) != data:
        raise VerificationError("The bytes are not the document's canonical (JCS) form.", check="format")
    return signer
