"""The registration service: certificates, versions, plagiarism refusal, and waiting when a
dependency is down (TSA, IPFS) without losing anything."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from factories import chapter_text
from sqlalchemy import select

from registry.certificate import core_of, merkle_leaf, serialize
from registry.errors import InvalidContent, InvalidSignature, PlagiarismSuspected
from registry.ipfs import KuboPinner, LocalBlockstore, cid_for_bytes
from registry.models import CertificateState, Registration, RegistrationStatus
from registry.service import Author, Registry
from registry.similarity.memory import MemoryLSHIndex
from registry.timestamp import RemoteTSA, verify_token

AMINA = Author(id="u-amina", display_name="Amina Yusuf")
KOFI = Author(id="u-kofi", display_name="Kofi Mensah")
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def registry(container) -> Registry:
    return container.registry


def test_register_issues_signed_timestamped_pinned_certificate(registry, session, container):
    text = chapter_text(1)
    result = registry.register(
        session, text=text, title="The Harmattan", author=AMINA, story_id="s1", chapter_id="c1"
    )
    reg, state = result.registration, result.certificate
    assert result.created and reg.status == RegistrationStatus.pending_anchor
    cert = json.loads(state.body)
    assert cert["schema"] == "legato.certificate/v1" and cert["id"] == reg.certificate_id
    assert cert["work"] == {
        "work_id": reg.id,
        "version": 1,
        "title": "The Harmattan",
        "story_id": "s1",
        "chapter_id": "c1",
    }
    assert cert["content"]["sha256"] == reg.sha256 and cert["content"]["canonicalization"] == "legato-text-v1"
    assert cert["anchor"] is None
    assert serialize(cert) == state.body  # stored bytes are the canonical serialization
    assert state.cid == cid_for_bytes(state.body) and state.pinned_at is not None
    assert container.pinner.get(state.cid) == state.body
    verify_token(
        reg.tsa_token, digest=bytes.fromhex(reg.sha256), roots_pem=container.timestamper.trust_roots_pem()
    )
    assert reg.leaf == merkle_leaf(core_of(cert), bytes.fromhex(reg.leaf_nonce)).hex()
    assert text not in state.body.decode()  # the certificate never carries the text


def test_same_text_same_author_returns_the_first_registration(registry, session):
    first = registry.register(session, text=chapter_text(2), title="A", author=AMINA)
    again = registry.register(session, text=chapter_text(2) + "\n\n", title="A again", author=AMINA)
    assert not again.created and again.registration.id == first.registration.id


def test_same_authors_near_duplicate_is_a_new_version_of_the_work(registry, session):
    text = chapter_text(3)
    first = registry.register(session, text=text, title="Draft", author=AMINA)
    revised = text.replace("river", "stream", 2) + "\n\nA new closing paragraph about the harbour at dawn."
    second = registry.register(session, text=revised, title="Revised", author=AMINA)
    assert second.created
    assert second.registration.work_id == first.registration.work_id
    assert second.registration.version == 2
    assert json.loads(second.certificate.body)["work"]["version"] == 2


def test_another_authors_copy_is_refused_with_evidence(registry, session):
    original = registry.register(session, text=chapter_text(4), title="Original", author=AMINA).registration
    copied = chapter_text(4).replace("gold", "brass")
    with pytest.raises(PlagiarismSuspected) as refused:
        registry.register(session, text=copied, title="Mine now", author=KOFI)
    details = refused.value.details
    assert details["prior_registration"] == original.id
    evidence = details["evidence"]
    assert evidence["author_id"] == AMINA.id and evidence["certificate_id"] == original.certificate_id
    assert evidence["jaccard"] > 0.5 and evidence["passages"]
    assert session.scalars(select(Registration).where(Registration.author_id == KOFI.id)).all() == []


def test_unrelated_texts_of_two_authors_both_register(registry, session):
    a = registry.register(session, text=chapter_text(5), title="A", author=AMINA)
    b = registry.register(session, text=chapter_text(6), title="B", author=KOFI)
    assert a.created and b.created and a.registration.work_id != b.registration.work_id


def test_check_reports_without_registering(registry, session):
    registry.register(session, text=chapter_text(7), title="A", author=AMINA)
    report = registry.check(session, text=chapter_text(7), author_id=KOFI.id)
    assert report.refused and report.matches[0]["author_id"] == AMINA.id
    own = registry.check(session, text=chapter_text(7), author_id=AMINA.id)
    assert own.matches and not own.refused
    assert session.scalar(select(Registration.id).where(Registration.author_id == KOFI.id)) is None


@pytest.mark.parametrize("bad", [b"\xff\xfe not utf-8", b"   \n\n  ", ""])
def test_bad_text_is_refused_before_anything_is_stored(registry, session, bad):
    with pytest.raises(InvalidContent):
        registry.register(session, text=bad, title="x", author=AMINA)
    assert session.scalar(select(Registration.id)) is None


def test_tsa_down_keeps_registration_pending_then_retry_issues(registry, session, container):
    registry.timestamper = RemoteTSA(
        UNREACHABLE, roots_pem=container.timestamper.trust_roots_pem(), timeout=1
    )
    waiting = registry.register(session, text=chapter_text(8), title="Offline", author=AMINA)
    reg = waiting.registration
    assert waiting.certificate is None and reg.status == RegistrationStatus.pending_timestamp
    assert reg.last_error.startswith("TSA_UNAVAILABLE") and reg.next_attempt_at is not None
    assert registry.retry_timestamps(session) == 0  # not due yet
    reg.next_attempt_at = None
    assert registry.retry_timestamps(session) == 0  # due, but the TSA is still down
    assert reg.status == RegistrationStatus.pending_timestamp and reg.attempts == 2
    registry.timestamper = container.timestamper
    reg.next_attempt_at = None
    assert registry.retry_timestamps(session) == 1
    assert reg.status == RegistrationStatus.pending_anchor
    assert registry.latest_certificate(session, reg.certificate_id).state == "pending"


def test_rogue_tsa_token_keeps_registration_waiting(registry, session, tmp_path):
    from tsa_helpers import serve  # the timestamp suite's real RFC 3161 HTTP endpoint

    from registry.timestamp import EmbeddedTSA

    other_root = EmbeddedTSA(tmp_path / "other").ca_pem()
    # A TSA whose tokens do not chain to the pinned root: it answers, but cannot be trusted.
    rogue = EmbeddedTSA(tmp_path / "rogue")
    with serve(rogue.handle_request) as served:
        registry.timestamper = RemoteTSA(served.url, roots_pem=[other_root])
        reg = registry.register(session, text=chapter_text(9), title="Rogue", author=AMINA).registration
    assert reg.status == RegistrationStatus.pending_timestamp
    assert reg.last_error.startswith("INVALID_TIMESTAMP")


def test_ipfs_down_keeps_certificate_unpinned_then_pins(registry, session, tmp_path):
    registry.pinner = KuboPinner(api=UNREACHABLE, timeout=1)
    result = registry.register(session, text=chapter_text(10), title="No IPFS", author=AMINA)
    state = result.certificate
    assert state is not None and state.pinned_at is None  # issued, served from the database
    assert registry.pin_pending(session) == 0
    store = LocalBlockstore(root=tmp_path / "ipfs")
    registry.pinner = store
    assert registry.pin_pending(session) >= 1
    assert state.pinned_at is not None and store.get(state.cid) == state.body


def test_author_cosignature_checked_against_wallet(registry, session):
    account = Account.create()
    author = Author(id="u-wallet", display_name="Wallet Writer", wallet=account.address)
    text = chapter_text(11)
    digest = registry.prepare(text).sha256
    signature = Account.sign_message(
        encode_defunct(primitive=bytes.fromhex(digest)), account.key
    ).signature.to_0x_hex()
    result = registry.register(session, text=text, title="Signed", author=author, author_signature=signature)
    cert = json.loads(result.certificate.body)
    assert cert["author"]["wallet"] == account.address
    assert cert["author"]["signature"] == {"scheme": "eip191-personal-sign-sha256", "value": signature}

    stranger = Account.create()
    forged = Account.sign_message(
        encode_defunct(primitive=bytes.fromhex(registry.prepare(chapter_text(12)).sha256)), stranger.key
    ).signature.to_0x_hex()
    with pytest.raises(InvalidSignature):
        registry.register(
            session, text=chapter_text(12), title="Forged", author=author, author_signature=forged
        )


def test_a_second_process_index_catches_up_from_the_database(registry, session, container):
    registry.register(session, text=chapter_text(13), title="First", author=AMINA)
    session.commit()
    # Another process (the CLI beside the server) has its own empty in-memory index.
    other = Registry(
        timestamper=container.timestamper,
        signer=container.signer,
        index=MemoryLSHIndex(key_id=container.fingerprint_key.key_id),
        pinner=container.pinner,
        fingerprint_key=container.fingerprint_key,
    )
    with pytest.raises(PlagiarismSuspected):
        other.register(session, text=chapter_text(13), title="Copy", author=KOFI)


def test_every_issued_state_is_kept(registry, session):
    reg = registry.register(session, text=chapter_text(14), title="Kept", author=AMINA).registration
    states = session.scalars(
        select(CertificateState).where(CertificateState.certificate_id == reg.certificate_id)
    ).all()
    assert [s.state for s in states] == ["pending"]
