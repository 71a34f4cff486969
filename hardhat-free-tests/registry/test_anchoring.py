"""The batcher: one transaction per batch, nothing lost or doubled when the chain or IPFS is down."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from factories import chapter_text
from sqlalchemy import select

from registry.anchoring import Anchorer
from registry.certificate_verify import verify_certificate
from registry.chain.web3_chain import Web3Chain
from registry.ipfs import KuboPinner, cid_for_bytes
from registry.merkle import build_tree
from registry.models import AnchorBatch, BatchStatus, Registration, RegistrationStatus
from registry.service import Author

AUTHOR = Author(id="u-anchor", display_name="Ngozi")
UNREACHABLE = "http://127.0.0.1:9"


def register_many(container, session, n: int, seed: int) -> list[Registration]:
    regs = [
        container.registry.register(
            session, text=chapter_text(seed + i), title=f"Ch {i}", author=AUTHOR
        ).registration
        for i in range(n)
    ]
    session.commit()
    return regs


def anchorer(container, **overrides) -> Anchorer:
    values = {
        "registry": container.registry,
        "chain": container.chain,
        "pinner": container.pinner,
        "max_size": 256,
        "max_age": timedelta(seconds=60),
    }
    values.update(overrides)
    return Anchorer(**values)


def test_three_registrations_one_transaction_each_verifies_fully(container, session, session_factory):
    regs = register_many(container, session, 3, seed=100)
    container.chain.registry_address()  # deploys on a fresh dev chain; count only the anchoring
    container.signer.sync_chain(container.chain)  # the key's one-time authorization, not per batch
    block_before = container.chain.w3.eth.block_number
    reports = anchorer(container).run_once(session_factory, force=True)
    assert len(reports) == 1 and reports[0].status == BatchStatus.anchored and reports[0].leaf_count == 3
    assert container.chain.w3.eth.block_number == block_before + 1  # exactly one transaction mined
    for i, reg in enumerate(regs):
        session.refresh(reg)
        assert reg.status == RegistrationStatus.anchored
        state = container.registry.latest_certificate(session, reg.certificate_id)
        assert state.state == "anchored" and state.pinned_at is not None
        cert = json.loads(state.body)
        assert cert["anchor"]["tx_hash"] == reports[0].tx_hash and cert["anchor"]["leaf_count"] == 3
        report = verify_certificate(
            state.body,
            text=chapter_text(100 + i),
            chain=container.chain,
            tsa_roots_pem=container.timestamper.trust_roots_pem(),
            trust=container.trust(),
        )
        assert report.ok, report.results
        assert {r.check: r.status for r in report.results}["chain"] == "pass"
        assert {r.check: r.status for r in report.results}["origin"] == "pass"


def test_anchored_certificate_keeps_the_pending_core(container, session, session_factory):
    reg = register_many(container, session, 1, seed=110)[0]
    pending = container.registry.latest_certificate(session, reg.certificate_id).body
    anchorer(container).run_once(session_factory, force=True)
    anchored = container.registry.latest_certificate(session, reg.certificate_id).body
    p, a = json.loads(pending), json.loads(anchored)
    assert {k: v for k, v in p.items() if k not in ("anchor", "signature")} == {
        k: v for k, v in a.items() if k not in ("anchor", "signature")
    }
    assert a["anchor"]["leaf"] == "0x" + reg.leaf


def test_manifest_lists_leaves_and_is_pinned(container, session, session_factory):
    regs = register_many(container, session, 2, seed=120)
    report = anchorer(container).run_once(session_factory, force=True)[0]
    manifest = json.loads(container.pinner.get(report.manifest_cid))
    assert manifest["schema"] == "legato.batch/v1" and manifest["leaf_count"] == 2
    assert [leaf["certificate_id"] for leaf in manifest["leaves"]] == [r.certificate_id for r in regs]
    root = build_tree([bytes.fromhex(leaf["leaf"][2:]) for leaf in manifest["leaves"]]).root
    assert manifest["root"] == "0x" + root.hex() == "0x" + report.root
    assert container.chain.find_anchor(root).manifest_cid == report.manifest_cid


def test_batch_waits_for_size_or_age(container, session, session_factory):
    register_many(container, session, 3, seed=130)
    small = anchorer(container, max_size=4)
    assert small.run_once(session_factory) == []  # 3 < 4 and all younger than 60 s
    assert len(anchorer(container, max_size=3).run_once(session_factory)) == 1  # size reached
    register_many(container, session, 1, seed=140)
    old = datetime.now(UTC) - timedelta(seconds=61)
    for reg in session.scalars(select(Registration).where(Registration.batch_id.is_(None))):
        reg.created_at = old
    session.commit()
    assert len(small.run_once(session_factory)) == 1  # the oldest waited past max_age


def test_size_limit_splits_into_several_batches(container, session, session_factory):
    register_many(container, session, 5, seed=150)
    reports = anchorer(container, max_size=2).run_once(session_factory, force=True)
    assert [r.leaf_count for r in reports] == [2, 2, 1]
    assert len({r.tx_hash for r in reports}) == 3


def test_chain_down_batch_waits_then_anchors_once(container, session, session_factory):
    regs = register_many(container, session, 2, seed=160)
    down = Web3Chain.from_rpc(UNREACHABLE, private_key="0x" + "11" * 32, request_timeout=0.5)
    waiting = anchorer(container, chain=down).run_once(session_factory, force=True)
    assert waiting[0].status == BatchStatus.built and waiting[0].error == "CHAIN_UNAVAILABLE"
    batch = session.get(AnchorBatch, waiting[0].batch_id)
    session.refresh(batch)
    assert batch.last_error.startswith("CHAIN_UNAVAILABLE") and batch.lease_until is None
    for reg in regs:
        session.refresh(reg)
        assert reg.status == RegistrationStatus.pending_anchor and reg.batch_id == batch.id
    # Back up: the same batch (same root) is anchored, no second batch is formed.
    done = anchorer(container).run_once(session_factory)
    assert [r.batch_id for r in done] == [batch.id] and done[0].root == waiting[0].root
    assert done[0].status == BatchStatus.anchored
    assert (
        session.scalar(select(AnchorBatch.id).where(AnchorBatch.id != batch.id, AnchorBatch.root != ""))
        is None
    )


def test_ipfs_down_nothing_is_sent_to_the_chain(container, session, session_factory):
    register_many(container, session, 1, seed=170)
    container.chain.registry_address()
    block_before = container.chain.w3.eth.block_number
    report = anchorer(container, pinner=KuboPinner(api=UNREACHABLE, timeout=1)).run_once(
        session_factory, force=True
    )[0]
    assert report.status == BatchStatus.built and report.error == "IPFS_UNAVAILABLE"
    assert container.chain.w3.eth.block_number == block_before
    assert anchorer(container).run_once(session_factory)[0].status == BatchStatus.anchored


def test_lost_receipt_is_read_back_not_sent_again(container, session, session_factory):
    register_many(container, session, 2, seed=180)
    with session_factory.begin() as s:
        batch_id = anchorer(container).form_batch(s, force=True).id
    batch = session.get(AnchorBatch, batch_id)
    # The transaction landed but the worker died before recording it.
    landed = container.chain.anchor(bytes.fromhex(batch.root), batch.leaf_count, batch.manifest_cid)
    block_after = container.chain.w3.eth.block_number
    report = anchorer(container).process(session_factory, batch_id)
    assert report.status == BatchStatus.anchored and report.tx_hash == landed.tx_hash
    assert container.chain.w3.eth.block_number == block_after


def test_a_leased_batch_is_left_to_its_worker(container, session, session_factory):
    register_many(container, session, 1, seed=190)
    a = anchorer(container)
    with session_factory.begin() as s:
        batch = a.form_batch(s, force=True)
        batch.lease_until = datetime.now(UTC) + timedelta(minutes=5)
        batch_id = batch.id
    assert a.process(session_factory, batch_id) is None
    with session_factory.begin() as s:
        s.get(AnchorBatch, batch_id).lease_until = datetime.now(UTC) - timedelta(seconds=1)
    assert a.process(session_factory, batch_id).status == BatchStatus.anchored


def test_manifest_cid_is_its_bytes_cid(container, session, session_factory):
    register_many(container, session, 1, seed=200)
    with session_factory.begin() as s:
        batch = anchorer(container).form_batch(s, force=True)
        assert batch.manifest_cid == cid_for_bytes(batch.manifest)


def test_two_workers_never_take_the_same_registrations(container, engine):
    """On PostgreSQL, FOR UPDATE SKIP LOCKED gives two concurrent workers disjoint registrations.
    Needs real commits, so it uses its own connections and cleans up."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are a PostgreSQL feature; SQLite serializes writers")
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    marker = "u-skip-locked"
    with factory.begin() as s:
        for i in range(4):
            container.registry.register(
                s, text=chapter_text(300 + i), title=f"S{i}", author=Author(marker, "S")
            )
    try:
        a, b = factory(), factory()
        batch_a = anchorer(container, max_size=2).form_batch(a, force=True)  # holds its row locks
        batch_b = anchorer(container, max_size=2).form_batch(b, force=True)
        ids_a = {r.id for r in a.scalars(select(Registration).where(Registration.batch_id == batch_a.id))}
        ids_b = {r.id for r in b.scalars(select(Registration).where(Registration.batch_id == batch_b.id))}
        assert len(ids_a) == 2 and len(ids_b) == 2 and not ids_a & ids_b
        a.rollback()
        b.rollback()
    finally:
        with factory.begin() as s:
            from registry.models import CertificateState

            ids = s.scalars(select(Registration.certificate_id).where(Registration.author_id == marker)).all()
            s.query(CertificateState).filter(CertificateState.certificate_id.in_(ids)).delete()
            s.query(Registration).filter(Registration.author_id == marker).delete()
