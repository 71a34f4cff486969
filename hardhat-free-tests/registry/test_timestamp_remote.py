"""``RemoteTSA`` against real HTTP endpoints on 127.0.0.1: honest, rogue, misbehaving and absent TSAs."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from asn1crypto import tsp
from tsa_helpers import serve

from registry.errors import ConfigurationError, InvalidTimestamp, TimestampUnavailable
from registry.timestamp import EmbeddedTSA, RemoteTSA, Timestamper, verify_token
from registry.timestamp.asn1 import build_request, rejection_response

DIGEST = hashlib.sha256(b"Chapter 7: The Caravan").digest()
SHA256_ALGORITHM_ID = bytes.fromhex("300d06096086480165030402010500")  # SEQUENCE { id-sha256, NULL }


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedTSA:
    return EmbeddedTSA(tmp_path_factory.mktemp("honest"), key_type="rsa-2048")


@pytest.fixture(scope="module")
def p384(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedTSA:
    return EmbeddedTSA(tmp_path_factory.mktemp("p384"), key_type="ec-p384")


@pytest.fixture(scope="module")
def rogue(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedTSA:
    return EmbeddedTSA(tmp_path_factory.mktemp("rogue"))


@pytest.mark.parametrize("which", ["honest", "p384"], ids=["rsa-2048", "ec-p384"])
def test_remote_tsa_returns_a_verified_token(which: str, request: pytest.FixtureRequest) -> None:
    tsa: EmbeddedTSA = request.getfixturevalue(which)
    with serve(tsa.handle_request) as served:
        remote = RemoteTSA(served.url, roots_pem=tsa.trust_roots_pem())
        token = remote.timestamp(DIGEST)
    assert isinstance(remote, Timestamper)
    assert remote.name == served.url and token.tsa_name == served.url and token.tsa_url == served.url
    assert token.chain_pem == [tsa.tsa_cert_pem().decode(), tsa.ca_pem().decode()]
    verified = verify_token(token.token_der, digest=DIGEST, roots_pem=tsa.trust_roots_pem())
    assert verified.gen_time == token.gen_time
    assert served.content_types == ["application/timestamp-query"]


def test_the_request_carries_sha256_a_32_byte_imprint_a_nonce_and_cert_req(honest: EmbeddedTSA) -> None:
    with serve(honest.handle_request) as served:
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)
    sent = served.requests[0]
    # Byte level: AlgorithmIdentifier(id-sha256, NULL) directly followed by OCTET STRING (32) and our digest.
    assert SHA256_ALGORITHM_ID + b"\x04\x20" + DIGEST in sent
    req = tsp.TimeStampReq.load(sent)
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].dotted == "2.16.840.1.101.3.4.2.1"
    assert len(req["message_imprint"]["hashed_message"].native) == 32
    assert req["cert_req"].native is True
    assert 0 < req["nonce"].native < 2**64


def test_nonces_differ_between_requests(honest: EmbeddedTSA) -> None:
    with serve(honest.handle_request) as served:
        remote = RemoteTSA(served.url, roots_pem=honest.trust_roots_pem())
        remote.timestamp(DIGEST)
        remote.timestamp(DIGEST)
    nonces = {tsp.TimeStampReq.load(r)["nonce"].native for r in served.requests}
    assert len(nonces) == 2


def test_request_bytes_are_exactly_rfc3161_der() -> None:
    assert (
        build_request(b"\xab" * 32, nonce=0x0102030405060708)
        == bytes.fromhex(
            "3043020101"  # TimeStampReq, version 1
            "3031"
            + SHA256_ALGORITHM_ID.hex()
            + "0420"
            + "ab" * 32  # messageImprint
            + "02080102030405060708"  # nonce
            "0101ff"  # certReq TRUE
        )
    )


def test_a_short_digest_cannot_be_labelled_sha256() -> None:
    with pytest.raises(ValueError, match="needs 32 bytes"):
        build_request(hashlib.sha1(b"x").digest(), nonce=1)


def test_a_rogue_tsa_fails_the_chain_check(honest: EmbeddedTSA, rogue: EmbeddedTSA) -> None:
    with serve(rogue.handle_request) as served, pytest.raises(InvalidTimestamp) as caught:
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)
    assert caught.value.check == "chain"


def _rewrite_request(tsa: EmbeddedTSA, *, nonce_delta: int = 0, digest: bytes | None = None):  # type: ignore[no-untyped-def]
    """A TSA that signs honestly, but not what it was asked: another nonce or another digest."""

    def respond(body: bytes) -> bytes:
        req = tsp.TimeStampReq.load(body)
        asked = req["message_imprint"]["hashed_message"].native
        return tsa.handle_request(build_request(digest or asked, nonce=req["nonce"].native + nonce_delta))

    return respond


def test_a_tsa_echoing_another_nonce_fails_the_nonce_check(honest: EmbeddedTSA) -> None:
    with serve(_rewrite_request(honest, nonce_delta=1)) as served, pytest.raises(InvalidTimestamp) as caught:
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)
    assert caught.value.check == "nonce"


def test_a_tsa_stamping_another_digest_fails_the_imprint_check(honest: EmbeddedTSA) -> None:
    other = hashlib.sha256(b"someone else's chapter").digest()
    with serve(_rewrite_request(honest, digest=other)) as served, pytest.raises(InvalidTimestamp) as caught:
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)
    assert caught.value.check == "imprint"


def test_a_rejection_for_a_bad_request_fails_the_status_check(honest: EmbeddedTSA) -> None:
    with (
        serve(lambda _: rejection_response("bad_alg", "no")) as served,
        pytest.raises(InvalidTimestamp) as caught,
    ):
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)
    assert caught.value.check == "status"


def test_a_body_that_is_not_a_response_fails_the_format_check(honest: EmbeddedTSA) -> None:
    with serve(lambda _: b"<html>hello</html>") as served, pytest.raises(InvalidTimestamp) as caught:
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)
    assert caught.value.check == "format"


@pytest.mark.parametrize("fail_info", ["system_failure", "time_not_available"])
def test_a_transient_rejection_means_unavailable(honest: EmbeddedTSA, fail_info: str) -> None:
    with (
        serve(lambda _: rejection_response(fail_info, "busy")) as served,
        pytest.raises(TimestampUnavailable),
    ):
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)


def test_http_500_means_unavailable(honest: EmbeddedTSA) -> None:
    with serve(lambda _: (500, b"oops")) as served, pytest.raises(TimestampUnavailable) as caught:
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)
    assert caught.value.details["http_status"] == 500


def test_a_timeout_means_unavailable(honest: EmbeddedTSA) -> None:
    with serve(honest.handle_request, delay=5) as served, pytest.raises(TimestampUnavailable, match="within"):
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem(), timeout=0.3).timestamp(DIGEST)


def test_a_server_that_is_down_means_unavailable(honest: EmbeddedTSA) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TimestampUnavailable, match="unreachable"):
        RemoteTSA(f"http://127.0.0.1:{port}/tsr", roots_pem=honest.trust_roots_pem()).timestamp(DIGEST)


def test_health_fetches_a_real_token(honest: EmbeddedTSA, rogue: EmbeddedTSA) -> None:
    with serve(honest.handle_request) as served:
        health = RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).health()
    assert health["kind"] == "remote" and health["url"] == served.url
    assert "Legato Embedded TSA" in health["signer"]
    with serve(rogue.handle_request) as served, pytest.raises(TimestampUnavailable) as caught:
        RemoteTSA(served.url, roots_pem=honest.trust_roots_pem()).health()
    assert caught.value.details["check"] == "chain"


def test_without_pinned_roots_the_adapter_refuses_to_exist() -> None:
    with pytest.raises(ConfigurationError, match="pinned root"):
        RemoteTSA("https://freetsa.org/tsr", roots_pem=[])


@pytest.mark.parametrize(
    ("url", "roots"),
    [
        ("ftp://tsa.example/tsr", None),
        ("not a url", None),
        ("https://tsa.example/tsr", [b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"]),
    ],
)
def test_bad_url_or_root_is_a_configuration_error(
    url: str, roots: list[bytes] | None, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError):
        RemoteTSA(url, roots_pem=roots or EmbeddedTSA(tmp_path).trust_roots_pem())
