"""The embedded TSA's own small PKI: a root CA and one timestamping certificate, kept in the data dir.

Each installation gets its own root, so a token only proves something to someone who pins that root
(``legato tsa-ca`` prints it). Creation runs under an exclusive ``flock`` on ``tsa/.lock`` so two
processes starting at once end up with one CA, not two; keys go through ``read_or_create_secret``
(mode 0600, ``O_EXCL``) and certificates are published with an atomic rename so a crash never leaves
half a PEM behind. The timestamping certificate follows RFC 3161 §2.3: extendedKeyUsage timeStamping
only, critical; keyUsage digitalSignature only.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from registry.errors import ConfigurationError
from registry.keystore import read_or_create_secret, write_atomic
from registry.timestamp.issuing import SigningKey

KeyType = Literal["ec-p256", "ec-p384", "rsa-2048", "rsa-3072"]
KEY_TYPES: tuple[str, ...] = get_args(KeyType)

ROOT_VALIDITY = timedelta(days=365 * 30)
TSA_VALIDITY = timedelta(days=365 * 10)
BACKDATE = timedelta(hours=1)
"""Certificates start an hour early so a token stamped right after creation is inside their validity
even when the verifier's notion of genTime is a little behind."""


@dataclass(frozen=True)
class TsaCredentials:
    root: x509.Certificate
    cert: x509.Certificate
    key: SigningKey

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_type(self) -> str:
        return key_type_of(self.key)


def generate_key(key_type: str) -> SigningKey:
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type in ("rsa-2048", "rsa-3072"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:]))
    raise ConfigurationError(f"unknown TSA key type {key_type!r}; choose one of {', '.join(KEY_TYPES)}")


def key_type_of(key: SigningKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"ec-p{key.curve.key_size}"
    return f"rsa-{key.key_size}"


def key_pem(key: SigningKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_key(pem: bytes, where: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise ConfigurationError(f"{where} is not a PEM private key") from e
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigurationError(f"{where} holds a {type(key).__name__}; the TSA signs with RSA or EC")
    return key


def _cert_hash(key: SigningKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def subject_name(common_name: str, instance: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Legato"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"instance {instance}"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_root(
    key: SigningKey, *, now: datetime, subject: x509.Name, path_length: int | None = 0
) -> x509.Certificate:
    """A self-signed CA; the embedded one issues only end-entity certificates (pathLen 0)."""
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, _cert_hash(key))
    )


def make_tsa_cert(
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    *,
    issuer: x509.Certificate,
    issuer_key: SigningKey,
    now: datetime,
    subject: x509.Name,
    validity: timedelta = TSA_VALIDITY,
    eku_critical: bool = True,
    eku: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.TIME_STAMPING,),
) -> x509.Certificate:
    """The timestamping end-entity certificate; ``eku*`` exist so tests can make non-conforming ones."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
    return builder.sign(issuer_key, _cert_hash(issuer_key))


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold ``flock(LOCK_EX)`` on ``path`` (created if needed) for the block; released on close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)



def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError as e:
        raise ConfigurationError(f"{path} is not a PEM certificate") from e


def load_or_create_credentials(directory: Path, *, key_type: str, now: datetime) -> TsaCredentials:
    """Load the root and timestamping certificate from ``directory``, creating what is missing.

    ``key_type`` only applies to keys created now; an existing installation keeps its keys.
    """
    if key_type not in KEY_TYPES:
        raise ConfigurationError(f"unknown TSA key type {key_type!r}; choose one of {', '.join(KEY_TYPES)}")
    root_pem, tsa_pem = directory / "root.pem", directory / "tsa.pem"
    with exclusive_lock(directory / ".lock"):
        if not tsa_pem.exists():
            _create(directory, key_type=key_type, now=now)
        tsa_key = load_key(
            read_or_create_secret(directory / "tsa.key", _missing(directory / "tsa.key")),
            directory / "tsa.key",
        )
        creds = TsaCredentials(root=_load_cert(root_pem), cert=_load_cert(tsa_pem), key=tsa_key)
    _check_consistent(creds, directory)
    return creds


def _create(directory: Path, *, key_type: str, now: datetime) -> None:
    """Create whatever an earlier, interrupted run left missing; the caller holds the lock."""
    root_key = load_key(
        read_or_create_secret(directory / "root.key", lambda: key_pem(generate_key(key_type))),
        directory / "root.key",
    )
    # Named after the root key, so both certificates of one installation carry the same instance id.
    instance = hashlib.sha256(_spki(root_key.public_key())).hexdigest()[:8]
    root_pem = directory / "root.pem"
    if not root_pem.exists():
        root = make_root(root_key, now=now, subject=subject_name("Legato Embedded TSA Root CA", instance))
        write_atomic(root_pem, root.public_bytes(serialization.Encoding.PEM), mode=0o644)
    root = _load_cert(root_pem)
    tsa_key = load_key(
        read_or_create_secret(directory / "tsa.key", lambda: key_pem(generate_key(key_type))),
        directory / "tsa.key",
    )
    cert = make_tsa_cert(
        tsa_key.public_key(),
        issuer=root,
        issuer_key=root_key,
        now=now,
        subject=subject_name("Legato Embedded TSA", instance),
    )
    write_atomic(directory / "tsa.pem", cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _spki(public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _check_consistent(creds: TsaCredentials, directory: Path) -> None:
    """Refuse to sign with files that do not belong together (a key swapped by hand, a stray root)."""
    if _spki(creds.cert.public_key()) != _spki(creds.key.public_key()):  # type: ignore[arg-type]
        raise ConfigurationError(f"{directory}/tsa.key does not match {directory}/tsa.pem")
    try:
        creds.cert.verify_directly_issued_by(creds.root)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise ConfigurationError(f"{directory}/tsa.pem was not issued by {directory}/root.pem") from e


def _missing(path: Path) -> Callable[[], bytes]:
    def fail() -> bytes:
        raise ConfigurationError(
            f"{path} is missing but its certificate exists; restore it or remove the tsa dir"
        )

    return fail
