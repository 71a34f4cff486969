"""The chain-of-title bundle (``legato.chain-of-title/v1``): one JSON file a studio keeps and anyone can
check without Legato's server (:mod:`.offline_verification`, ``legato verify BUNDLE.json``).

It holds, for one story: every published chapter's certificate of authorship (its exact JCS bytes as a
string, with the RFC 3161 token, TSA chain and Merkle proof inside), every license certificate the viewer
may see with the platform-signed payment receipts behind it, and the public on-chain grants of the other
licenses. docs/licensing.md describes the format.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.licensing.agreements import Agreements
from marketplace.licensing.catalog import WorkCatalog, public_work
from marketplace.licensing.license_documents import BUNDLE_SCHEMA
from marketplace.licensing.models import AgreementStatus, LicenseAgreement, LicensePayment
from marketplace.licensing.terms import Actor, work_id
from registry import certificate as cert_mod
from registry.db import utcnow
from registry.models import CertificateState
from registry.signing import PlatformKey

PUBLIC_STATUSES = (AgreementStatus.active, AgreementStatus.paid_pending_grant, AgreementStatus.reversed)
PUBLIC_GRANT_FIELDS = ("medium", "grant_id", "start", "end", "exclusive", "chain_id", "contract", "tx_hash",
                       "licensee")


def sees_terms(actor: Actor, agreement: LicenseAgreement) -> bool:
    """License terms and fees are the parties' business; the grants themselves are public on chain."""
    return actor.is_admin or actor.id in (agreement.writer_id, agreement.studio_id)


class ChainOfTitle:
    def __init__(self, *, catalog: WorkCatalog, agreements: Agreements, signer: PlatformKey) -> None:
        self.catalog = catalog
        self.agreements = agreements
        self.signer = signer

    def bundle(self, session: Session, *, story_id: str, actor: Actor) -> dict[str, Any]:
        work = public_work(session, self.catalog, story_id)
        chapters: list[dict[str, Any]] = []
        seen: set[str] = set()

        def add_certificate(certificate_id: str, number: int, title: str, chapter_id: str,
                            current: bool) -> None:
            state = session.scalars(
                select(CertificateState).where(CertificateState.certificate_id == certificate_id)
                .order_by(CertificateState.id.desc())).first()
            if state is None or certificate_id in seen:
                return
            seen.add(certificate_id)
            chapters.append({"chapter_id": chapter_id, "number": number, "title": title,
                             "certificate_id": certificate_id, "state": state.state, "cid": state.cid,
                             "current": current, "certificate": state.body.decode("utf-8")})

        for c in work.chapters:
            if c.certificate_id:
                add_certificate(c.certificate_id, c.number, c.title, c.chapter_id, True)
        licenses, other_grants = [], []
        for agreement in self.agreements.of_work(session, story_id):
            certificate = self.agreements.certificate(session, agreement.id)
            if certificate is None:
                continue
            if not sees_terms(actor, agreement):
                if agreement.status in PUBLIC_STATUSES:
                    other_grants += [{k: g[k] for k in PUBLIC_GRANT_FIELDS} for g in agreement.grants]
                continue
            for c in agreement.terms_document["work"]["chapters"]:  # texts licensed since revised
                add_certificate(c["certificate_id"], c["number"], "", c["chapter_id"], False)
            payments = session.scalars(select(LicensePayment).where(
                LicensePayment.agreement_id == agreement.id).order_by(LicensePayment.created_at)).all()
            licenses.append({
                "agreement_id": agreement.id, "status": agreement.status.value,
                "certificate_id": certificate.id, "cid": certificate.cid,
                "certificate": certificate.body.decode("utf-8"),
                "receipts": [{"receipt_id": p.receipt_id, "checkout_id": p.checkout_id,
                              "sha256": hashlib.sha256(p.receipt).hexdigest(),
                              "receipt": p.receipt.decode("utf-8")} for p in payments],
            })
        # Signed as a whole (JCS without ``signature``) so nothing in it, the header and the public
        # grants included, can be edited unnoticed; each document inside is signed on its own as well.
        key = self.signer.current()  # the key named in the header is the one that signs
        return cert_mod.sign({
            "schema": BUNDLE_SCHEMA,
            "generated_at": cert_mod.iso_utc(utcnow()),
            "platform_key": {"key_id": key.key_id,
                             "public_key": base64.b64encode(key.public_raw).decode()},
            "work": {"story_id": work.story_id, "title": work.title,
                     "work_id": "0x" + work_id(story_id).hex(),
                     "author": {"id": work.author_id, "display_name": work.author_name}},
            "chapters": chapters,
            "licenses": licenses,
            "other_grants": other_grants,
        }, key)
