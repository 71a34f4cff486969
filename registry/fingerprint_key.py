"""The fingerprint key: what keeps stored fingerprints from being read back as the chapter text.

A fingerprint's shingle sequence, in reading order with the character span of every word, can be
walked with a word list: the first shingle from five word guesses (the spans give each word's
length), then one word per step. So the registry stores it only **sealed** (AES-256-GCM, bound to
its registration id), and what it stores readable, the MinHash signatures for the index, is made
over **keyed** shingle hashes, so a guessed text cannot be tested against them either.

One 32-byte secret, in the data dir (``keys/fingerprint.key``, created once, mode 0600), gives two
independent subkeys by HMAC-SHA256 with distinct labels:

* ``prf``: a pseudo-random function over 64-bit shingle hashes: AES-256 of one block
  ``hash (8 bytes LE) || "LGSHNG01"``, first 8 bytes. Each block is encrypted alone, so it is AES
  as a PRF (a pseudo-random permutation truncated to 64 bits), not ECB encryption of a message; one
  OpenSSL call keys a chapter's ~2,000 shingles in ~0.03 ms, where HMAC-SHA256 per shingle in
  Python takes ~9 ms (the fingerprint itself ~1 ms).
* ``seal``: AES-256-GCM over the fingerprint bytes (format 2), associated data
  ``legato/fingerprint/v1/<registration id>``, so a sealed fingerprint copied to another row fails.

The sealed bytes keep the *plain* shingle hashes: a new key re-derives signatures and chunks from
them without the text (:func:`rekey`), which is what rotation is. Signatures of two keys cannot be
compared, so rotation is a maintenance job, not a rolling change: stop registering, run
:func:`rekey_registrations` with the old and the new key, :meth:`FingerprintKey.install` the new
one, restart (the in-memory index is rebuilt; a Redis index must be cleared, its layout names the
key id and refuses the new one until then).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from functools import cached_property
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from registry.errors import ConfigurationError
from registry.fingerprint import Fingerprint, Fingerprinter, IncompatibleFingerprint
from registry.keystore import read_or_create_secret, write_atomic
from registry.models import Registration

KEY_BYTES = 32
KEY_FILE = Path("keys") / "fingerprint.key"  # under the data dir
_SEALED_MAGIC = b"LGFS"
_SEALED_HEADER = struct.Struct("<4sB8s12s")  # magic, version, key id, nonce; then ciphertext || tag
_PRF_TAG = b"LGSHNG01"


class FingerprintKey:
    """The secret behind every stored fingerprint of one deployment (see the module docstring)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise ConfigurationError(
                f"The fingerprint key must be {KEY_BYTES} bytes.",
                details={"reason": "fingerprint_key", "length": len(secret)},
            )
        self._secret = secret
        self.key_id = hashlib.sha256(b"legato-fingerprint-key-id\x00" + secret).hexdigest()[:16]
        self._prf_key = hmac.digest(secret, b"legato-fingerprint-prf/v1", "sha256")
        self._seal = AESGCM(hmac.digest(secret, b"legato-fingerprint-seal/v1", "sha256"))

    def __repr__(self) -> str:  # never the secret
        return f"FingerprintKey({self.key_id})"

    @classmethod
    def generate(cls) -> FingerprintKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def load_or_create(cls, data_dir: Path) -> FingerprintKey:
        """The key file under ``data_dir``, written once (0600, atomically) by whichever process
        comes first; every later process reads the same key."""
        return cls(read_or_create_secret(data_dir / KEY_FILE, lambda: secrets.token_bytes(KEY_BYTES)))

    def install(self, data_dir: Path) -> None:
        """Make this the key of ``data_dir`` (the last step of a rotation), replacing the file at once."""
        path = data_dir / KEY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, self._secret)

    # --- keyed shingle hashes -----------------------------------------------------------------
    def prf(self, sequence: np.ndarray) -> np.ndarray:
        n = len(sequence)
        if n == 0:
            return np.zeros(0, np.uint64)
        blocks = np.empty((n, 2), "<u8")
        blocks[:, 0] = sequence
        blocks[:, 1] = np.frombuffer(_PRF_TAG, "<u8")[0]
        # Each 16-byte block is its own PRF input (see the module docstring): nothing here is a message.
        enc = Cipher(algorithms.AES(self._prf_key), modes.ECB()).encryptor()  # noqa: S305
        out = enc.update(blocks.tobytes()) + enc.finalize()
        return np.frombuffer(out, "<u8").reshape(n, 2)[:, 0].astype(np.uint64)

    @cached_property
    def fingerprinter(self) -> Fingerprinter:
        return Fingerprinter(key=self)

    # --- sealing --------------------------------------------------------------------------------
    @staticmethod
    def _aad(registration_id: str) -> bytes:
        return f"legato/fingerprint/v1/{registration_id}".encode()

    def seal(self, fp: Fingerprint, registration_id: str) -> bytes:
        if fp.key_id != self.key_id:
            raise IncompatibleFingerprint("This fingerprint was made with another key.",
                                          details={"reason": "key", "fingerprint": fp.key_id})
        nonce = secrets.token_bytes(12)
        header = _SEALED_HEADER.pack(_SEALED_MAGIC, 1, bytes.fromhex(self.key_id), nonce)
        return header + self._seal.encrypt(nonce, fp.to_bytes(), self._aad(registration_id))

    def open(self, blob: bytes, registration_id: str) -> Fingerprint:
        """The fingerprint sealed for ``registration_id``; :class:`IncompatibleFingerprint` when the
        bytes are not a sealed fingerprint, were sealed under another key, or fail authentication."""
        blob = bytes(blob or b"")  # a NULL column or a driver's memoryview alike
        if len(blob) < _SEALED_HEADER.size + 16 or blob[:4] != _SEALED_MAGIC or blob[4] != 1:
            raise IncompatibleFingerprint("The stored fingerprint is not sealed.",
                                          details={"reason": "sealed"})
        _, _, tag, nonce = _SEALED_HEADER.unpack_from(blob)
        if tag.hex() != self.key_id:
            raise IncompatibleFingerprint(
                "The stored fingerprint was sealed with another fingerprint key.",
                details={"reason": "key", "stored": tag.hex(), "current": self.key_id},
            )
        try:
            plain = self._seal.decrypt(nonce, blob[_SEALED_HEADER.size :], self._aad(registration_id))
        except InvalidTag:
            raise IncompatibleFingerprint(
                "The stored fingerprint failed authentication (altered, or moved from another row).",
                details={"reason": "authentication", "registration_id": registration_id},
            ) from None
        fp = Fingerprint.from_bytes(plain)
        if fp.key_id != self.key_id:
            raise IncompatibleFingerprint("The sealed fingerprint names another key.",
                                          details={"reason": "key"})
        return fp


def sealed_key_id(blob: bytes) -> str | None:
    """The key id a sealed fingerprint names (no secret needed), or None for other bytes."""
    if len(blob) < _SEALED_HEADER.size or blob[:4] != _SEALED_MAGIC:
        return None
    return _SEALED_HEADER.unpack_from(blob)[2].hex()


def rekey(blob: bytes, registration_id: str, *, old: FingerprintKey | None,
          new: FingerprintKey) -> tuple[bytes, bytes]:
    """(sealed fingerprint, signatures) of one row under ``new``, from its stored fingerprint: sealed
    under ``old``, or, with ``old=None``, the unsealed format-1 bytes stored before sealing."""
    fp = Fingerprint.from_bytes(blob) if old is None else old.open(blob, registration_id)
    if old is None and fp.key_id:
        raise IncompatibleFingerprint("An unsealed fingerprint must be unkeyed.", details={"reason": "key"})
    fresh = new.fingerprinter.rekey(fp)
    return new.seal(fresh, registration_id), fresh.signatures.to_bytes()


def rekey_registrations(session: Session, *, old: FingerprintKey | None, new: FingerprintKey,
                        batch: int = 200) -> int:
    """Move every stored fingerprint to ``new`` (``old=None``: from unsealed format 1); returns how
    many rows changed. Rows already under ``new`` are skipped, so a job stopped half-way is run
    again. Each batch is flushed; the caller commits (one transaction, or one per call)."""
    ids = session.scalars(select(Registration.id).order_by(Registration.id)).all()
    changed = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = session.execute(
            select(Registration.id, Registration.fingerprint).where(Registration.id.in_(chunk))
        ).all()
        for reg_id, blob in rows:
            if not blob or sealed_key_id(blob) == new.key_id:
                continue
            sealed, signatures = rekey(bytes(blob), reg_id, old=old, new=new)
            session.execute(
                update(Registration).where(Registration.id == reg_id)
                .values(fingerprint=sealed, fingerprint_signatures=signatures)
            )
            changed += 1
        session.flush()
    return changed
