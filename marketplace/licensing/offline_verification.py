"""Checking a chain-of-title bundle (``legato.chain-of-title/v1``) or a license certificate on its own,
without Legato's server: ``legato verify BUNDLE.json`` prints one line per check.

:func:`verify_bundle` checks each piece on its own — every chapter's certificate of authorship (its RFC
3161 token, TSA chain and Merkle proof inside), every license certificate and the platform-signed payment
receipts behind it, the bundle's own signature and origin — and with a chain (``--rpc``) also that every
grant is on the ``LicenseRegistry`` and that the bundle leaves none out. :func:`verify_license` checks a
license certificate alone. The bundle is made by :mod:`.chain_of_title`; docs/licensing.md describes
the format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from marketplace.licensing.license_documents import (
    BUNDLE_SCHEMA,
    LICENSE_SCHEMA,
    RECEIPT_SCHEMA,
    check_signature,
)
from marketplace.licensing.terms import MEDIA, grant_id, terms_hash, work_id
from registry import certificate as cert_mod
from registry.certificate import parse_document
from registry.certificate_verify import CheckResult, Report, verify_certificate
from registry.chain.protocol import ChainReader
from registry.errors import RegistryError, VerificationError
from registry.ipfs import cid_for_bytes
from registry.trust import Trust, check_origin


def is_bundle(data: bytes) -> bool:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("schema") == BUNDLE_SCHEMA


def is_license(data: bytes) -> bool:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("schema") == LICENSE_SCHEMA


def license_registry_of(data: bytes) -> str | None:
    """The ``LicenseRegistry`` address the grants of a bundle or license certificate name, to open a
    chain reader on it."""
    try:
        doc = json.loads(data)
        for g in doc.get("grants", []) if doc.get("schema") == LICENSE_SCHEMA else []:
            return str(g["contract"])
        for entry in doc.get("licenses", []):
            for g in json.loads(entry["certificate"]).get("grants", []):
                return str(g["contract"])
        for g in doc.get("other_grants", []):
            return str(g["contract"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


class _Checks:
    def __init__(self) -> None:
        self.report = Report()

    def run(self, name: str, check: Callable[[], tuple[str, str]]) -> bool:
        try:
            status, detail = check()
        except RegistryError as e:
            status, detail = "fail", e.message
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError) as e:
            status, detail = "fail", f"malformed field: {e!r}"[:500]
        self.report.results.append(CheckResult(name, status, detail))
        return status != "fail"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise VerificationError(message)


def verify_bundle(data: bytes, *, chain: ChainReader | None = None,
                  tsa_roots_pem: list[bytes] | None = None, trust: Trust | None = None) -> Report:
    """Every document checked on its own, each with its ``origin`` against ``trust``; then the bundle."""
    checks = _Checks()
    doc: dict[str, Any] = {}

    def fmt() -> tuple[str, str]:
        nonlocal doc
        doc = json.loads(data.decode("utf-8"))
        _require(isinstance(doc, dict) and doc.get("schema") == BUNDLE_SCHEMA,
                 f"not a {BUNDLE_SCHEMA} document")
        _require(isinstance(doc.get("chapters"), list) and isinstance(doc.get("licenses"), list),
                 "chapters and licenses must be lists")
        _require(doc["work"]["work_id"] == "0x" + work_id(doc["work"]["story_id"]).hex(),
                 "work_id is not derived from the story id")
        return "pass", (f"{BUNDLE_SCHEMA} for {doc['work']['title']!r}: {len(doc['chapters'])} chapter "
                      f"certificate(s), {len(doc['licenses'])} license(s)")

    if not checks.run("bundle format", fmt):
        return checks.report

    story_id, author_id = doc["work"]["story_id"], doc["work"]["author"]["id"]
    signers: set[str] = set()
    contents: dict[str, str] = {}  # certificate id -> content sha256, for the licenses' references

    for entry in doc["chapters"]:
        label = f"chapter {entry.get('number')}" + ("" if entry.get("current", True) else
                                                    f" (earlier text {str(entry.get('certificate_id'))[:8]})")
        body = str(entry.get("certificate", "")).encode("utf-8")
        sub = verify_certificate(body, tsa_roots_pem=tsa_roots_pem, chain=chain,
                                 expected_cid=entry.get("cid"), trust=trust)
        checks.report.results += [CheckResult(f"{label}: {r.check}", r.status, r.detail) for r in sub.results]
        cert = sub.certificate
        if cert is None:
            continue

        def work_check(cert: dict[str, Any] = cert, entry: dict[str, Any] = entry) -> tuple[str, str]:
            _require(cert.get("id") == entry.get("certificate_id"),
                     "the certificate id differs from the bundle's")
            _require(cert["work"].get("story_id") == story_id, "the certificate is for another story")
            _require(cert["work"].get("chapter_id") == entry.get("chapter_id"),
                     "the certificate is for another chapter")
            _require(cert["author"].get("id") == author_id, "the certificate names another author")
            return "pass", f"{cert['work'].get('title')} by {cert['author'].get('display_name')}"

        if checks.run(f"{label}: work", work_check):
            contents[cert["id"]] = cert["content"]["sha256"]
            signers.add(cert["signature"].get("key_id", ""))

    bundle_grants: set[str] = {str(g.get("grant_id")) for g in doc.get("other_grants", [])}
    for entry in doc["licenses"]:
        _verify_license(checks, entry, story_id=story_id, contents=contents, signers=signers,
                        grants=bundle_grants, chain=chain, trust=trust)

    # After the documents, so the first failure names the document that changed; this catches the rest
    # (the header, public grants, a document left out).
    def bundle_signature() -> tuple[str, str]:
        _require(isinstance(doc.get("signature"), dict), "the bundle is not signed")
        key_id = check_signature(doc)
        _require(key_id == doc.get("platform_key", {}).get("key_id"),
                 f"signed by {key_id}, the bundle names {doc.get('platform_key', {}).get('key_id')}")
        return "pass", f"the whole bundle is signed by platform key {key_id}"

    checks.run("bundle signature", bundle_signature)
    checks.run("bundle origin", lambda: check_origin(doc, trust, chain))

    def signer_check() -> tuple[str, str]:
        # After a key rotation older documents carry the older key: each is pinned by its own origin
        # check, so several keys are fine as long as the pinned trust lists every one.
        expected = doc.get("platform_key", {}).get("key_id")
        if trust is not None and trust.keys:
            listed = {k.key_id for k in trust.keys}
            _require(signers <= listed, f"signed by keys the trust does not list: {sorted(signers - listed)}")
            return "pass", f"documents signed by platform key(s) {', '.join(sorted(signers))}"
        _require(len(signers) <= 1, f"documents are signed by several keys: {sorted(signers)}")
        _require(not signers or expected in signers,
                 f"signed by {sorted(signers)}, the bundle names {expected}")
        return "pass", f"every document signed by platform key {expected}"

    checks.run("bundle signer", signer_check)

    def completeness() -> tuple[str, str]:
        if chain is None:
            return "skip", "no chain to ask (--rpc URL)"
        on_chain = {"0x" + g.grant_id.hex() for g in chain.grants_of(work_id(story_id))}
        missing = sorted(on_chain - bundle_grants)
        _require(not missing, f"the chain holds grants the bundle leaves out: {missing}")
        return "pass", f"{len(on_chain)} grant(s) on chain, all in the bundle"

    checks.run("bundle grants on chain", completeness)
    return checks.report


def verify_license(data: bytes, *, chain: ChainReader | None = None, trust: Trust | None = None,
                   expected_cid: str | None = None) -> Report:
    """A license certificate on its own (``legato verify license.json``): format, origin, signature,
    terms, grants on chain, CID. The work and receipt checks need the bundle around it and are skipped."""
    checks = _Checks()
    try:
        lic = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        lic = {}
    entry = {"agreement_id": lic.get("agreement_id") if isinstance(lic, dict) else None,
             "certificate": data.decode("utf-8", errors="replace"), "cid": expected_cid}
    _verify_license(checks, entry, story_id=None, contents={}, signers=set(), grants=set(), chain=chain,
                    trust=trust, label="license")
    return checks.report


def _verify_license(checks: _Checks, entry: dict[str, Any], *, story_id: str | None, contents: dict[str, str],
                    signers: set[str], grants: set[str], chain: ChainReader | None, trust: Trust | None,
                    label: str | None = None) -> None:
    label = label or f"license {str(entry.get('agreement_id'))[:8]}"
    standalone = story_id is None
    body = str(entry.get("certificate", "")).encode("utf-8")
    lic: dict[str, Any] = {}

    def fmt() -> tuple[str, str]:
        nonlocal lic
        lic = parse_document(body, LICENSE_SCHEMA)
        _require(cert_mod.serialize(lic) == body, "the bytes are not the certificate's canonical (JCS) form")
        _require(lic.get("agreement_id") == entry.get("agreement_id"),
                 "the certificate is for another agreement")
        return "pass", f"{LICENSE_SCHEMA} {lic.get('id')} ({entry.get('status')})"

    if not checks.run(f"{label}: format", fmt):
        return

    def signature() -> tuple[str, str]:
        signers.add(check_signature(lic))
        return "pass", f"Ed25519 by platform key {lic['signature']['key_id']}"

    def origin() -> tuple[str, str]:
        status, detail = check_origin(lic, trust, chain)
        for g in lic.get("grants") or []:
            assert trust is not None  # check_origin raised otherwise
            _require(trust.chain_id is None or int(g["chain_id"]) == trust.chain_id,
                     f"grant on chain {g['chain_id']}, the trust pins chain {trust.chain_id}")
            _require(trust.license_registry is not None and
                     str(g["contract"]).lower() == trust.license_registry.lower(),
                     f"grant recorded in {g['contract']}, not the platform's LicenseRegistry "
                     f"{trust.license_registry}")
        return status, detail

    def cid() -> tuple[str, str]:
        actual = cid_for_bytes(body)
        if not entry.get("cid"):
            return "skip", f"no expected CID given (--cid); these bytes have CID {actual}"
        _require(entry["cid"] == actual, f"bytes have CID {actual}, expected {entry.get('cid')}")
        return "pass", actual

    document = lic.get("terms_document") or {}
    terms = document.get("terms") or {}

    def terms_check() -> tuple[str, str]:
        digest = terms_hash(document)
        _require(digest == lic.get("terms_hash"),
                 f"the terms hash to {digest}, the certificate says {lic.get('terms_hash')}")
        _require(document.get("agreement_id") == lic["agreement_id"], "the terms are another agreement's")
        kind = "exclusive" if terms["exclusive"] else "non-exclusive"
        return "pass", (f"sha256 {digest}: {', '.join(terms['media'])}, {terms['territory']}, {kind}, "
                      f"{terms['start']} to {terms['end']}")

    def work_check() -> tuple[str, str]:
        if standalone:
            return "skip", "the chapters' certificates are checked in the chain-of-title bundle"
        work = lic["work"]
        _require(work["story_id"] == story_id and work == {k: document["work"][k] for k in work},
                 "the license is for another work")
        _require(work["work_id"] == "0x" + work_id(story_id).hex(), "work_id is not the story's")
        for c in work["chapters"]:
            _require(c["certificate_id"] in contents,
                     f"certificate {c['certificate_id']} is not in the bundle")
            _require(contents[c["certificate_id"]] == c["sha256"],
                     f"certificate {c['certificate_id']} covers other text")
        return "pass", f"{len(work['chapters'])} chapter certificate(s), all in the bundle"

    def receipt_check() -> tuple[str, str]:
        if standalone:
            return "skip", "the payment receipt is checked in the chain-of-title bundle"
        payment = lic["payment"]
        found = [r for r in entry.get("receipts", []) if r.get("receipt_id") == payment["receipt_id"]]
        _require(bool(found), f"receipt {payment['receipt_id']} is not in the bundle")
        raw = str(found[0]["receipt"]).encode("utf-8")
        _require(hashlib.sha256(raw).hexdigest() == payment["receipt_sha256"],
                 "the receipt's bytes differ from the hash the license certificate signs")
        receipt = parse_document(raw, RECEIPT_SCHEMA)
        signers.add(check_signature(receipt, data=raw))
        _require(receipt["agreement_id"] == lic["agreement_id"], "the receipt pays another agreement")
        _require(receipt["amount_cents"] == terms["fee_cents"] == payment["amount_cents"],
                 "the amount is not the fee")
        split = receipt["split"]
        _require(split["writer_cents"] + split["platform_cents"] == receipt["amount_cents"],
                 "the split does not add up")
        return "pass", f"{receipt['amount_cents']} {receipt['currency']} paid {receipt['paid_at']} " \
                     f"({split['writer_cents']} writer / {split['platform_cents']} platform)"

    def grants_check() -> tuple[str, str]:
        listed = lic.get("grants") or []
        _require(sorted(g["medium"] for g in listed) == sorted(terms["media"]),
                 "not one grant per licensed medium")
        for g in listed:
            _require(g["grant_id"] == "0x" + grant_id(lic["agreement_id"], g["medium"]).hex(),
                     "the grant id is not the one derived from the agreement and medium")
            _require(g["terms_hash"] == "0x" + lic["terms_hash"] and g["work_id"] == lic["work"]["work_id"],
                     "the grant carries other terms or another work")
            _require(g["media_code"] == MEDIA[g["medium"]] and g["exclusive"] == terms["exclusive"],
                     "the grant's medium or exclusivity differs from the terms")
            _require(g["licensee"].lower() == document["licensee"]["address"].lower(),
                     "the grant names another licensee")
            grants.add(g["grant_id"])
        return "pass", ", ".join(f"{g['medium']} in tx {g['tx_hash']}" for g in listed)

    def chain_check() -> tuple[str, str]:
        if chain is None:
            return "skip", "no chain to ask (--rpc URL)"
        for g in lic["grants"]:
            _require(chain.chain_id() == g["chain_id"],
                     f"the node is on chain {chain.chain_id()}, the grant on {g['chain_id']}")
            registry = chain.license_registry_address()
            _require(registry.lower() == g["contract"].lower(),
                     f"the node's LicenseRegistry is {registry}, the grant names {g['contract']}")
            found = chain.find_grant(bytes.fromhex(g["grant_id"][2:]))
            _require(found is not None, f"grant {g['grant_id']} is not on chain")
            assert found is not None
            on = found.grant
            recorded = ("0x" + on.terms_hash.hex(), "0x" + on.work_id.hex(), on.media, on.start, on.end,
                        on.exclusive, on.licensee.lower())
            claimed = (g["terms_hash"], g["work_id"], g["media_code"], g["start"], g["end"], g["exclusive"],
                       g["licensee"].lower())
            _require(recorded == claimed, f"grant {g['grant_id']} on chain differs from the certificate")
            _require(found.tx_hash.lower() == g["tx_hash"].lower(),
                     f"grant {g['grant_id']} was recorded in {found.tx_hash}")
        if not lic["grants"]:
            return "skip", "no grants"
        return "pass", f"{len(lic['grants'])} grant(s) recorded on chain {lic['grants'][0]['chain_id']}"

    for name, check in (("origin", origin), ("signature", signature), ("cid", cid),
                        ("terms_hash", terms_check), ("work", work_check), ("receipt", receipt_check),
                        ("grants", grants_check), ("chain", chain_check)):
        checks.run(f"{label}: {name}", check)


__all__ = ["is_bundle", "is_license", "license_registry_of", "verify_bundle", "verify_license"]
