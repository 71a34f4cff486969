"""Strict verification of RFC 3161 tokens against pinned roots.

A token proves a time only if every link holds, so each is checked on its own and a failure names the
one that broke (``InvalidTimestamp.check``): ``format``, ``status``, ``imprint`` (SHA-256 and equal to
the expected digest), ``nonce``, ``signature`` (contentType, messageDigest and the CMS signature over
the signed attributes), ``ess_cert_id`` (ESSCertIDv2/ESSCertID binds the signature to the signer
certificate), ``eku`` (critical extendedKeyUsage timeStamping, nothing else) and ``chain`` (signer
certificate up to a pinned certificate, each link valid at genTime). The certificates carried in the
token are only ever candidates for intermediates; trust comes from ``roots_pem`` alone.

The checks are ours (cryptography + asn1crypto) so the failing one can be named; trailofbits'
rfc3161-client then verifies the same token through OpenSSL's PKCS7_verify as an independent second
opinion, so a gap in one implementation is not enough to get a forged token accepted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import VerificationError as _ClientVerificationError
from rfc3161_client import VerifierBuilder, decode_timestamp_response

from registry.errors import InvalidTimestamp
from registry.timestamp import asn1
from registry.timestamp.cert_path import build_chain, der, load_roots
from registry.timestamp.protocol import VerifiedTimestamp

_SIGNER_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class _Parsed:
    signer_info: cms.SignerInfo
    e_content: bytes
    tst: tsp.TSTInfo
    certs: list[x509.Certificate]


def verify_token(
    token_der: bytes, *, digest: bytes, roots_pem: list[bytes], nonce: int | None = None
) -> VerifiedTimestamp:
    """Verify a DER TimeStampToken over the SHA-256 ``digest``; raise ``InvalidTimestamp`` otherwise."""
    roots = load_roots(roots_pem)
    parsed = _parse(token_der)
    _check_imprint(parsed.tst, digest)
    _check_nonce(parsed.tst, nonce)
    signer = _find_signer(parsed, roots)
    _check_signature(parsed, signer)
    _check_ess(parsed.signer_info, signer)
    _check_eku(signer)
    gen_time = parsed.tst["gen_time"].native
    chain = build_chain(signer, parsed.certs, roots, at=gen_time)
    if _cross_checkable(parsed, chain):
        _openssl_cross_check(token_der, digest, roots, nonce)
    return VerifiedTimestamp(
        gen_time=gen_time,
        serial=parsed.tst["serial_number"].native,
        signer_subject=signer.subject.rfc4514_string(),
        policy=parsed.tst["policy"].dotted,
        hash_algorithm="sha256",
        nonce=parsed.tst["nonce"].native,
        chain_pem=[c.public_bytes(serialization.Encoding.PEM).decode() for c in chain],
    )


def verify_response(
    response_der: bytes, *, digest: bytes, roots_pem: list[bytes], nonce: int | None = None
) -> tuple[bytes, VerifiedTimestamp]:
    """Check a whole TimeStampResp: status granted, then ``verify_token``; returns the token and result."""
    try:
        resp = asn1.parse_response(response_der)
    except asn1.MalformedMessage as e:
        raise InvalidTimestamp(str(e), check="format") from e
    if resp.status not in ("granted", "granted_with_mods") or resp.token_der is None:
        raise InvalidTimestamp(
            f"the TSA answered {resp.status} ({', '.join(sorted(resp.fail_info)) or 'no failInfo'}): "
            f"{resp.status_text or 'no text'}",
            check="status",
            details={"status": resp.status, "fail_info": sorted(resp.fail_info)},
        )
    return resp.token_der, verify_token(resp.token_der, digest=digest, roots_pem=roots_pem, nonce=nonce)


def _parse(token_der: bytes) -> _Parsed:
    try:
        info = cms.ContentInfo.load(token_der, strict=True)
        if info["content_type"].native != "signed_data":
            raise InvalidTimestamp(
                f"content type {info['content_type'].native}, expected signed_data", check="format"
            )
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info" or encap["content"].native is None:
            raise InvalidTimestamp("the SignedData does not encapsulate a TSTInfo", check="format")
        e_content = encap["content"].contents
        tst = tsp.TSTInfo.load(e_content, strict=True)
        if tst["version"].native != "v1":
            raise InvalidTimestamp(f"TSTInfo version {tst['version'].native}, expected v1", check="format")
        tst["gen_time"].native  # noqa: B018 - forces the lazy parse so a bad time fails here
        if len(signed["signer_infos"]) != 1:
            raise InvalidTimestamp(f"{len(signed['signer_infos'])} SignerInfos, expected one", check="format")
        certs = (
            [
                x509.load_der_x509_certificate(c.chosen.dump())
                for c in signed["certificates"]
                if c.name == "certificate"
            ]
            if not isinstance(signed["certificates"], core.Void)
            else []
        )
        return _Parsed(signer_info=signed["signer_infos"][0], e_content=e_content, tst=tst, certs=certs)
    except InvalidTimestamp:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise InvalidTimestamp(f"not a DER RFC 3161 TimeStampToken: {e}", check="format") from e


def _check_imprint(tst: tsp.TSTInfo, digest: bytes) -> None:
    imprint = tst["message_imprint"]
    algorithm = imprint["hash_algorithm"]
    if algorithm["algorithm"].dotted != asn1.SHA256_OID or algorithm["parameters"].native is not None:
        raise InvalidTimestamp(
            f"message imprint uses {algorithm['algorithm'].native}, expected sha256 without parameters",
            check="imprint",
        )
    if len(digest) != 32 or imprint["hashed_message"].native != digest:
        raise InvalidTimestamp(
            f"token is over {imprint['hashed_message'].native.hex()}, expected {digest.hex()}",
            check="imprint",
        )


def _check_nonce(tst: tsp.TSTInfo, nonce: int | None) -> None:
    if nonce is not None and tst["nonce"].native != nonce:
        raise InvalidTimestamp(f"token nonce {tst['nonce'].native}, request nonce {nonce}", check="nonce")


def _find_signer(parsed: _Parsed, roots: list[x509.Certificate]) -> x509.Certificate:
    sid = parsed.signer_info["sid"]
    for cert in [*parsed.certs, *roots]:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                cert.serial_number == wanted["serial_number"].native
                and ax509.Name.load(cert.issuer.public_bytes()) == wanted["issuer"]
            ):
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.chosen.native:
                return cert
    raise InvalidTimestamp("the signer certificate is neither in the token nor pinned", check="chain")


def _attribute(signer_info: cms.SignerInfo, name: str) -> list[Any] | None:
    found = [a for a in signer_info["signed_attrs"] if a["type"].native == name]
    if not found:
        return None
    if len(found) > 1 or len(found[0]["values"]) != 1:
        raise InvalidTimestamp(f"signed attribute {name} must appear once with one value", check="signature")
    return list(found[0]["values"])


def _check_signature(parsed: _Parsed, signer: x509.Certificate) -> None:
    si = parsed.signer_info
    if si["signed_attrs"].native is None:
        raise InvalidTimestamp("the SignerInfo has no signed attributes", check="signature")
    digest_name = si["digest_algorithm"]["algorithm"].native
    if digest_name not in _SIGNER_HASHES:
        raise InvalidTimestamp(f"signer digest {digest_name} is not accepted", check="signature")
    content_type = _attribute(si, "content_type")
    if content_type is None or content_type[0].native != "tst_info":
        raise InvalidTimestamp("signed contentType is not id-ct-TSTInfo", check="signature")
    message_digest = _attribute(si, "message_digest")
    if (
        message_digest is None
        or message_digest[0].native != hashlib.new(digest_name, parsed.e_content).digest()
    ):
        raise InvalidTimestamp(
            "the TSTInfo does not match the signed messageDigest (altered token)", check="signature"
        )
    # The signature covers the attributes as a DER SET OF (tag 0x31), not as the [0] IMPLICIT field.
    signed_bytes = b"\x31" + si["signed_attrs"].dump()[1:]
    _verify_raw(signer.public_key(), si, digest_name, si["signature"].native, signed_bytes)


def _verify_raw(
    public_key: object, si: cms.SignerInfo, digest_name: str, signature: bytes, data: bytes
) -> None:
    """PKCS#1 v1.5 and ECDSA only: RSASSA-PSS tokens fail OpenSSL's PKCS7 path (and ``openssl ts``)."""
    algo = si["signature_algorithm"]
    kind = algo.signature_algo
    try:
        hash_name = algo.hash_algo
    except ValueError:  # rsaEncryption names no hash; the SignerInfo digestAlgorithm does
        hash_name = digest_name
    try:
        if kind == "rsassa_pkcs1v15" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), _hash(hash_name))
        elif kind == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(_hash(hash_name)))
        else:
            raise InvalidTimestamp(
                f"signature algorithm {algo['algorithm'].native} is not accepted for this signer key",
                check="signature",
            )
    except InvalidSignature as e:
        raise InvalidTimestamp(
            "the CMS signature does not verify with the signer certificate's key", check="signature"
        ) from e


def _hash(name: str | None) -> hashes.HashAlgorithm:
    if name not in _SIGNER_HASHES:
        raise InvalidTimestamp(f"signature hash {name} is not accepted", check="signature")
    return _SIGNER_HASHES[name]()


def _check_ess(si: cms.SignerInfo, signer: x509.Certificate) -> None:
    """RFC 5816/2634: the first ESSCertID(v2) must hash to the signer certificate (and name it)."""
    cert_der = der(signer)
    v2 = _attribute(si, "signing_certificate_v2")
    v1 = _attribute(si, "signing_certificate") if v2 is None else None
    if v2 is not None:
        ess = v2[0]["certs"][0]
        hash_name = ess["hash_algorithm"]["algorithm"].native
        if hash_name not in _SIGNER_HASHES:
            raise InvalidTimestamp(f"ESSCertIDv2 uses {hash_name}", check="ess_cert_id")
        expected = hashlib.new(hash_name, cert_der).digest()
    elif v1 is not None:
        ess = v1[0]["certs"][0]
        expected = hashlib.sha1(cert_der).digest()  # noqa: S324 - ESSCertID v1 is defined over SHA-1
    else:
        raise InvalidTimestamp("no ESSCertIDv2 or ESSCertID signed attribute", check="ess_cert_id")
    if ess["cert_hash"].native != expected:
        raise InvalidTimestamp(
            "the ESSCertID hash names a different certificate than the signer's", check="ess_cert_id"
        )
    issuer_serial = ess["issuer_serial"]
    if issuer_serial.native is not None:
        issuer = ax509.Name.load(signer.issuer.public_bytes())
        names = [g.chosen for g in issuer_serial["issuer"] if g.name == "directory_name"]
        if issuer_serial["serial_number"].native != signer.serial_number or issuer not in names:
            raise InvalidTimestamp(
                "the ESSCertID issuerSerial does not name the signer certificate", check="ess_cert_id"
            )


def _check_eku(signer: x509.Certificate) -> None:
    """RFC 3161 §2.3: extendedKeyUsage present, critical, and timeStamping only."""
    try:
        eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound as e:
        raise InvalidTimestamp("the signer certificate has no extendedKeyUsage", check="eku") from e
    if not eku.critical:
        raise InvalidTimestamp("the signer certificate's extendedKeyUsage is not critical", check="eku")
    if list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise InvalidTimestamp(
            f"extendedKeyUsage is {[o.dotted_string for o in eku.value]}, expected timeStamping only",
            check="eku",
        )
    try:
        usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise InvalidTimestamp("the signer certificate's keyUsage does not allow signatures", check="eku")


def _cross_checkable(parsed: _Parsed, chain: list[x509.Certificate]) -> bool:
    """rfc3161-client only handles the common shape: signer certificate inside the token and named by
    issuer and serial, chain ending at a self-signed root. A pinned TSA certificate used as its own
    anchor, or an SKI signer id, is verified by our checks alone."""
    return (
        bool(parsed.certs)
        and parsed.signer_info["sid"].name == "issuer_and_serial_number"
        and chain[-1].subject == chain[-1].issuer
    )


def _openssl_cross_check(
    token_der: bytes, digest: bytes, roots: list[x509.Certificate], nonce: int | None
) -> None:
    """rfc3161-client (OpenSSL's PKCS7_verify underneath) must reach the same verdict."""
    builder = VerifierBuilder(roots=list(roots), nonce=nonce)
    try:
        response = decode_timestamp_response(asn1.granted_response(token_der))
        builder.build().verify(response, digest)
    except (_ClientVerificationError, ValueError) as e:
        check = "signature" if "signature" in str(e).lower() else "chain"
        raise InvalidTimestamp(f"rfc3161-client/OpenSSL rejects the token: {e}", check=check) from e
    except BaseException as e:  # its Rust parser panics (pyo3 PanicException) on some malformed input
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        raise InvalidTimestamp(f"rfc3161-client cannot read the token: {e!r}", check="format") from e
