"""``verify_token``: each strict check rejects the token that breaks it and names itself.

Broken tokens are built with the same ``issue_token`` the embedded TSA uses, changing one thing each.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from tsa_helpers import VECTOR_ROOT_PEM, VECTOR_TSA_KEY_PEM, VECTOR_TSA_PEM, Pki, make_pki

from registry.errors import InvalidTimestamp
from registry.timestamp import EmbeddedTSA, verify_response, verify_token
from registry.timestamp import verify as verify_module
from registry.timestamp.asn1 import LEGATO_EMBEDDED_POLICY_OID, granted_response, rejection_response
from registry.timestamp.issuing import SignOptions, TSTFields, issue_token
from registry.timestamp.pki import generate_key, load_key, make_root, make_tsa_cert, subject_name

DIGEST = hashlib.sha256(b"It was the season of the harmattan.").digest()
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def good() -> Pki:
    return make_pki("ec-p256", name="Good")


def fields(**overrides: object) -> TSTFields:
    base = TSTFields(
        policy=LEGATO_EMBEDDED_POLICY_OID,
        hash_algorithm="sha256",
        digest=DIGEST,
        serial=1,
        gen_time=NOW,
        nonce=99,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def token(p: Pki, f: TSTFields | None = None, **options: object) -> bytes:
    return issue_token(
        f or fields(), key=p.key, cert=p.cert, options=SignOptions(signing_time=NOW, **options)
    )  # type: ignore[arg-type]


def check_of(
    token_der: bytes, *, roots: list[bytes], digest: bytes = DIGEST, nonce: int | None = None
) -> str:
    with pytest.raises(InvalidTimestamp) as caught:
        verify_token(token_der, digest=digest, roots_pem=roots, nonce=nonce)
    return caught.value.check


def test_a_conforming_token_verifies_and_reports_signed_fields(good: Pki) -> None:
    verified = verify_token(token(good), digest=DIGEST, roots_pem=[good.root_pem], nonce=99)
    assert verified.gen_time == NOW
    assert verified.serial == 1 and verified.nonce == 99
    assert verified.policy == LEGATO_EMBEDDED_POLICY_OID
    assert verified.signer_subject == good.cert.subject.rfc4514_string()
    assert [x509.load_pem_x509_certificate(p.encode()) for p in verified.chain_pem] == [good.cert, good.root]


@pytest.mark.parametrize("key_type", ["rsa-2048", "ec-p256", "ec-p384"])
def test_rsa_and_ec_signers_verify(key_type: str) -> None:
    p = make_pki(key_type, name=key_type)
    assert verify_token(token(p), digest=DIGEST, roots_pem=[p.root_pem]).serial == 1


def test_wrong_digest_fails_the_imprint_check(good: Pki) -> None:
    assert check_of(token(good), roots=[good.root_pem], digest=hashlib.sha256(b"other").digest()) == "imprint"


def test_a_sha1_imprint_fails_the_imprint_check_even_when_the_bytes_match(good: Pki) -> None:
    sha1 = hashlib.sha1(b"x").digest()
    tok = token(good, fields(hash_algorithm="sha1", digest=sha1))
    assert check_of(tok, roots=[good.root_pem], digest=sha1) == "imprint"


def test_nonce_mismatch_and_missing_nonce_fail_the_nonce_check(good: Pki) -> None:
    assert check_of(token(good), roots=[good.root_pem], nonce=100) == "nonce"
    assert check_of(token(good, fields(nonce=None)), roots=[good.root_pem], nonce=99) == "nonce"


def test_a_byte_changed_in_the_tstinfo_fails_the_signature_check(good: Pki) -> None:
    tok = token(good, fields(serial=0x5A5A5A5A))
    tampered = tok.replace(bytes.fromhex("5a5a5a5a"), bytes.fromhex("5a5a5a5b"), 1)
    assert tampered != tok
    assert check_of(tampered, roots=[good.root_pem]) == "signature"


def test_a_byte_changed_in_the_signature_fails_the_signature_check(good: Pki) -> None:
    tok = token(good)
    sig = cms.ContentInfo.load(tok)["content"]["signer_infos"][0]["signature"].native
    tampered = tok.replace(sig, sig[:-1] + bytes([sig[-1] ^ 1]))
    assert check_of(tampered, roots=[good.root_pem]) == "signature"


def _edit_signer_info(tok: bytes, **fields: object) -> bytes:
    info = cms.ContentInfo.load(tok)
    signer_info = info["content"]["signer_infos"][0]
    for name, value in fields.items():
        signer_info[name] = value
    return info.dump(force=True)


def test_an_rsassa_pss_signature_is_not_accepted() -> None:
    p = make_pki("rsa-2048", name="Pss")
    assert isinstance(p.key, rsa.RSAPrivateKey)
    tok = token(p)
    signed_attrs = (
        b"\x31" + cms.ContentInfo.load(tok)["content"]["signer_infos"][0]["signed_attrs"].dump()[1:]
    )
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
    resigned = _edit_signer_info(
        tok,
        signature_algorithm={
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
                "salt_length": 32,
            },
        },
        signature=p.key.sign(signed_attrs, pss, hashes.SHA256()),
    )
    with pytest.raises(InvalidTimestamp, match="rsassa_pss is not accepted") as caught:
        verify_token(resigned, digest=DIGEST, roots_pem=[p.root_pem])
    assert caught.value.check == "signature"


def test_a_signer_named_by_subject_key_identifier_is_found(good: Pki) -> None:
    ski = good.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    # The sid is outside the signed attributes, so naming the signer differently keeps the signature valid.
    tok = _edit_signer_info(token(good), version="v3", sid={"subject_key_identifier": ski})
    assert cms.ContentInfo.load(tok)["content"]["signer_infos"][0]["sid"].name == "subject_key_identifier"
    assert verify_token(tok, digest=DIGEST, roots_pem=[good.root_pem]).serial == 1


def test_a_token_from_another_ca_fails_the_chain_check(good: Pki) -> None:
    other = make_pki(name="Other")
    assert check_of(token(other), roots=[good.root_pem]) == "chain"


def test_a_rogue_token_carrying_its_own_root_fails_the_chain_check(good: Pki) -> None:
    rogue = make_pki(name="Good")  # same names as the real PKI, different keys
    tok = token(rogue, include_certs=True, extra_certs=[rogue.root])
    assert rogue.root.subject == good.root.subject
    assert check_of(tok, roots=[good.root_pem]) == "chain"


def test_no_pinned_root_is_refused(good: Pki) -> None:
    assert check_of(token(good), roots=[]) == "chain"


def test_missing_ess_cert_id_fails_the_ess_check(good: Pki) -> None:
    assert check_of(token(good, ess="none"), roots=[good.root_pem]) == "ess_cert_id"


def test_ess_cert_id_naming_another_certificate_fails_the_ess_check(good: Pki) -> None:
    twin = make_tsa_cert(
        good.key.public_key(), issuer=good.root, issuer_key=good.root_key, now=NOW, subject=good.cert.subject
    )  # same key and name, different certificate
    assert check_of(token(good, ess_cert=twin), roots=[good.root_pem]) == "ess_cert_id"


def test_legacy_ess_cert_id_v1_is_accepted(good: Pki) -> None:
    assert verify_token(token(good, ess="v1"), digest=DIGEST, roots_pem=[good.root_pem]).serial == 1


@pytest.mark.parametrize(
    ("critical", "eku"),
    [
        pytest.param(False, (ExtendedKeyUsageOID.TIME_STAMPING,), id="not-critical"),
        pytest.param(
            True, (ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING), id="not-exclusive"
        ),
        pytest.param(True, (ExtendedKeyUsageOID.SERVER_AUTH,), id="wrong-purpose"),
        pytest.param(True, (), id="absent"),
    ],
)
def test_signer_without_a_critical_timestamping_only_eku_fails_the_eku_check(
    critical: bool, eku: tuple[x509.ObjectIdentifier, ...]
) -> None:
    p = make_pki(name="Eku", eku_critical=critical, eku=eku)
    assert check_of(token(p), roots=[p.root_pem]) == "eku"


def test_gen_time_outside_the_signer_validity_fails_the_chain_check(good: Pki) -> None:
    assert check_of(token(good, fields(gen_time=NOW - timedelta(days=1))), roots=[good.root_pem]) == "chain"
    late = good.cert.not_valid_after_utc + timedelta(seconds=1)
    assert check_of(token(good, fields(gen_time=late)), roots=[good.root_pem]) == "chain"


def _three_level(
    intermediate_is_ca: bool = True,
    root_path_length: int | None = None,
) -> tuple[x509.Certificate, Pki]:
    """root → intermediate → TSA; returns the intermediate and a Pki whose ``cert`` is the TSA's."""
    p = make_pki(name="Deep")
    p = replace(p, root=make_root(p.root_key, now=NOW, subject=p.root.subject, path_length=root_path_length))
    inter_key = generate_key("ec-p256")
    inter = (
        x509.CertificateBuilder()
        .subject_name(subject_name("Deep Intermediate", "deep"))
        .issuer_name(p.root.subject)
        .public_key(inter_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=intermediate_is_ca, path_length=None), critical=True)
        .sign(p.root_key, hashes.SHA256())
    )
    leaf = make_tsa_cert(
        p.key.public_key(),
        issuer=inter,
        issuer_key=inter_key,
        now=NOW,
        subject=subject_name("Deep TSA", "deep"),
    )
    return inter, replace(p, cert=leaf)


def test_intermediates_are_taken_from_the_token() -> None:
    inter, deep = _three_level()
    verified = verify_token(token(deep, extra_certs=[inter]), digest=DIGEST, roots_pem=[deep.root_pem])
    assert len(verified.chain_pem) == 3
    assert x509.load_pem_x509_certificate(verified.chain_pem[1].encode()) == inter
    assert check_of(token(deep), roots=[deep.root_pem]) == "chain"


def test_an_intermediate_that_is_not_a_ca_fails_the_chain_check() -> None:
    inter, deep = _three_level(intermediate_is_ca=False)
    with pytest.raises(InvalidTimestamp, match="is not a CA") as caught:
        verify_token(token(deep, extra_certs=[inter]), digest=DIGEST, roots_pem=[deep.root_pem])
    assert caught.value.check == "chain"


def test_a_root_with_path_length_zero_cannot_have_an_intermediate_below_it() -> None:
    inter, deep = _three_level(root_path_length=0)
    with pytest.raises(InvalidTimestamp, match="allows 0 intermediates") as caught:
        verify_token(token(deep, extra_certs=[inter]), digest=DIGEST, roots_pem=[deep.root_pem])
    assert caught.value.check == "chain"


def test_a_token_without_certificates_verifies_only_when_the_signer_is_pinned(good: Pki) -> None:
    tok = token(good, include_certs=False)
    assert check_of(tok, roots=[good.root_pem]) == "chain"
    pinned = [good.root_pem, good.cert.public_bytes(Encoding.PEM)]
    assert verify_token(tok, digest=DIGEST, roots_pem=pinned).serial == 1


@pytest.mark.parametrize("blob", [b"", b"\x30\x00", b"not der at all", b"\x30\x03\x06\x01\x00"])
def test_garbage_fails_the_format_check(good: Pki, blob: bytes) -> None:
    assert check_of(blob, roots=[good.root_pem]) == "format"


def test_a_whole_response_passed_as_a_token_fails_the_format_check(good: Pki) -> None:
    assert check_of(granted_response(token(good)), roots=[good.root_pem]) == "format"


def test_the_openssl_cross_check_is_consulted(good: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        def __init__(self, **_: object) -> None:
            pass

        def build(self) -> Refusing:
            return self

        def verify(self, *_: object) -> bool:
            raise verify_module._ClientVerificationError("Error while verifying certificates: refused")

    monkeypatch.setattr(verify_module, "VerifierBuilder", Refusing)
    assert check_of(token(good), roots=[good.root_pem]) == "chain"


def test_verify_response_requires_a_granted_status(good: Pki) -> None:
    tok, verified = verify_response(granted_response(token(good)), digest=DIGEST, roots_pem=[good.root_pem])
    assert verified.serial == 1 and cms.ContentInfo.load(tok)["content_type"].native == "signed_data"
    with pytest.raises(InvalidTimestamp) as caught:
        verify_response(rejection_response("bad_alg", "no"), digest=DIGEST, roots_pem=[good.root_pem])
    assert caught.value.check == "status"
    assert caught.value.details["fail_info"] == ["bad_alg"]


# -- a byte-exact vector ---------------------------------------------------------------------------

VECTOR_TIME = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
VECTOR_DIGEST = hashlib.sha256(b"legato vector").digest()
VECTOR_FIELDS = TSTFields(
    policy=LEGATO_EMBEDDED_POLICY_OID,
    hash_algorithm="sha256",
    digest=VECTOR_DIGEST,
    serial=1748779200000000,
    gen_time=VECTOR_TIME,
    nonce=0x1122334455667788,
    tsa_name=x509.load_pem_x509_certificate(VECTOR_TSA_PEM).subject,
)
VECTOR_TOKEN_SHA256 = "c2308b4ac905d29ad2fbbc99e0243009dc2920c446a1219ac0d8ba2b5fea65a9"


def _vector_token(f: TSTFields = VECTOR_FIELDS) -> bytes:
    key = load_key(VECTOR_TSA_KEY_PEM, Path("vector"))
    cert = x509.load_pem_x509_certificate(VECTOR_TSA_PEM)
    return issue_token(f, key=key, cert=cert, options=SignOptions(signing_time=VECTOR_TIME))


def test_fixed_key_and_time_give_a_byte_identical_token() -> None:
    tok = _vector_token()
    assert hashlib.sha256(tok).hexdigest() == VECTOR_TOKEN_SHA256
    verified = verify_token(tok, digest=VECTOR_DIGEST, roots_pem=[VECTOR_ROOT_PEM], nonce=0x1122334455667788)
    assert verified.gen_time == VECTOR_TIME


def test_vector_token_fields_are_what_was_set() -> None:
    signed = cms.ContentInfo.load(_vector_token())["content"]
    assert signed["version"].native == "v3"
    assert [a["algorithm"].native for a in signed["digest_algorithms"]] == ["sha256"]
    si = signed["signer_infos"][0]
    assert si["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    assert si["sid"].name == "issuer_and_serial_number"
    tst = tsp.TSTInfo.load(signed["encap_content_info"]["content"].contents)
    assert tst.native == {
        "version": "v1",
        "policy": LEGATO_EMBEDDED_POLICY_OID,
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256", "parameters": None},
            "hashed_message": VECTOR_DIGEST,
        },
        "serial_number": 1748779200000000,
        "gen_time": VECTOR_TIME,
        "accuracy": {"seconds": 1, "millis": None, "micros": None},
        "ordering": False,
        "nonce": 0x1122334455667788,
        "tsa": {
            "organization_name": "Legato",
            "organizational_unit_name": "instance vector",
            "common_name": "Legato Test Vector TSA",
        },
        "extensions": None,
    }


def test_the_embedded_tsa_on_the_vector_files_issues_the_same_bytes(tmp_path: Path) -> None:
    tsa_dir = tmp_path / "tsa"
    tsa_dir.mkdir()
    (tsa_dir / "root.pem").write_bytes(VECTOR_ROOT_PEM)
    (tsa_dir / "tsa.pem").write_bytes(VECTOR_TSA_PEM)
    (tsa_dir / "tsa.key").write_bytes(VECTOR_TSA_KEY_PEM)
    (tsa_dir / "tsa.key").chmod(0o600)
    embedded = EmbeddedTSA(tmp_path, clock=lambda: VECTOR_TIME)
    issued = embedded.timestamp(VECTOR_DIGEST)
    assert issued.token_der == _vector_token(replace(VECTOR_FIELDS, nonce=None))
