"""Offline verification of a certificate: each claim checked on its own, nothing trusted from Legato.

Parsing and verifying are separate steps (``certificate.parse`` then the checks here). Every check
either passes, is skipped because it does not apply (no text given, certificate not anchored yet), or
fails with the reason. :meth:`Report.raise_for_failure` raises for the first failed check, so callers
that want an exception get one and ``legato verify`` can print every line first.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from registry import certificate as cert_mod
from registry.canonical import CANONICALIZATION, canonicalize, content_sha256
from registry.errors import RegistryError, VerificationError
from registry.ipfs import cid_for_bytes
from registry.merkle import verify_proof
from registry.signing import verify_author_signature
from registry.timestamp import verify_token
from registry.trust import Trust, check_origin

if TYPE_CHECKING:
    from registry.chain.protocol import ChainReader

CHECKS = (
    "format",
    "origin",
    "content_hash",
    "signature",
    "author_signature",
    "timestamp",
    "merkle_proof",
    "chain",
    "cid",
)


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: str  # "pass" | "fail" | "skip"
    detail: str

    @property
    def ok(self) -> bool:
        """Passed. A skipped check is not a pass: it proved nothing."""
        return self.status == "pass"

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "status": self.status, "detail": self.detail}


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)
    certificate: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """No check failed. ``origin`` never skips, so a report without a pinned trust is not ok."""
        return self.first_failure is None

    @property
    def first_failure(self) -> CheckResult | None:
        return next((r for r in self.results if r.status == "fail"), None)

    def raise_for_failure(self) -> None:
        failed = self.first_failure
        if failed is not None:
            raise VerificationError(f"{failed.check}: {failed.detail}", check=failed.check)


def _hex(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def verify_certificate(
    data: bytes,
    *,
    text: bytes | str | None = None,
    tsa_roots_pem: list[bytes] | None = None,
    chain: ChainReader | None = None,
    expected_cid: str | None = None,
    platform_key_id: str | None = None,
    trust: Trust | None = None,
    held: Callable[[str], list[bytes] | None] | None = None,
) -> Report:
    """``trust`` pins the platform (no trust: ``origin`` fails). ``held`` is a server's own record: the
    stored bytes of a certificate id, or None when it holds no such id."""
    report = Report()
    try:
        cert = cert_mod.parse(data)
    except VerificationError as e:
        report.results.append(CheckResult("format", "fail", e.message))
        return report
    report.certificate = cert
    report.results.append(CheckResult("format", "pass", f"{cert_mod.SCHEMA} {cert.get('id')}"))
    if tsa_roots_pem is None and trust is not None and trust.tsa_roots_pem:
        tsa_roots_pem = trust.tsa_roots_pem

    checks: list[tuple[str, Callable[[], tuple[str, str]]]] = [
        ("origin", lambda: _origin(cert, trust, chain, held)),
        ("content_hash", lambda: _content_hash(cert, text)),
        ("signature", lambda: _signature(cert, platform_key_id)),
        ("author_signature", lambda: _author_signature(cert)),
        ("timestamp", lambda: _timestamp(cert, tsa_roots_pem)),
        ("merkle_proof", lambda: _merkle(cert)),
        ("chain", lambda: _chain(cert, chain)),
        ("cid", lambda: _cid(data, cert, expected_cid)),
    ]
    for name, run in checks:
        try:
            status, detail = run()
        except RegistryError as e:
            status, detail = "fail", e.message
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError) as e:
            status, detail = "fail", f"malformed certificate field: {e!r}"[:500]
        report.results.append(CheckResult(name, status, detail))
    return report


def _origin(cert: dict[str, Any], trust: Trust | None, chain: ChainReader | None,
            held: Callable[[str], list[bytes] | None] | None) -> tuple[str, str]:
    status, detail = check_origin(cert, trust, chain)
    if held is not None:
        stored = held(str(cert.get("id")))
        if stored is not None and cert_mod.serialize(cert) not in stored:
            raise VerificationError(
                f"this server holds certificate {cert.get('id')} with other bytes: it is not the one "
                "the platform issued under that id", check="origin")
        detail += "; identical to the server's record" if stored is not None else "; not held by this server"
    return status, detail


def _content_hash(cert: dict[str, Any], text: bytes | str | None) -> tuple[str, str]:
    content = cert["content"]
    if content.get("canonicalization") != CANONICALIZATION:
        raise VerificationError(f"unknown canonicalization {content.get('canonicalization')!r}")
    if text is None:
        return "skip", "no text given (--text FILE checks it)"
    canonical = canonicalize(text, max_chars=10**9)
    digest = content_sha256(canonical)
    if digest != content["sha256"]:
        raise VerificationError(f"text hashes to {digest}, certificate says {content['sha256']}")
    if len(canonical) != content["length"]:
        raise VerificationError(f"text has {len(canonical)} characters, certificate says {content['length']}")
    return "pass", f"sha256 {digest} ({len(canonical)} characters)"


def _signature(cert: dict[str, Any], expected_key_id: str | None) -> tuple[str, str]:
    key_id = cert_mod.check_signature(cert)
    if expected_key_id and key_id != expected_key_id:
        raise VerificationError(f"signed by key {key_id}, expected the platform key {expected_key_id}")
    return "pass", f"valid Ed25519 signature by key {key_id} (whose key: see origin)"


def _author_signature(cert: dict[str, Any]) -> tuple[str, str]:
    author = cert["author"]
    sig = author.get("signature")
    if not sig:
        return "skip", "no author co-signature"
    if not author.get("wallet"):
        raise VerificationError("an author signature without a wallet address")
    verify_author_signature(cert["content"]["sha256"], sig["value"], author["wallet"])
    return "pass", f"EIP-191 signature by {author['wallet']}"


def _timestamp(cert: dict[str, Any], roots: list[bytes] | None) -> tuple[str, str]:
    ts = cert["timestamp"]
    chain = [pem.encode() for pem in ts.get("tsa_chain", [])]
    pinned = roots is not None
    if not pinned:
        if not chain:
            raise VerificationError("no TSA chain in the certificate and no --tsa-ca given")
        roots = [chain[-1]]
    verified = verify_token(
        base64.b64decode(ts["token"]), digest=_hex(cert["content"]["sha256"]), roots_pem=roots
    )
    claimed = datetime.fromisoformat(ts["gen_time"].replace("Z", "+00:00"))
    if abs((verified.gen_time - claimed).total_seconds()) > 1:
        raise VerificationError(
            f"token time {verified.gen_time.isoformat()} differs from gen_time {ts['gen_time']}"
        )
    root = x509.load_pem_x509_certificate(roots[0])
    fingerprint = root.fingerprint(hashes.SHA256()).hex()[:16]
    source = "pinned root" if pinned else "root taken from the certificate; pin it with --tsa-ca"
    return (
        "pass",
        f"RFC 3161 token of {verified.gen_time.isoformat()} by {ts.get('tsa')} "
        f"({source}, sha256 {fingerprint})",
    )


def _merkle(cert: dict[str, Any]) -> tuple[str, str]:
    anchor = cert.get("anchor")
    if not anchor:
        return "skip", "not anchored yet (pending)"
    leaf = cert_mod.merkle_leaf(cert_mod.core_of(cert), bytes.fromhex(anchor["leaf_nonce"]))
    if leaf != _hex(anchor["leaf"]):
        raise VerificationError(
            f"the certificate hashes to leaf 0x{leaf.hex()}, anchor says {anchor['leaf']}"
        )
    verify_proof(leaf, [_hex(p) for p in anchor["proof"]], _hex(anchor["merkle_root"]))
    return "pass", f"leaf in root {anchor['merkle_root']} ({len(anchor['proof'])} proof steps)"


def _chain(cert: dict[str, Any], chain: ChainReader | None) -> tuple[str, str]:
    anchor = cert.get("anchor")
    if not anchor:
        return "skip", "not anchored yet (pending)"
    if chain is None:
        return "skip", "no chain to ask (--rpc URL)"
    if chain.chain_id() != anchor["chain_id"]:
        raise VerificationError(
            f"the node is on chain {chain.chain_id()}, the anchor on chain {anchor['chain_id']}"
        )
    root = _hex(anchor["merkle_root"])
    if not chain.contract_verify(
        anchor["contract"], _hex(anchor["leaf"]), [_hex(p) for p in anchor["proof"]], root
    ):
        raise VerificationError(f"contract {anchor['contract']} answers verify(leaf, proof, root) = false")
    at = chain.contract_anchored_at(anchor["contract"], root)
    if at != anchor["block_timestamp"]:
        raise VerificationError(
            f"root anchored at {at} on chain, certificate says {anchor['block_timestamp']}"
        )
    return "pass", f"verify() true on chain {anchor['chain_id']} at {anchor['contract']}, anchored at {at}"


def _cid(data: bytes, cert: dict[str, Any], expected: str | None) -> tuple[str, str]:
    """Only an expected CID makes this a check: a CID computed from the bytes at hand proves nothing."""
    cid = cid_for_bytes(data)
    canonical = cert_mod.serialize(cert)
    if not expected:
        note = "" if canonical == data else f" (not canonical JCS; the canonical bytes have CID " \
            f"{cid_for_bytes(canonical)})"
        return "skip", f"no expected CID given (--cid); these bytes have CID {cid}{note}"
    if canonical != data:
        raise VerificationError(
            "the file is not in canonical (JCS) form; its canonical bytes have CID "
            f"{cid_for_bytes(canonical)}"
        )
    if expected != cid:
        raise VerificationError(f"bytes have CID {cid}, expected {expected}")
    return "pass", cid
