"""Byte-exact vectors for the certificate serialization, signature and Merkle leaf.

Ed25519 is deterministic, so a fixed key and fixed contents give fixed bytes: any change to the
serialization, the signed message or the leaf layout changes these constants.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_hash.auto import keccak

from registry import certificate as c
from registry.errors import InvalidSignature, VerificationError
from registry.signing import PlatformKey

EXPECTED_BODY = (
    b'{"anchor":null,"author":{"display_name":"Amina Yusuf","id":"local:amina","wallet":null},'
    b'"content":{"canonicalization":"legato-text-v1","length":10,"minhash":{"num_perm":128},'
    b'"sha256":"abababababababababababababababababababababababababababababababab"},"id":"cert-1",'
    b'"issued_at":"2026-01-02T03:04:05.000006Z","registration_id":"reg-1","schema":"legato.certificate/v1",'
    b'"signature":{"alg":"Ed25519","key_id":"56475aa75463474c","public_key":"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",'
    b'"value":"SBSHse5ngAsD2ccGUz4s6MESi3YORc/F6XNQhbtAEd1lVuA9Y08nPXM8Q+3jXX27zuGK0yXbVAl5B+6o+e0PAQ=="},'
    b'"timestamp":{"gen_time":"2026-01-02T03:04:05Z","token":"AA==","tsa":"embedded","tsa_chain":[],"url":null},'
    b'"work":{"chapter_id":null,"story_id":null,"title":"Kano, Dawn","version":1,"work_id":"reg-1"}}'
)
EXPECTED_SHA256 = "cef902cf887913626e608cbd698890a1d987bd713ea745bb54d6841d74a5aff1"
EXPECTED_LEAF_INPUT = "4ef83c5ab632804cc9adb0b08aaaf7264e40a23164421e2f3ae67836b6b0a81f"
EXPECTED_LEAF = "b73920617a81e648788a2f86fcba73e79fdd52682c4cd251625ba7b86d3eb81c"


@pytest.fixture
def key() -> PlatformKey:
    return PlatformKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


@pytest.fixture
def unsigned() -> dict:
    parts = c.Parts(
        certificate_id="cert-1",
        registration_id="reg-1",
        issued_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        work={"work_id": "reg-1", "version": 1, "title": "Kano, Dawn", "story_id": None, "chapter_id": None},
        author={"id": "local:amina", "display_name": "Amina Yusuf", "wallet": None},
        content={
            "sha256": "ab" * 32,
            "length": 10,
            "canonicalization": "legato-text-v1",
            "minhash": {"num_perm": 128},
        },
        timestamp={
            "tsa": "embedded",
            "url": None,
            "token": "AA==",
            "gen_time": "2026-01-02T03:04:05Z",
            "tsa_chain": [],
        },
    )
    return c.build_unsigned(parts)


def test_signed_certificate_bytes(unsigned, key):
    body = c.serialize(c.sign(unsigned, key))
    assert body == EXPECTED_BODY
    assert hashlib.sha256(body).hexdigest() == EXPECTED_SHA256


def test_signature_is_over_jcs_without_signature(unsigned, key):
    cert = c.sign(unsigned, key)
    message = json.dumps(
        {k: v for k, v in cert.items() if k != "signature"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    key.private_key.public_key().verify(base64.b64decode(cert["signature"]["value"]), message)
    assert c.check_signature(cert) == "56475aa75463474c"


def test_leaf_layout(unsigned):
    core = {k: v for k, v in unsigned.items() if k not in ("anchor", "signature")}
    jcs = json.dumps(core, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    leaf_input = hashlib.sha256(jcs + bytes(16)).digest()
    assert leaf_input.hex() == EXPECTED_LEAF_INPUT == c.leaf_input(c.core_of(unsigned), bytes(16)).hex()
    assert (
        keccak(b"\x00" + leaf_input).hex()
        == EXPECTED_LEAF
        == c.merkle_leaf(c.core_of(unsigned), bytes(16)).hex()
    )


def test_anchor_section_does_not_change_the_leaf(unsigned):
    anchored = {**unsigned, "anchor": {"merkle_root": "0x00"}}
    assert c.merkle_leaf(c.core_of(anchored), bytes(16)) == c.merkle_leaf(c.core_of(unsigned), bytes(16))


def test_tampered_field_breaks_the_signature(unsigned, key):
    cert = c.sign(unsigned, key)
    cert["work"]["title"] = "Someone else's"
    with pytest.raises(InvalidSignature):
        c.check_signature(cert)


def test_parse_refuses_other_documents():
    with pytest.raises(VerificationError) as raised:
        c.parse(b'{"schema": "legato.certificate/v2"}')
    assert raised.value.check == "format"
