"""Forgeries a stranger could make, each failing the ``origin`` check against the platform's trust:
a certificate re-signed with a fresh key, one anchored in a LegatoRegistry of someone else's, one under
an id the server holds with other bytes, one signed by a retired key after its retirement; and the
genuine ones passing, pinned by the trust document or by the registry address alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from factories import chapter_text
from rpc_proxy import serve_rpc

from registry import certificate as cert_mod
from registry.certificate_verify import verify_certificate
from registry.chain.web3_chain import Web3Chain
from registry.service import Author
from registry.signing import PlatformKey, new_key_pem
from registry.signing_keys import key_hash
from registry.trust import Trust

AUTHOR = Author(id="u-origin", display_name="Amina Yusuf")


def statuses(report) -> dict[str, str]:
    return {r.check: r.status for r in report.results}


def detail(report, check: str) -> str:
    return next(r.detail for r in report.results if r.check == check)


def resign(doc: dict, key) -> bytes:
    return cert_mod.serialize(cert_mod.sign({k: v for k, v in doc.items() if k != "signature"}, key))


@pytest.fixture
def anchored(container, session, session_factory) -> tuple[bytes, str]:
    text = chapter_text(7100)
    reg = container.registry.register(session, text=text, title="Origin", author=AUTHOR).registration
    session.commit()
    container.anchorer.run_once(session_factory, force=True)
    return bytes(container.registry.latest_certificate(session, reg.certificate_id).body), text


def test_genuine_anchored_certificate_passes_origin_with_the_trust_document(anchored, container):
    body, text = anchored
    trust = Trust.parse(container.trust().to_bytes())  # as a stranger reads it from the well-known URL
    report = verify_certificate(body, text=text, trust=trust, chain=container.chain)
    assert report.ok and statuses(report)["origin"] == "pass", report.results
    assert "authorized on chain" in detail(report, "origin")


def test_no_trust_anchor_fails_origin_and_the_report(anchored, container):
    body, text = anchored
    report = verify_certificate(body, text=text, chain=container.chain)
    assert not report.ok and report.first_failure.check == "origin"
    assert "no trust anchor" in report.first_failure.detail


def test_re_signed_with_a_fresh_key_fails_origin(anchored, container):
    body, _ = anchored
    doc = json.loads(body)
    doc["author"]["display_name"] = "Mallory Forger"
    forged = resign(doc, PlatformKey.from_pem(new_key_pem()))
    report = verify_certificate(forged, trust=container.trust(), chain=container.chain)
    assert statuses(report)["signature"] == "pass"  # a valid signature by the wrong key ...
    assert report.first_failure.check == "origin"  # ... is caught by origin, not by signature
    assert "does not list" in report.first_failure.detail


def test_anchored_in_another_registry_fails_origin_though_the_chain_check_passes(
    anchored, container, test_chain
):
    body, _ = anchored
    doc = json.loads(body)
    # Another account deploys its own LegatoRegistry and anchors the same root there.
    rogue = Web3Chain(w3=test_chain.w3, private_key=test_chain._account.key)
    receipt = rogue.anchor(bytes.fromhex(doc["anchor"]["merkle_root"][2:]), 1,
                           doc["anchor"]["manifest_cid"])
    assert receipt.contract != container.chain.registry_address()
    doc["anchor"].update(contract=receipt.contract, tx_hash=receipt.tx_hash,
                         block_number=receipt.block_number, block_timestamp=receipt.block_timestamp)
    # Even signed by the platform's own key, the foreign contract is refused.
    forged = resign(doc, container.signer)
    report = verify_certificate(forged, trust=container.trust(), chain=container.chain)
    assert statuses(report)["chain"] == "pass"  # the root really is anchored there
    assert report.first_failure.check == "origin"
    assert "not the platform's LegatoRegistry" in report.first_failure.detail
    # Pinned by registry alone, the same.
    by_registry = Trust(registry=container.chain.registry_address(), chain_id=container.chain.chain_id())
    report = verify_certificate(forged, trust=by_registry, chain=container.chain)
    assert report.first_failure.check == "origin"


def test_an_id_the_server_holds_with_other_bytes_fails_origin(anchored, container):
    body, _ = anchored
    doc = json.loads(body)
    doc["author"]["display_name"] = "Mallory Forger"
    # Signed with the platform's own key: only the server's record can tell.
    swapped = resign(doc, container.signer)
    assert statuses(verify_certificate(swapped, trust=container.trust()))["origin"] == "pass"
    report = container.verify_certificate(swapped, None, None)
    assert report.first_failure.check == "origin" and "other bytes" in report.first_failure.detail
    genuine = container.verify_certificate(body, None, None)
    assert genuine.ok and "identical to the server's record" in detail(genuine, "origin")


def test_pinned_by_registry_alone_checks_the_key_on_chain(anchored, container):
    body, _ = anchored
    pin = Trust(registry=container.chain.registry_address(), chain_id=container.chain.chain_id(),
                source="pinned registry")
    report = verify_certificate(body, trust=pin, chain=container.chain)
    assert report.ok and statuses(report)["origin"] == "pass", report.results
    doc = json.loads(body)
    forged = resign(doc, PlatformKey.from_pem(new_key_pem()))
    report = verify_certificate(forged, trust=pin, chain=container.chain)
    assert report.first_failure.check == "origin" and "never authorized" in report.first_failure.detail
    no_chain = verify_certificate(body, trust=pin)
    assert no_chain.first_failure.check == "origin"  # nothing to ask whether the key is authorized


def test_over_json_rpc_genuine_passes_and_foreign_key_fails(anchored, container, test_chain):
    body, text = anchored
    trust = Trust.parse(container.trust().to_bytes())
    with serve_rpc(test_chain.w3) as url:
        node = Web3Chain.from_rpc(url)
        report = verify_certificate(body, text=text, trust=trust, chain=node)
        assert report.ok and statuses(report)["chain"] == "pass", report.results
        assert "authorized on chain" in detail(report, "origin")
        forged = resign(json.loads(body), PlatformKey.from_pem(new_key_pem()))
        assert verify_certificate(forged, trust=trust, chain=node).first_failure.check == "origin"


@pytest.fixture
def own(tmp_path, container_factory):
    """A deployment with its own keyring (rotation must not touch the shared one)."""
    from conftest import make_settings

    return container_factory(make_settings(tmp_path / "data"))


def test_rotation_old_and_new_certificates_verify_a_late_retired_signature_fails(
    own, session, session_factory
):
    before = own.registry.register(session, text=chapter_text(7200), title="Before", author=AUTHOR)
    old_key = own.signer.current()
    fresh = own.signer.rotate()
    assert own.signer.current().key_id == fresh.key_id != old_key.key_id
    after = own.registry.register(session, text=chapter_text(7201), title="After", author=AUTHOR)
    session.commit()
    assert json.loads(after.certificate.body)["signature"]["key_id"] == fresh.key_id
    trust = Trust.parse(own.trust().to_bytes())
    assert [k.retired_at is not None for k in trust.keys] == [True, False]
    for state in (before.certificate, after.certificate):
        report = verify_certificate(state.body, trust=trust)
        assert report.ok, report.results
    # The retired key signing a certificate dated after its retirement: origin fails.
    doc = json.loads(after.certificate.body)
    doc["issued_at"] = cert_mod.iso_utc(datetime.now(UTC) + timedelta(seconds=1))
    late = resign(doc, old_key)
    report = verify_certificate(late, trust=trust)
    assert report.first_failure.check == "origin" and "retired" in report.first_failure.detail
    # Anchoring after the rotation records both keys on chain; the old certificate, re-signed with the
    # new key at anchoring, verifies against the chain's record.
    own.anchorer.run_once(session_factory, force=True)
    record = own.chain.signing_key_record(own.chain.registry_address(), key_hash(old_key.public_raw))
    assert record.authorized_block > 0 and record.retired_block > 0
    anchored = own.registry.latest_certificate(session, before.registration.certificate_id)
    report = verify_certificate(anchored.body, trust=Trust.parse(own.trust().to_bytes()), chain=own.chain)
    assert report.ok and json.loads(anchored.body)["signature"]["key_id"] == fresh.key_id, report.results


def test_a_key_anchored_after_its_on_chain_retirement_fails(anchored, container, test_chain):
    """Only the registry pinned: a certificate whose key the contract retired before the anchor's block."""
    body, _ = anchored
    doc = json.loads(body)
    stolen = PlatformKey.from_pem(new_key_pem())
    test_chain.authorize_signing_key(key_hash(stolen.public_raw))
    test_chain.retire_signing_key(key_hash(stolen.public_raw))
    late = Web3Chain(w3=test_chain.w3, private_key=test_chain._account.key,
                     registry_address=test_chain.registry_address())
    root = b"\x42" * 32
    receipt = late.anchor(root, 1, doc["anchor"]["manifest_cid"])
    doc["anchor"].update(block_number=receipt.block_number, block_timestamp=receipt.block_timestamp)
    forged = resign(doc, stolen)
    pin = Trust(registry=container.chain.registry_address(), chain_id=container.chain.chain_id())
    report = verify_certificate(forged, trust=pin, chain=container.chain)
    assert report.first_failure.check == "origin" and "retired in block" in report.first_failure.detail


def test_a_rotation_while_the_chain_is_down_is_recorded_by_the_worker_later(own, test_chain):
    own.chain = Web3Chain.from_rpc("http://127.0.0.1:9", request_timeout=0.5)  # nothing listens there
    fresh = own.signer.rotate()
    assert own.sync_signing_keys() == "waiting: CHAIN_UNAVAILABLE"
    own.chain = test_chain
    pending = own.signer.pending_on(test_chain.chain_id(), test_chain.registry_address())
    assert fresh.key_id in pending
    done = own.sync_signing_keys()
    assert f"authorized {fresh.key_id}" in done and any(line.startswith("retired ") for line in done)
    assert own.signer.pending_on(test_chain.chain_id(), test_chain.registry_address()) == []
    record = test_chain.signing_key_record(test_chain.registry_address(), key_hash(fresh.public_raw))
    assert record.authorized_block > 0 and record.retired_block == 0
