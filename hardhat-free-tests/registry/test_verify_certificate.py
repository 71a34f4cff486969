"""Offline verification: every check on its own, any tampering caught and named."""

from __future__ import annotations

import json
import random

import pytest
from factories import chapter_text

from registry.anchoring import Anchorer
from registry.certificate_verify import CHECKS, verify_certificate
from registry.errors import VerificationError
from registry.ipfs import cid_for_bytes
from registry.service import Author
from registry.timestamp import EmbeddedTSA

AUTHOR = Author(id="u-verify", display_name="Chidi")


@pytest.fixture
def anchored(container, session, session_factory) -> tuple[bytes, str]:
    text = chapter_text(500)
    reg = container.registry.register(session, text=text, title="Verified", author=AUTHOR).registration
    session.commit()
    Anchorer(registry=container.registry, chain=container.chain, pinner=container.pinner).run_once(
        session_factory, force=True
    )
    return container.registry.latest_certificate(session, reg.certificate_id).body, text


def statuses(report) -> dict[str, str]:
    return {r.check: r.status for r in report.results}


def test_anchored_certificate_passes_every_check(anchored, container):
    body, text = anchored
    report = verify_certificate(
        body, text=text, chain=container.chain, tsa_roots_pem=container.timestamper.trust_roots_pem(),
        trust=container.trust(), expected_cid=cid_for_bytes(body),
    )
    assert statuses(report) == {
        "format": "pass",
        "origin": "pass",
        "content_hash": "pass",
        "signature": "pass",
        "author_signature": "skip",
        "timestamp": "pass",
        "merkle_proof": "pass",
        "chain": "pass",
        "cid": "pass",
    }
    assert [r.check for r in report.results] == list(CHECKS)
    report.raise_for_failure()


def test_one_changed_character_of_the_text_fails_content_hash(anchored, container):
    body, text = anchored
    changed = text[:50] + ("X" if text[50] != "X" else "Y") + text[51:]
    report = verify_certificate(body, text=changed, trust=container.trust())
    assert report.first_failure.check == "content_hash"
    with pytest.raises(VerificationError) as raised:
        report.raise_for_failure()
    assert raised.value.check == "content_hash"


def test_any_changed_byte_of_the_certificate_fails_a_check(anchored, container):
    body, text = anchored
    rng = random.Random(7)
    positions = sorted(rng.sample(range(len(body)), 60))
    for i in positions:
        original = body[i : i + 1]
        for replacement in (b"0", b"a", b"Z"):
            if replacement != original:
                break
        tampered = body[:i] + replacement + body[i + 1 :]
        report = verify_certificate(
            tampered, text=text, chain=container.chain, tsa_roots_pem=container.timestamper.trust_roots_pem()
        )
        assert not report.ok, f"byte {i} ({body[max(0, i - 20) : i + 20]!r}) changed and nothing noticed"


def test_a_rogue_tsa_root_fails_timestamp(anchored, tmp_path):
    body, text = anchored
    report = verify_certificate(body, text=text, tsa_roots_pem=[EmbeddedTSA(tmp_path / "rogue").ca_pem()])
    assert statuses(report)["timestamp"] == "fail"


def test_without_text_or_chain_those_checks_are_skipped_not_passed(anchored, container):
    body, _ = anchored
    report = verify_certificate(body, trust=container.trust())
    assert statuses(report)["content_hash"] == "skip" and statuses(report)["chain"] == "skip"
    assert statuses(report)["cid"] == "skip"
    assert report.ok and not [r for r in report.results if r.status == "skip" and r.ok]


def test_pending_certificate_skips_anchor_checks(container, session):
    state = container.registry.register(session, text=chapter_text(501), title="P", author=AUTHOR).certificate
    report = verify_certificate(state.body, text=chapter_text(501), chain=container.chain,
                                trust=container.trust())
    assert statuses(report)["merkle_proof"] == "skip" and statuses(report)["chain"] == "skip"
    assert report.ok


def test_reformatted_file_fails_only_the_cid_check(anchored, container):
    body, text = anchored
    pretty = json.dumps(json.loads(body), indent=2).encode()
    report = verify_certificate(pretty, text=text, trust=container.trust(), expected_cid=cid_for_bytes(body))
    failed = [r.check for r in report.results if r.status == "fail"]
    assert failed == ["cid"] and "canonical" in report.first_failure.detail


def test_expected_cid_mismatch_fails(anchored, container):
    body, _ = anchored
    report = verify_certificate(
        body, expected_cid="bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        trust=container.trust(),
    )
    assert report.first_failure.check == "cid"


def test_a_root_never_anchored_fails_proof_and_chain(anchored, container):
    from registry.certificate import serialize

    body, _ = anchored
    cert = json.loads(body)
    cert["anchor"]["merkle_root"] = "0x" + "00" * 31 + "01"
    report = verify_certificate(serialize(cert), chain=container.chain)
    assert statuses(report)["chain"] == "fail" and statuses(report)["merkle_proof"] == "fail"


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"schema": "other/v1"}', b"\xff\xfe"])
def test_not_a_certificate_fails_format(data):
    report = verify_certificate(data)
    assert [r.check for r in report.results] == ["format"] and report.first_failure.check == "format"
