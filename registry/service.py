"""The registry service: text in, signed certificate out, nothing lost when a dependency is down.

``register`` canonicalizes and fingerprints the text, refuses it when it copies an earlier work of a
different author, timestamps its SHA-256, stores the registration and issues the pending certificate.
When the TSA is unreachable the registration waits as ``pending_timestamp``; when IPFS is, the
certificate waits unpinned. ``retry_timestamps`` and ``pin_pending`` (run by the worker) finish both.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry import certificate as cert_mod
from registry.canonical import CANONICALIZATION, canonicalize, content_sha256
from registry.db import new_id
from registry.errors import (
    InvalidSignature,
    InvalidTimestamp,
    NotFound,
    PinningUnavailable,
    PlagiarismSuspected,
    Unavailable,
)
from registry.evidence import Match
from registry.fingerprint import Fingerprint, Signatures
from registry.fingerprint_key import FingerprintKey
from registry.ipfs import Pinner, cid_for_bytes
from registry.models import CertificateState, Registration, RegistrationStatus
from registry.signing import PlatformKey, verify_author_signature
from registry.similarity.matching import BLOCK_CONTAINMENT, BLOCK_JACCARD, find_matches
from registry.similarity.protocol import SimilarityIndex
from registry.timestamp import Timestamper, TimestampToken

log = logging.getLogger("legato.registry")
INDEX_SYNC_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Author:
    id: str
    display_name: str
    wallet: str | None = None


@dataclass(frozen=True)
class Prepared:
    canonical: str
    sha256: str
    fingerprint: Fingerprint


@dataclass
class CheckReport:
    sha256: str
    matches: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False


@dataclass
class Registered:
    registration: Registration
    created: bool
    certificate: CertificateState | None


class Registry:
    def __init__(
        self,
        *,
        timestamper: Timestamper,
        signer: PlatformKey,
        index: SimilarityIndex,
        pinner: Pinner,
        fingerprint_key: FingerprintKey,
        max_chars: int = 500_000,
        block_containment: float = BLOCK_CONTAINMENT,
        block_jaccard: float = BLOCK_JACCARD,
        retry_after: timedelta = timedelta(seconds=30),
        index_is_shared: bool = False,
    ) -> None:
        self.timestamper = timestamper
        self.signer = signer
        self.index = index
        self.pinner = pinner
        # Seals stored fingerprints and keys their signatures: no row can be read back as text without it.
        self.fingerprint_key = fingerprint_key
        self.max_chars = max_chars
        self.block_containment = block_containment
        self.block_jaccard = block_jaccard
        self.retry_after = retry_after
        # A process-local index misses registrations other processes (the CLI, a second server) made;
        # it catches up from the database before each query. A shared (Redis) index needs no catching up.
        self.index_is_shared = index_is_shared
        self._synced_until: datetime | None = None
        self._sync_lock = threading.Lock()

    # --- reading -----------------------------------------------------------------------------
    def prepare(self, text: bytes | str) -> Prepared:
        canonical = canonicalize(text, max_chars=self.max_chars)
        return Prepared(canonical, content_sha256(canonical), self.fingerprint_key.fingerprinter(canonical))

    def get(self, session: Session, registration_id: str) -> Registration:
        reg = session.get(Registration, registration_id)
        if reg is None:
            raise NotFound("No such registration.", details={"registration_id": registration_id})
        return reg

    def latest_certificate(self, session: Session, certificate_id: str) -> CertificateState:
        state = session.scalars(
            select(CertificateState)
            .where(CertificateState.certificate_id == certificate_id)
            .order_by(CertificateState.id.desc())
            .limit(1)
        ).first()
        if state is None:
            raise NotFound(
                "No such certificate (or it is still waiting for its timestamp).",
                details={"certificate_id": certificate_id},
            )
        return state

    def lookup_certificate(self, session: Session, some_id: str) -> tuple[CertificateState, Registration]:
        """The latest certificate state and its registration, by certificate id or registration id."""
        reg = session.scalars(select(Registration).where(Registration.certificate_id == some_id)).first()
        reg = reg or session.get(Registration, some_id)
        if reg is None:
            raise NotFound("No such certificate or registration.", details={"id": some_id})
        return self.latest_certificate(session, reg.certificate_id), reg

    def certificate_for_registration(self, session: Session, reg: Registration) -> CertificateState | None:
        try:
            return self.latest_certificate(session, reg.certificate_id)
        except NotFound:
            return None

    # --- plagiarism --------------------------------------------------------------------------
    def _load_fingerprint(self, session: Session, key: str) -> Fingerprint | None:
        blob = session.scalar(select(Registration.fingerprint).where(Registration.id == key))
        return self.fingerprint_key.open(blob, key) if blob is not None else None

    def open_fingerprint(self, reg: Registration) -> Fingerprint:
        """The full fingerprint of ``reg`` (sealed at rest), for an exact comparison such as a dispute's."""
        return self.fingerprint_key.open(reg.fingerprint, reg.id)

    def _load_signatures(self, session: Session, key: str) -> Signatures | None:
        blob = session.scalar(select(Registration.fingerprint_signatures).where(Registration.id == key))
        return Signatures.from_bytes(blob) if blob is not None else None

    def sync_index(self, session: Session) -> int:
        """Add registrations the local index has not seen. Rows are taken from a window reaching back
        ``INDEX_SYNC_MARGIN`` before the last sync, so a slow transaction that committed late (with an
        older ``created_at``) is still found; keys already indexed are skipped."""
        if self.index_is_shared:
            return 0
        with self._sync_lock:
            query = select(Registration.id, Registration.created_at)
            if self._synced_until is not None:
                query = query.where(Registration.created_at >= self._synced_until - INDEX_SYNC_MARGIN)
            added = 0
            latest = self._synced_until
            for key, created in session.execute(query):
                latest = created if latest is None or created > latest else latest
                if key in self.index:  # type: ignore[operator]
                    continue
                sig = self._load_signatures(session, key)
                if sig is not None:
                    self.index.add(key, sig)
                    added += 1
            self._synced_until = latest
            return added

    def _matches(self, session: Session, prepared: Prepared) -> list[tuple[Match, Registration]]:
        self.sync_index(session)
        found = find_matches(
            prepared.fingerprint,
            index=self.index,
            load=lambda key: self._load_fingerprint(session, key),
            min_containment=self.block_containment,
            min_jaccard=self.block_jaccard,
        )
        out = []
        for match in found:
            reg = session.get(Registration, match.key)
            if reg is not None:
                out.append((match, reg))
        return out

    @staticmethod
    def _evidence(match: Match, reg: Registration) -> dict[str, Any]:
        return {
            "registration_id": reg.id,
            "certificate_id": reg.certificate_id,
            "work_id": reg.work_id,
            "title": reg.title,
            "author_id": reg.author_id,
            "author_name": reg.author_name,
            "sha256": reg.sha256,
            "registered_at": cert_mod.iso_utc(reg.created_at),
            **match.to_dict(),
        }

    def check(self, session: Session, *, text: bytes | str, author_id: str | None = None) -> CheckReport:
        prepared = self.prepare(text)
        report = CheckReport(sha256=prepared.sha256)
        for match, reg in self._matches(session, prepared):
            report.matches.append(self._evidence(match, reg))
            if reg.author_id != author_id:
                report.refused = True
        return report

    # --- registering -------------------------------------------------------------------------
    def register(
        self,
        session: Session,
        *,
        text: bytes | str,
        title: str,
        author: Author,
        story_id: str | None = None,
        chapter_id: str | None = None,
        author_signature: str | None = None,
    ) -> Registered:
        prepared = self.prepare(text)
        if author_signature:
            if not author.wallet:
                raise InvalidSignature(
                    "An author signature needs a wallet address on the profile.", check="author_signature"
                )
            verify_author_signature(prepared.sha256, author_signature, author.wallet)

        same = session.scalars(
            select(Registration)
            .where(Registration.sha256 == prepared.sha256, Registration.author_id == author.id)
            .order_by(Registration.created_at)
        ).first()
        if same is not None:
            return Registered(same, False, self.certificate_for_registration(session, same))

        work_id, version = None, 1
        for match, reg in self._matches(session, prepared):
            if reg.author_id != author.id:
                evidence = self._evidence(match, reg)
                raise PlagiarismSuspected(
                    f"This text matches {reg.title!r}, registered earlier by another author.",
                    details={"prior_registration": reg.id, "evidence": evidence},
                )
            if work_id is None:
                work_id = reg.work_id
        if work_id is not None:
            version = 1 + (
                session.scalar(select(func.max(Registration.version)).where(Registration.work_id == work_id))
                or 0
            )

        reg_id = new_id()
        reg = Registration(
            id=reg_id,
            work_id=work_id or reg_id,
            status=RegistrationStatus.pending_timestamp,
            title=title,
            story_id=story_id,
            chapter_id=chapter_id,
            author_id=author.id,
            author_name=author.display_name,
            author_wallet=author.wallet,
            author_signature=author_signature,
            sha256=prepared.sha256,
            length=len(prepared.canonical),
            fingerprint=self.fingerprint_key.seal(prepared.fingerprint, reg_id),
            fingerprint_signatures=prepared.fingerprint.signatures.to_bytes(),
            minhash=json.dumps({**prepared.fingerprint.params(), "digest": prepared.fingerprint.digest()}),
            leaf_nonce=secrets.token_hex(16),
            version=version,
        )
        session.add(reg)
        session.flush()
        self.index.add(reg.id, prepared.fingerprint)
        state = self._try_timestamp_and_issue(session, reg)
        return Registered(reg, True, state)

    def _try_timestamp_and_issue(self, session: Session, reg: Registration) -> CertificateState | None:
        try:
            token = self.timestamper.timestamp(bytes.fromhex(reg.sha256))
        except (Unavailable, InvalidTimestamp) as e:
            # A token that fails strict verification means the TSA misbehaves (wrong root, nonce or
            # imprint), not that the text is at fault: the registration waits like in an outage, and
            # the operator is told loudly.
            reg.attempts += 1
            reg.last_error = f"{e.code}: {e.message}"
            reg.next_attempt_at = datetime.now(UTC) + self.retry_after
            level = logging.ERROR if isinstance(e, InvalidTimestamp) else logging.WARNING
            log.log(level, "timestamp deferred", extra={"registration_id": reg.id, "error": e.code})
            return None
        return self._issue_pending(session, reg, token)

    def _issue_pending(self, session: Session, reg: Registration, token: TimestampToken) -> CertificateState:
        reg.tsa_token = token.token_der
        reg.tsa_gen_time = token.gen_time
        reg.timestamp_json = json.dumps(
            {
                "tsa": token.tsa_name,
                "url": token.tsa_url,
                "hash_algorithm": "sha256",
                "token": base64.b64encode(token.token_der).decode(),
                "gen_time": cert_mod.iso_utc(token.gen_time),
                "tsa_chain": list(token.chain_pem),
            }
        )
        reg.issued_at = datetime.now(UTC)
        unsigned = cert_mod.build_unsigned(self._parts(reg))
        reg.leaf = cert_mod.merkle_leaf(cert_mod.core_of(unsigned), bytes.fromhex(reg.leaf_nonce)).hex()
        reg.status = RegistrationStatus.pending_anchor
        reg.last_error = None
        reg.next_attempt_at = None
        return self.store_state(session, reg.certificate_id, "pending", cert_mod.sign(unsigned, self.signer))

    def _parts(self, reg: Registration) -> cert_mod.Parts:
        author: dict[str, Any] = {
            "id": reg.author_id,
            "display_name": reg.author_name,
            "wallet": reg.author_wallet,
        }
        if reg.author_signature:
            author["signature"] = {"scheme": "eip191-personal-sign-sha256", "value": reg.author_signature}
        return cert_mod.Parts(
            certificate_id=reg.certificate_id,
            registration_id=reg.id,
            issued_at=reg.issued_at or reg.created_at,
            work={
                "work_id": reg.work_id,
                "version": reg.version,
                "title": reg.title,
                "story_id": reg.story_id,
                "chapter_id": reg.chapter_id,
            },
            author=author,
            content={
                "sha256": reg.sha256,
                "length": reg.length,
                "canonicalization": CANONICALIZATION,
                "minhash": json.loads(reg.minhash),
            },
            timestamp=json.loads(reg.timestamp_json or "null"),
        )

    def store_state(
        self, session: Session, certificate_id: str, state: str, cert: dict[str, Any]
    ) -> CertificateState:
        """Keep the exact bytes of a certificate state, then try to pin them (IPFS may be down)."""
        body = cert_mod.serialize(cert)
        row = CertificateState(certificate_id=certificate_id, state=state, body=body, cid=cid_for_bytes(body))
        session.add(row)
        session.flush()
        self._pin(row)
        return row

    def _pin(self, row: CertificateState) -> None:
        try:
            cid = self.pinner.add(row.body, name=f"legato-certificate-{row.certificate_id}-{row.state}")
        except PinningUnavailable as e:
            log.warning("pin deferred", extra={"certificate_id": row.certificate_id, "error": e.message})
            return
        if cid != row.cid:
            log.error("pinner returned an unexpected CID", extra={"expected": row.cid, "got": cid})
            return
        row.pinned_at = datetime.now(UTC)

    # --- the worker's retries ----------------------------------------------------------------
    def retry_timestamps(self, session: Session, *, limit: int = 50) -> int:
        now = datetime.now(UTC)
        due = session.scalars(
            select(Registration)
            .where(
                Registration.status == RegistrationStatus.pending_timestamp,
                (Registration.next_attempt_at.is_(None)) | (Registration.next_attempt_at <= now),
            )
            .order_by(Registration.created_at)
            .limit(limit)
        ).all()
        done = 0
        for reg in due:
            if self._try_timestamp_and_issue(session, reg) is None:
                break  # the TSA is still down; the rest wait for the next round
            done += 1
        return done

    def pin_pending(self, session: Session, *, limit: int = 100) -> int:
        rows = session.scalars(
            select(CertificateState)
            .where(CertificateState.pinned_at.is_(None))
            .order_by(CertificateState.id)
            .limit(limit)
        ).all()
        pinned = 0
        for row in rows:
            self._pin(row)
            if row.pinned_at is None:
                break
            pinned += 1
        return pinned
