"""The embedded TSA: its PKI on disk, persistence, serials, and the RFC 3161 endpoint it exposes."""

from __future__ import annotations

import hashlib
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

import registry
from registry.errors import ConfigurationError, TimestampUnavailable
from registry.timestamp import LEGATO_EMBEDDED_POLICY_OID, EmbeddedTSA, Timestamper, verify_token
from registry.timestamp.asn1 import build_request, parse_response

REPO_ROOT = Path(registry.__file__).resolve().parent.parent
DIGEST = hashlib.sha256(b"The Harmattan, chapter one").digest()


@pytest.fixture
def tsa(tmp_path: Path) -> EmbeddedTSA:
    return EmbeddedTSA(tmp_path)


def test_embedded_tsa_satisfies_the_timestamper_protocol(tsa: EmbeddedTSA) -> None:
    assert isinstance(tsa, Timestamper)
    assert tsa.name == "embedded"


def test_root_ca_is_a_critical_ca_that_may_only_sign_certificates(tsa: EmbeddedTSA) -> None:
    root = x509.load_pem_x509_certificate(tsa.ca_pem())
    assert root.subject == root.issuer
    root.verify_directly_issued_by(root)
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and not ku.digital_signature


def test_tsa_certificate_has_critical_timestamping_eku_and_digital_signature_only(tsa: EmbeddedTSA) -> None:
    root = x509.load_pem_x509_certificate(tsa.ca_pem())
    cert = x509.load_pem_x509_certificate(tsa.tsa_cert_pem())
    cert.verify_directly_issued_by(root)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]


def test_keys_are_mode_0600_and_live_in_the_tsa_dir(tsa: EmbeddedTSA, tmp_path: Path) -> None:
    tsa.ca_pem()
    for name in ("root.key", "tsa.key"):
        assert stat.S_IMODE((tmp_path / "tsa" / name).stat().st_mode) == 0o600
    assert (tmp_path / "tsa" / "root.pem").read_bytes() == tsa.ca_pem()


def test_a_second_instance_on_the_same_dir_reuses_the_ca_and_key(tmp_path: Path) -> None:
    first = EmbeddedTSA(tmp_path)
    token = first.timestamp(DIGEST)
    second = EmbeddedTSA(tmp_path, key_type="rsa-2048")  # the key type only applies to new installations
    assert second.ca_pem() == first.ca_pem()
    assert second.tsa_cert_pem() == first.tsa_cert_pem()
    assert second.credentials().key_type == "ec-p256"
    verify_token(token.token_der, digest=DIGEST, roots_pem=second.trust_roots_pem())


def test_two_processes_starting_at_once_create_one_ca(tmp_path: Path) -> None:
    start_at = time.time() + 2.0  # every process waits for the same instant, after its imports
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from registry.timestamp import EmbeddedTSA
        while time.time() < {start_at}:
            pass
        sys.stdout.buffer.write(EmbeddedTSA(Path({str(tmp_path)!r})).ca_pem())
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=REPO_ROOT)
        for _ in range(4)
    ]
    outputs = {p.communicate(timeout=60)[0] for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert outputs == {EmbeddedTSA(tmp_path).ca_pem()}


def test_rsa_and_p384_keys_are_available_by_option(tmp_path: Path) -> None:
    rsa_tsa = EmbeddedTSA(tmp_path / "rsa", key_type="rsa-2048")
    p384 = EmbeddedTSA(tmp_path / "p384", key_type="ec-p384")
    rsa_key = x509.load_pem_x509_certificate(rsa_tsa.tsa_cert_pem()).public_key()
    ec_key = x509.load_pem_x509_certificate(p384.tsa_cert_pem()).public_key()
    assert isinstance(rsa_key, rsa.RSAPublicKey) and rsa_key.key_size == 2048
    assert isinstance(ec_key, ec.EllipticCurvePublicKey) and ec_key.curve.name == "secp384r1"
    for t in (rsa_tsa, p384):
        verify_token(t.timestamp(DIGEST).token_der, digest=DIGEST, roots_pem=t.trust_roots_pem())


def test_unknown_key_type_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        EmbeddedTSA(tmp_path, key_type="dsa-1024").ca_pem()


def test_a_key_that_does_not_match_its_certificate_is_refused(tmp_path: Path) -> None:
    EmbeddedTSA(tmp_path).ca_pem()
    other = tmp_path / "other"
    EmbeddedTSA(other).ca_pem()
    (tmp_path / "tsa" / "tsa.key").write_bytes((other / "tsa" / "tsa.key").read_bytes())
    with pytest.raises(ConfigurationError, match="does not match"):
        EmbeddedTSA(tmp_path).ca_pem()


def test_broken_key_files_or_data_dir_make_the_tsa_unavailable_not_crash(tmp_path: Path) -> None:
    EmbeddedTSA(tmp_path).ca_pem()
    (tmp_path / "tsa" / "tsa.key").unlink()
    with pytest.raises(TimestampUnavailable, match=r"tsa\.key is missing"):
        EmbeddedTSA(tmp_path).timestamp(DIGEST)
    with pytest.raises(TimestampUnavailable):
        EmbeddedTSA(tmp_path).health()
    (tmp_path / "not-a-dir").write_bytes(b"")
    with pytest.raises(TimestampUnavailable):
        EmbeddedTSA(tmp_path / "not-a-dir").timestamp(DIGEST)


def test_token_verifies_and_carries_what_the_tsa_set(tsa: EmbeddedTSA) -> None:
    token = tsa.timestamp(DIGEST)
    verified = verify_token(token.token_der, digest=DIGEST, roots_pem=tsa.trust_roots_pem())
    assert verified.gen_time == token.gen_time
    assert token.gen_time.tzinfo is not None and token.gen_time.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - token.gen_time) < timedelta(seconds=5)
    assert verified.policy == LEGATO_EMBEDDED_POLICY_OID
    assert token.tsa_name == "embedded" and token.tsa_url is None
    assert token.chain_pem == [tsa.tsa_cert_pem().decode(), tsa.ca_pem().decode()]
    assert verified.chain_pem == token.chain_pem


def test_token_is_a_bare_timestamptoken_with_ess_cert_id_v2_and_the_signer_cert(tsa: EmbeddedTSA) -> None:
    token = tsa.timestamp(DIGEST)
    info = cms.ContentInfo.load(token.token_der)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["encap_content_info"]["content_type"].native == "tst_info"
    assert [c.chosen.dump() for c in signed["certificates"]] == [
        x509.load_pem_x509_certificate(tsa.tsa_cert_pem()).public_bytes(Encoding.DER)
    ]
    attrs = {a["type"].native: a["values"][0] for a in signed["signer_infos"][0]["signed_attrs"]}
    assert set(attrs) == {"content_type", "message_digest", "signing_time", "signing_certificate_v2"}
    ess = attrs["signing_certificate_v2"]["certs"][0]
    assert ess["hash_algorithm"]["algorithm"].native == "sha256"
    cert_der = x509.load_pem_x509_certificate(tsa.tsa_cert_pem()).public_bytes(Encoding.DER)
    assert ess["cert_hash"].native == hashlib.sha256(cert_der).digest()
    tst = tsp.TSTInfo.load(signed["encap_content_info"]["content"].contents)
    assert tst["accuracy"]["seconds"].native == 1
    assert tst["message_imprint"]["hashed_message"].native == DIGEST


def test_serials_are_unique_and_increasing_across_instances(tmp_path: Path) -> None:
    serials = []
    for _ in range(3):
        for instance in (EmbeddedTSA(tmp_path), EmbeddedTSA(tmp_path)):
            token = instance.timestamp(DIGEST)
            serials.append(
                verify_token(token.token_der, digest=DIGEST, roots_pem=instance.trust_roots_pem()).serial
            )
    assert serials == sorted(serials) and len(set(serials)) == len(serials)
    assert int((tmp_path / "tsa" / "serial").read_text()) == serials[-1]


def test_serials_stay_increasing_when_the_clock_stands_still(tmp_path: Path) -> None:
    frozen = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    tsa = EmbeddedTSA(tmp_path, clock=lambda: frozen)
    serials = [
        verify_token(tsa.timestamp(DIGEST).token_der, digest=DIGEST, roots_pem=tsa.trust_roots_pem()).serial
        for _ in range(3)
    ]
    first = int(frozen.timestamp() * 1_000_000)
    assert serials == [first, first + 1, first + 2]


def test_non_sha256_digest_is_refused_by_timestamp(tsa: EmbeddedTSA) -> None:
    with pytest.raises(ValueError, match="32-byte"):
        tsa.timestamp(hashlib.sha1(b"x").digest())


def test_health_reports_signer_and_root_fingerprint(tsa: EmbeddedTSA) -> None:
    health = tsa.health()
    root = x509.load_pem_x509_certificate(tsa.ca_pem())
    assert health["kind"] == "embedded"
    assert health["root_sha256"] == root.fingerprint(hashes.SHA256()).hex()
    assert health["key_type"] == "ec-p256"


# -- handle_request: the embedded TSA as an RFC 3161 endpoint ---------------------------------------


def test_handle_request_grants_and_echoes_the_nonce(tsa: EmbeddedTSA) -> None:
    resp = parse_response(tsa.handle_request(build_request(DIGEST, nonce=424242)))
    assert resp.status == "granted" and resp.token_der is not None
    verified = verify_token(resp.token_der, digest=DIGEST, roots_pem=tsa.trust_roots_pem(), nonce=424242)
    assert verified.nonce == 424242


def test_handle_request_without_cert_req_leaves_the_certificate_out(tsa: EmbeddedTSA) -> None:
    resp = parse_response(tsa.handle_request(build_request(DIGEST, nonce=1, cert_req=False)))
    assert resp.token_der is not None
    assert cms.ContentInfo.load(resp.token_der)["content"]["certificates"].native is None


def test_handle_request_accepts_sha512_imprints(tsa: EmbeddedTSA) -> None:
    digest = hashlib.sha512(b"x").digest()
    resp = parse_response(tsa.handle_request(build_request(digest, nonce=7, hash_algorithm="sha512")))
    assert resp.status == "granted"


def _sha1_request() -> bytes:
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha1"}, "hashed_message": b"\x01" * 20},
            "cert_req": True,
        }
    ).dump()


@pytest.mark.parametrize(
    ("request_der", "fail_info"),
    [
        pytest.param(_sha1_request(), "bad_alg", id="sha1-is-badAlg"),
        pytest.param(b"\x30\x03\x02\x01\x01", "bad_data_format", id="garbage-is-badDataFormat"),
        pytest.param(
            tsp.TimeStampReq(
                {
                    "version": "v1",
                    "message_imprint": {
                        "hash_algorithm": {"algorithm": "sha256"},
                        "hashed_message": b"\x01" * 20,
                    },
                }
            ).dump(),
            "bad_data_format",
            id="short-sha256-imprint-is-badDataFormat",
        ),
        pytest.param(
            build_request(DIGEST, nonce=1, policy="1.2.3.4"), "unaccepted_policy", id="foreign-policy"
        ),
    ],
)
def test_handle_request_rejects_bad_requests_with_the_right_fail_info(
    tsa: EmbeddedTSA, request_der: bytes, fail_info: str
) -> None:
    resp = parse_response(tsa.handle_request(request_der))
    assert resp.status == "rejection"
    assert resp.fail_info == {fail_info}
    assert resp.token_der is None and resp.status_text


def test_handle_request_rejects_request_extensions(tsa: EmbeddedTSA) -> None:
    req = tsp.TimeStampReq.load(build_request(DIGEST, nonce=1))
    req["extensions"] = [{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}]
    resp = parse_response(tsa.handle_request(req.dump()))
    assert resp.status == "rejection" and resp.fail_info == {"unaccepted_extensions"}
