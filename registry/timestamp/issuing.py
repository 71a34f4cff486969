"""Producing RFC 3161 TimeStampTokens: a TSTInfo wrapped in CMS SignedData (RFC 5652, RFC 5816).

The token carries the signed attributes every strict verifier (OpenSSL's ``ts -verify`` included)
looks for: contentType id-ct-TSTInfo, signingTime, messageDigest over the encoded TSTInfo and an
ESSCertIDv2 (SHA-256) binding the signature to the signer certificate, so a token cannot be re-pointed
at another certificate with the same key. The functions take the key and certificates as arguments so
tests can build deliberately broken tokens through the same code the embedded TSA uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from asn1crypto import cms, tsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from registry.timestamp.asn1 import digest_algorithm

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
EssVersion = Literal["v2", "v1", "none"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class TSTFields:
    """The content of one TSTInfo (RFC 3161 §2.4.2)."""

    policy: str
    hash_algorithm: str
    digest: bytes
    serial: int
    gen_time: datetime
    nonce: int | None = None
    accuracy_seconds: int | None = 1
    tsa_name: x509.Name | None = None


@dataclass(frozen=True)
class SignOptions:
    """How the SignedData is assembled; the defaults are what a conforming TSA emits."""

    include_certs: bool = True
    extra_certs: Sequence[x509.Certificate] = field(default_factory=tuple)
    ess: EssVersion = "v2"
    ess_cert: x509.Certificate | None = None
    """The certificate the ESSCertID names; the signer's unless a test wants a mismatch."""
    signing_time: datetime | None = None


def signer_digest_for(key: SigningKey) -> str:
    """SHA-384 for P-384 keys (matched strength, as FreeTSA does), SHA-256 otherwise."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return "sha384"
    return "sha256"


def encode_tst_info(f: TSTFields) -> bytes:
    if f.gen_time.tzinfo is None:
        raise ValueError("genTime must be timezone-aware")
    fields: dict[str, object] = {
        "version": "v1",
        "policy": f.policy,
        "message_imprint": {"hash_algorithm": {"algorithm": f.hash_algorithm}, "hashed_message": f.digest},
        "serial_number": f.serial,
        "gen_time": f.gen_time.astimezone(UTC),
    }
    if f.accuracy_seconds is not None:
        fields["accuracy"] = {"seconds": f.accuracy_seconds}
    if f.nonce is not None:
        fields["nonce"] = f.nonce
    if f.tsa_name is not None:
        fields["tsa"] = {"directory_name": ax509.Name.load(f.tsa_name.public_bytes())}
    return tsp.TSTInfo(fields).dump()


def _ess_attribute(cert: x509.Certificate, version: EssVersion) -> dict[str, object]:
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    issuer_serial = {
        "issuer": [ax509.GeneralName({"directory_name": ax509.Name.load(cert.issuer.public_bytes())})],
        "serial_number": cert.serial_number,
    }
    if version == "v2":
        ess_id: object = tsp.ESSCertIDv2(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "cert_hash": hashlib.sha256(cert_der).digest(),
                "issuer_serial": issuer_serial,
            }
        )
        return {"type": "signing_certificate_v2", "values": [tsp.SigningCertificateV2({"certs": [ess_id]})]}
    ess_v1 = tsp.ESSCertID({"cert_hash": hashlib.sha1(cert_der).digest(), "issuer_serial": issuer_serial})  # noqa: S324 - ESSCertID v1 is defined over SHA-1
    return {"type": "signing_certificate", "values": [tsp.SigningCertificate({"certs": [ess_v1]})]}


def _sign(key: SigningKey, data: bytes, digest_name: str) -> tuple[bytes, str]:
    algorithm = _HASHES[digest_name]()
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), algorithm), f"{digest_name}_rsa"
    return key.sign(data, ec.ECDSA(algorithm)), f"{digest_name}_ecdsa"


def sign_tst_info(
    tst_info_der: bytes, *, key: SigningKey, cert: x509.Certificate, options: SignOptions = SignOptions()
) -> bytes:
    """Wrap an encoded TSTInfo in SignedData signed by ``key``; returns the DER TimeStampToken."""
    digest_name = signer_digest_for(key)
    content_digest = hashlib.new(digest_name, tst_info_der).digest()
    attrs: list[dict[str, object]] = [
        {"type": "content_type", "values": ["tst_info"]},
        {"type": "message_digest", "values": [content_digest]},
    ]
    if options.signing_time is not None:
        attrs.append({"type": "signing_time", "values": [cms.Time({"utc_time": options.signing_time})]})
    if options.ess != "none":
        attrs.append(_ess_attribute(options.ess_cert or cert, options.ess))
    # Signed over the DER SET OF (tag 0x31), which asn1crypto sorts as DER requires; the SignerInfo
    # carries the same bytes re-tagged [0] IMPLICIT.
    signed_attrs = cms.CMSAttributes(attrs)
    signature, signature_algorithm = _sign(key, signed_attrs.dump(), digest_name)

    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": ax509.Name.load(cert.issuer.public_bytes()),
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": digest_algorithm(digest_name),
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": signature_algorithm},
            "signature": signature,
        }
    )
    signed_data: dict[str, object] = {
        "version": "v3",
        "digest_algorithms": [digest_algorithm(digest_name)],
        "encap_content_info": {
            "content_type": "tst_info",
            "content": cms.ParsableOctetString(tst_info_der),
        },
        "signer_infos": [signer_info],
    }
    if options.include_certs:
        certs = [cert, *options.extra_certs]
        signed_data["certificates"] = [
            cms.CertificateChoices(
                {"certificate": ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))}
            )
            for c in certs
        ]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)}).dump()


def issue_token(
    fields: TSTFields, *, key: SigningKey, cert: x509.Certificate, options: SignOptions = SignOptions()
) -> bytes:
    return sign_tst_info(encode_tst_info(fields), key=key, cert=cert, options=options)
