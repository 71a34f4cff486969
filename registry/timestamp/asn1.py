"""RFC 3161 wire messages: TimeStampReq and TimeStampResp, built and read with asn1crypto.

Requests are built here rather than with rfc3161ng because its ``make_timestamp_request`` has been seen
to label a SHA-1-sized digest as SHA-256; building the structure ourselves lets the caller pass the
exact digest and lets a test check the bytes. asn1crypto's own ``TimeStampResp`` declares the token
mandatory, so rejections (which carry none) could not be read or written with it; ``TimeStampResp``
below makes it optional as RFC 3161 says.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, cms, core, parser, tsp

from registry.errors import InvalidTimestamp

SHA256_OID = "2.16.840.1.101.3.4.2.1"

DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
"""Imprint algorithms a Legato TSA accepts; anything else (SHA-1, MD5) is refused with badAlg."""

LEGATO_EMBEDDED_POLICY_OID = "2.25.226817658498036518579479469075297295189"
"""TSA policy of the embedded TSA, under the ITU-T X.667 UUID arc (2.25.<uuid as integer>) so it needs
no registration; the UUID is aaa37df6-7229-4a60-8f0a-0451eccd5b55."""

TRANSIENT_FAILURES = frozenset({"time_not_available", "system_failure", "add_info_not_available"})
"""failInfo bits that mean "try again later" rather than "this request is wrong"."""


class TimeStampResp(core.Sequence):
    """RFC 3161 §2.4.2 TimeStampResp, with ``timeStampToken`` OPTIONAL as the RFC has it."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class ParsedRequest:
    hash_algorithm: str
    digest: bytes
    nonce: int | None
    cert_req: bool
    policy: str | None
    has_extensions: bool


@dataclass(frozen=True)
class ParsedResponse:
    status: str
    """asn1crypto's name for the PKIStatus: ``granted``, ``granted_with_mods``, ``rejection`` ..."""
    fail_info: frozenset[str]
    status_text: str
    token_der: bytes | None


class MalformedMessage(InvalidTimestamp):
    """The bytes are not the RFC 3161 message they claim to be: the ``format`` check of a timestamp."""

    code = "MALFORMED_TIMESTAMP_MESSAGE"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, check="format", details=details)


def new_nonce() -> int:
    """A random positive 64-bit nonce (top bit clear so its DER INTEGER is at most 8 bytes)."""
    return secrets.randbits(63) | 1


def build_request(
    digest: bytes,
    *,
    nonce: int | None,
    cert_req: bool = True,
    hash_algorithm: str = "sha256",
    policy: str | None = None,
) -> bytes:
    """DER TimeStampReq for an already-computed digest."""
    if len(digest) != DIGEST_SIZES.get(hash_algorithm, -1):
        raise ValueError(
            f"a {hash_algorithm} imprint needs {DIGEST_SIZES.get(hash_algorithm)} bytes, got {len(digest)}"
        )
    fields: dict[str, object] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": hash_algorithm}, "hashed_message": digest},
        "cert_req": cert_req,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    if policy is not None:
        fields["req_policy"] = policy
    return tsp.TimeStampReq(fields).dump()


def parse_request(der: bytes) -> ParsedRequest:
    try:
        req = tsp.TimeStampReq.load(der, strict=True)
        imprint = req["message_imprint"]
        alg = imprint["hash_algorithm"]["algorithm"].native
        parsed = ParsedRequest(
            hash_algorithm=alg if alg in DIGEST_SIZES else imprint["hash_algorithm"]["algorithm"].dotted,
            digest=imprint["hashed_message"].native,
            nonce=req["nonce"].native,
            cert_req=bool(req["cert_req"].native),
            policy=req["req_policy"].dotted if req["req_policy"].native is not None else None,
            has_extensions=req["extensions"].native is not None,
        )
        if req["version"].native != "v1":
            raise MalformedMessage(f"TimeStampReq version {req['version'].native}, expected v1")
    except MalformedMessage:
        raise
    except (ValueError, TypeError, KeyError) as e:
        raise MalformedMessage(f"not a DER TimeStampReq: {e}") from e
    return parsed


def granted_response(token_der: bytes) -> bytes:
    """Wrap a token, byte for byte, in a ``granted`` TimeStampResp."""
    status = tsp.PKIStatusInfo({"status": "granted"}).dump()
    return _der_sequence(status + token_der)


def rejection_response(fail_info: str, text: str) -> bytes:
    """A ``rejection`` TimeStampResp with one failInfo bit (asn1crypto name, e.g. ``bad_alg``)."""
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": [text],
            "fail_info": tsp.PKIFailureInfo({fail_info}),
        }
    )
    return TimeStampResp({"status": status}).dump()


def parse_response(der: bytes) -> ParsedResponse:
    """Read a TimeStampResp, keeping the token's bytes exactly as the TSA sent them.

    The token is sliced out rather than decoded and re-encoded: what the registry stores must be the
    TSA's own bytes, and decoding a whole SignedData only to find its end is slow in asn1crypto.
    """
    try:
        class_, method, tag, _, contents, _ = parser.parse(der, strict=True)
        if (class_, method, tag) != (0, 1, 16):
            raise ValueError("not a SEQUENCE")
        status_len = parser.peek(contents)
        info = tsp.PKIStatusInfo.load(contents[:status_len], strict=True)
        rest = contents[status_len:]
        token_der = None
        if rest:
            token_len = parser.peek(rest)
            if token_len != len(rest):
                raise ValueError("trailing data after the timeStampToken")
            token_der = rest
        fail = info["fail_info"].native
        text = info["status_string"].native
        return ParsedResponse(
            status=info["status"].native,
            fail_info=frozenset(fail or ()),
            status_text="; ".join(text or ()),
            token_der=token_der,
        )
    except (ValueError, TypeError, KeyError) as e:
        raise MalformedMessage(f"not a DER TimeStampResp: {e}") from e


def _der_sequence(body: bytes) -> bytes:
    n = len(body)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return b"\x30" + length + body


def digest_algorithm(name: str) -> algos.DigestAlgorithm:
    return algos.DigestAlgorithm({"algorithm": name})
