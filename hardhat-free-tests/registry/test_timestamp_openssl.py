"""Interop with OpenSSL's ``ts`` tool: what a stranger would run to check a Legato token without us."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from registry.timestamp import LEGATO_EMBEDDED_POLICY_OID, EmbeddedTSA
from registry.timestamp.asn1 import build_request, parse_response

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed")

TEXT = b"The drums were silent the night the caravan came in."
DIGEST = hashlib.sha256(TEXT).digest()


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENSSL or "openssl", *map(str, args)], capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module", params=["ec-p256", "rsa-2048", "ec-p384"])
def issued(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[EmbeddedTSA, Path]:
    """An embedded TSA of each key type, its token over DIGEST and its PEM files, written as a user would."""
    work = tmp_path_factory.mktemp(request.param)
    tsa = EmbeddedTSA(work / "data", key_type=request.param)
    (work / "token.der").write_bytes(tsa.timestamp(DIGEST).token_der)
    (work / "ca.pem").write_bytes(tsa.ca_pem())
    (work / "tsa.pem").write_bytes(tsa.tsa_cert_pem())
    return tsa, work


def test_openssl_ts_verify_accepts_the_token(issued: tuple[EmbeddedTSA, Path]) -> None:
    _, work = issued
    result = openssl(
        "ts",
        "-verify",
        "-digest",
        DIGEST.hex(),
        "-token_in",
        "-in",
        work / "token.der",
        "-CAfile",
        work / "ca.pem",
        "-untrusted",
        work / "tsa.pem",
    )
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout


def test_openssl_ts_verify_accepts_the_token_with_only_the_root(issued: tuple[EmbeddedTSA, Path]) -> None:
    _, work = issued  # the signer certificate travels inside the token
    result = openssl(
        "ts",
        "-verify",
        "-digest",
        DIGEST.hex(),
        "-token_in",
        "-in",
        work / "token.der",
        "-CAfile",
        work / "ca.pem",
    )
    assert result.returncode == 0, result.stderr


def test_openssl_ts_verify_rejects_another_digest(issued: tuple[EmbeddedTSA, Path]) -> None:
    _, work = issued
    other = hashlib.sha256(TEXT + b"!").hexdigest()
    result = openssl(
        "ts", "-verify", "-digest", other, "-token_in", "-in", work / "token.der", "-CAfile", work / "ca.pem"
    )
    assert result.returncode != 0
    assert "message imprint mismatch" in result.stderr


def test_openssl_ts_verify_rejects_another_root(issued: tuple[EmbeddedTSA, Path], tmp_path: Path) -> None:
    _, work = issued
    (tmp_path / "other.pem").write_bytes(EmbeddedTSA(tmp_path).ca_pem())
    result = openssl(
        "ts",
        "-verify",
        "-digest",
        DIGEST.hex(),
        "-token_in",
        "-in",
        work / "token.der",
        "-CAfile",
        tmp_path / "other.pem",
    )
    assert result.returncode != 0
    assert "Verification: OK" not in result.stdout


def test_openssl_ts_reply_text_shows_the_fields(issued: tuple[EmbeddedTSA, Path]) -> None:
    _, work = issued
    result = openssl("ts", "-reply", "-token_in", "-in", work / "token.der", "-text")
    assert result.returncode == 0, result.stderr
    assert "Hash Algorithm: sha256" in result.stdout
    assert f"Policy OID: {LEGATO_EMBEDDED_POLICY_OID}" in result.stdout
    assert "Accuracy: 0x01 seconds" in result.stdout

    def hexdump(chunk: bytes) -> str:
        return " ".join(f"{b:02x}" for b in chunk)

    assert f"0000 - {hexdump(DIGEST[:8])}-{hexdump(DIGEST[8:16])}" in result.stdout
    assert f"0010 - {hexdump(DIGEST[16:24])}-{hexdump(DIGEST[24:])}" in result.stdout


def test_an_openssl_request_gets_a_response_openssl_verifies_against_it(tmp_path: Path) -> None:
    tsa = EmbeddedTSA(tmp_path / "data")
    (tmp_path / "ca.pem").write_bytes(tsa.ca_pem())
    (tmp_path / "chapter.txt").write_bytes(TEXT)
    query = openssl(
        "ts", "-query", "-data", tmp_path / "chapter.txt", "-sha256", "-cert", "-out", tmp_path / "req.tsq"
    )
    assert query.returncode == 0, query.stderr
    (tmp_path / "resp.tsr").write_bytes(tsa.handle_request((tmp_path / "req.tsq").read_bytes()))
    text = openssl("ts", "-reply", "-in", tmp_path / "resp.tsr", "-text")
    assert "Status: Granted." in text.stdout
    # -queryfile makes OpenSSL check the imprint and the nonce of its own request.
    result = openssl(
        "ts",
        "-verify",
        "-queryfile",
        tmp_path / "req.tsq",
        "-in",
        tmp_path / "resp.tsr",
        "-CAfile",
        tmp_path / "ca.pem",
    )
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout


def test_an_openssl_sha1_request_is_rejected_with_bad_alg(tmp_path: Path) -> None:
    tsa = EmbeddedTSA(tmp_path / "data")
    (tmp_path / "chapter.txt").write_bytes(TEXT)
    openssl("ts", "-query", "-data", tmp_path / "chapter.txt", "-sha1", "-out", tmp_path / "req.tsq")
    (tmp_path / "resp.tsr").write_bytes(tsa.handle_request((tmp_path / "req.tsq").read_bytes()))
    text = openssl("ts", "-reply", "-in", tmp_path / "resp.tsr", "-text")
    assert "Status: Rejected." in text.stdout
    assert "unrecognized or unsupported algorithm identifier" in text.stdout
    assert parse_response((tmp_path / "resp.tsr").read_bytes()).fail_info == {"bad_alg"}


def test_our_request_is_byte_identical_to_openssls(tmp_path: Path) -> None:
    query = openssl(
        "ts", "-query", "-digest", DIGEST.hex(), "-sha256", "-cert", "-no_nonce", "-out", tmp_path / "req.tsq"
    )
    assert query.returncode == 0, query.stderr
    assert build_request(DIGEST, nonce=None) == (tmp_path / "req.tsq").read_bytes()
