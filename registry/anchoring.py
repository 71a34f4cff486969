"""The batcher: pending registrations → one Merkle root → one anchor transaction → anchored certificates.

Every step that talks to the outside world runs between two committed database states, never inside
an open transaction:

1. *form*: claim pending registrations (``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers
   never take the same one), fix their order and the tree's root in an ``anchor_batches`` row;
2. *pin* the batch manifest (IPFS down → the batch waits, registrations stay ``pending_anchor``);
3. *anchor* the root (chain down → the batch waits); the chain adapter is idempotent, so a retry after a
   lost receipt reads the earlier anchor back instead of sending a second transaction;
4. *finish*: record the receipt and re-issue each certificate with its ``anchor`` section and proof.

A batch is claimed with a lease, so a crashed worker's batch is picked up again once the lease ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from registry import certificate as cert_mod
from registry.chain.protocol import AnchorReceipt, Chain
from registry.errors import ChainError, Unavailable
from registry.ipfs import Pinner, cid_for_bytes
from registry.merkle import build_tree
from registry.models import AnchorBatch, BatchStatus, CertificateState, Registration, RegistrationStatus
from registry.service import Registry

log = logging.getLogger("legato.anchoring")
MANIFEST_SCHEMA = "legato.batch/v1"


@dataclass(frozen=True)
class BatchReport:
    batch_id: str
    root: str
    leaf_count: int
    status: str
    tx_hash: str | None = None
    block_number: int | None = None
    manifest_cid: str | None = None
    error: str | None = None


class Anchorer:
    def __init__(
        self,
        *,
        registry: Registry,
        chain: Chain,
        pinner: Pinner,
        max_size: int = 256,
        max_age: timedelta = timedelta(seconds=60),
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.registry = registry
        self.chain = chain
        self.pinner = pinner
        self.max_size = max_size
        self.max_age = max_age
        self.lease = lease

    # --- the loop body -----------------------------------------------------------------------
    def run_once(self, sessions: sessionmaker[Session], *, force: bool = False) -> list[BatchReport]:
        """Finish waiting batches, then form and anchor new ones while there is due work.

        ``force`` anchors whatever is pending now, ignoring the size and age limits (``legato anchor``).
        Stops at the first batch that cannot finish (a dependency is down): the rest would fail alike.
        """
        reports: list[BatchReport] = []
        with sessions.begin() as session:
            waiting = session.scalars(
                select(AnchorBatch.id)
                .where(AnchorBatch.status == BatchStatus.built)
                .order_by(AnchorBatch.created_at)
            ).all()
        for batch_id in waiting:
            report = self.process(sessions, batch_id)
            if report is None:
                continue
            reports.append(report)
            if report.status != BatchStatus.anchored:
                return reports
        while True:
            with sessions.begin() as session:
                batch = self.form_batch(session, force=force)
                batch_id = batch.id if batch else None
            if batch_id is None:
                return reports
            report = self.process(sessions, batch_id)
            if report is not None:
                reports.append(report)
                if report.status != BatchStatus.anchored:
                    return reports

    # --- 1. form -----------------------------------------------------------------------------
    def form_batch(self, session: Session, *, force: bool) -> AnchorBatch | None:
        query = (
            select(Registration)
            .where(Registration.status == RegistrationStatus.pending_anchor, Registration.batch_id.is_(None))
            .order_by(Registration.created_at, Registration.id)
            .limit(self.max_size)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        regs = session.scalars(query).all()
        if not regs:
            return None
        oldest = min(r.created_at for r in regs)
        if not force and len(regs) < self.max_size and datetime.now(UTC) - oldest < self.max_age:
            return None
        tree = build_tree([bytes.fromhex(r.leaf or "") for r in regs])
        batch = AnchorBatch(
            status=BatchStatus.built,
            root=tree.root.hex(),
            leaf_count=len(regs),
            manifest=b"",
            manifest_cid="",
        )
        session.add(batch)
        session.flush()
        manifest = {
            "schema": MANIFEST_SCHEMA,
            "batch_id": batch.id,
            "root": "0x" + tree.root.hex(),
            "leaf_count": len(regs),
            "leaves": [{"certificate_id": r.certificate_id, "leaf": "0x" + (r.leaf or "")} for r in regs],
            "created_at": cert_mod.iso_utc(batch.created_at),
        }
        batch.manifest = cert_mod.canonical_json(manifest)
        batch.manifest_cid = cid_for_bytes(batch.manifest)
        for reg in regs:
            reg.batch_id = batch.id
        log.info("batch formed", extra={"batch_id": batch.id, "leaf_count": len(regs), "root": batch.root})
        return batch

    # --- 2-4. pin, anchor, finish ------------------------------------------------------------
    def process(self, sessions: sessionmaker[Session], batch_id: str) -> BatchReport | None:
        now = datetime.now(UTC)
        with sessions.begin() as session:
            claimed = session.execute(
                update(AnchorBatch)
                .where(
                    AnchorBatch.id == batch_id,
                    AnchorBatch.status == BatchStatus.built,
                    or_(AnchorBatch.lease_until.is_(None), AnchorBatch.lease_until < now),
                )
                .values(lease_until=now + self.lease, attempts=AnchorBatch.attempts + 1)
            ).rowcount
            if claimed != 1:
                return None  # another worker holds it, or it is already anchored
            batch = session.get(AnchorBatch, batch_id)
            assert batch is not None
            root, count, manifest, cid, pinned = (
                bytes.fromhex(batch.root),
                batch.leaf_count,
                batch.manifest,
                batch.manifest_cid,
                batch.manifest_pinned_at is not None,
            )
        try:
            if not pinned:
                got = self.pinner.add(manifest, name=f"legato-batch-{batch_id}")
                if got != cid:
                    raise Unavailable(f"IPFS returned {got} for a manifest whose CID is {cid}.")
                with sessions.begin() as session:
                    session.execute(
                        update(AnchorBatch)
                        .where(AnchorBatch.id == batch_id)
                        .values(manifest_pinned_at=datetime.now(UTC))
                    )
            # The contract must authorize the signing key before anchoring what it signs (docs/trust.md).
            sync_keys = getattr(self.registry.signer, "sync_chain", None)
            if sync_keys is not None:
                sync_keys(self.chain)
            receipt = self.chain.anchor(root, count, cid)
        except (Unavailable, ChainError) as e:
            # ChainError is the chain refusing (this account is not an anchorer, no funds for gas):
            # an operator's fix, after which the same batch goes through. Either way it waits.
            with sessions.begin() as session:
                session.execute(
                    update(AnchorBatch)
                    .where(AnchorBatch.id == batch_id)
                    .values(lease_until=None, last_error=f"{e.code}: {e.message}")
                )
            log.warning("batch waits", extra={"batch_id": batch_id, "error": e.code})
            return BatchReport(batch_id, root.hex(), count, BatchStatus.built, manifest_cid=cid, error=e.code)
        with sessions.begin() as session:
            self._finish(session, batch_id, receipt)
        log.info(
            "batch anchored",
            extra={"batch_id": batch_id, "tx_hash": receipt.tx_hash, "block_number": receipt.block_number},
        )
        return BatchReport(
            batch_id, root.hex(), count, BatchStatus.anchored, receipt.tx_hash, receipt.block_number, cid
        )

    def _finish(self, session: Session, batch_id: str, receipt: AnchorReceipt) -> None:
        batch = session.get(AnchorBatch, batch_id)
        assert batch is not None
        batch.status = BatchStatus.anchored
        batch.chain_id = receipt.chain_id
        batch.contract = receipt.contract
        batch.tx_hash = receipt.tx_hash
        batch.block_number = receipt.block_number
        batch.block_timestamp = receipt.block_timestamp
        batch.anchored_at = datetime.now(UTC)
        batch.lease_until = None
        batch.last_error = None
        regs = {
            r.certificate_id: r
            for r in session.scalars(select(Registration).where(Registration.batch_id == batch_id))
        }
        order = [leaf["certificate_id"] for leaf in cert_mod.json_loads(batch.manifest)["leaves"]]
        tree = build_tree([bytes.fromhex(regs[c].leaf or "") for c in order])
        pending = {
            s.certificate_id: s.body
            for s in session.scalars(
                select(CertificateState).where(
                    CertificateState.certificate_id.in_(order), CertificateState.state == "pending"
                )
            )
        }
        for index, certificate_id in enumerate(order):
            reg = regs[certificate_id]
            anchor = self._anchor_section(batch, receipt, reg, ["0x" + p.hex() for p in tree.proof(index)])
            unsigned = {**cert_mod.parse(pending[certificate_id]), "anchor": anchor}
            self.registry.store_state(
                session, certificate_id, "anchored", cert_mod.sign(unsigned, self.registry.signer)
            )
            reg.status = RegistrationStatus.anchored

    @staticmethod
    def _anchor_section(
        batch: AnchorBatch, receipt: AnchorReceipt, reg: Registration, proof: list[str]
    ) -> dict[str, Any]:
        return {
            "chain_id": receipt.chain_id,
            "contract": receipt.contract,
            "tx_hash": receipt.tx_hash,
            "block_number": receipt.block_number,
            "block_timestamp": receipt.block_timestamp,
            "merkle_root": "0x" + batch.root,
            "leaf": "0x" + (reg.leaf or ""),
            "leaf_nonce": reg.leaf_nonce,
            "proof": proof,
            "leaf_count": batch.leaf_count,
            "batch_id": batch.id,
            "manifest_cid": batch.manifest_cid,
        }
