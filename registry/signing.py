"""The platform's Ed25519 key, and author co-signatures (EIP-191) over a content hash.

The platform key signs every certificate. It is created in the data dir on first start (mode 0600) or
given in settings as PEM. Verification needs only the raw public key printed in the certificate, so a
stranger can check a signature with any Ed25519 library.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.errors import ConfigurationError, InvalidSignature
from registry.keystore import read_or_create_secret


def new_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class PlatformKey:
    private_key: Ed25519PrivateKey

    @classmethod
    def from_pem(cls, pem: bytes) -> PlatformKey:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as e:
            raise ConfigurationError("The platform signing key is not a PEM private key.") from e
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError("The platform signing key must be Ed25519.")
        return cls(key)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> PlatformKey:
        return cls.from_pem(
            read_or_create_secret(data_dir / "keys" / "platform-ed25519.pem", new_key_pem)
        )

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def current(self) -> PlatformKey:
        """The key to sign with now; a keyring (registry.signing_keys) answers with its newest key."""
        return self


def key_id(public_raw: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def verify_ed25519(public_b64: str, signature_b64: str, message: bytes) -> None:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        public.verify(base64.b64decode(signature_b64, validate=True), message)
    except (_CryptoInvalidSignature, ValueError) as e:
        raise InvalidSignature(
            "The platform signature does not match the certificate.", check="signature"
        ) from e


def author_message(sha256_hex: str) -> bytes:
    """What an author signs with their wallet: the 32 raw bytes of the content SHA-256, wrapped by
    EIP-191 (``personal_sign``), so a wallet asked to sign ``0x<sha256>`` produces it."""
    return bytes.fromhex(sha256_hex)


def recover_author(sha256_hex: str, signature_hex: str) -> str:
    # eth-account costs seconds to import; only co-signed registrations need it.
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        return Account.recover_message(
            encode_defunct(primitive=author_message(sha256_hex)), signature=signature_hex
        )
    except Exception as e:  # eth-account raises several unrelated types for malformed signatures
        raise InvalidSignature("The author signature is malformed.", check="author_signature") from e


def verify_author_signature(sha256_hex: str, signature_hex: str, wallet: str) -> None:
    signer = recover_author(sha256_hex, signature_hex)
    if signer.lower() != wallet.lower():
        raise InvalidSignature(
            "The author signature was not made by the author's wallet.",
            check="author_signature",
            details={"recovered": signer, "wallet": wallet},
        )
