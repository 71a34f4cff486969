"""Chapter text at rest: AES-256-GCM with a keyring, and key rotation.

Every ciphertext is stored as ``nonce (12 bytes) || ciphertext || tag`` beside the id of the key that
sealed it, so keys can change without a flag day. The associated data binds a ciphertext to its row
(chapter id and revision, or chapter id and version): a ciphertext copied into another row, or an older
one put back, fails authentication instead of showing the wrong text.

Keys come from one of two places:

* ``LEGATO_CONTENT_KEY``: one or more base64 keys of 32 bytes, comma-separated. The first seals new
  text; the others only open old text. Rotating is: put a new key first, keep the old one after it,
  run ``legato keys reencrypt``, then drop the old key.
* otherwise a keyring file in the data dir (mode 0600) that ``legato keys rotate`` extends. Old keys
  stay in it, so no row becomes unreadable while rotation runs or if it stops half-way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from content.errors import ContentError
from registry.keystore import locked, read_or_create_secret, write_atomic

NONCE_BYTES = 12
KEY_BYTES = 32


class KeyringError(ContentError):
    """The key configuration cannot be used (bad base64, wrong length, unknown key id): a server fault."""

    code = "CONTENT_KEYRING_INVALID"


class CiphertextInvalid(ContentError):
    """A stored ciphertext failed authentication: tampered, swapped between rows, or wrong key. A server
    fault, never the client's: the row is damaged or the keyring lost a key."""

    code = "CIPHERTEXT_INVALID"


def key_id_for(key: bytes) -> str:
    """A stable, non-secret name for a key: a domain-separated hash, so the same key configured twice
    (file, then environment) keeps its id and its rows stay readable."""
    return "k" + hashlib.sha256(b"legato-content-key-id\x00" + key).hexdigest()[:16]


def _decode_key(value: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except ValueError as e:
        raise KeyringError("a content key is not valid base64") from e
    if len(key) != KEY_BYTES:
        raise KeyringError(f"a content key must be {KEY_BYTES} bytes (base64 of 32 random bytes)")
    return key


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class Keyring:
    """Key id → key, plus which key seals new text.

    A file-backed keyring re-reads its file when it changes, so a server keeps working while
    ``legato keys rotate`` runs in another process: rows sealed with the new key open, and new text is
    sealed with the new key as soon as the file names it current.
    """

    def __init__(self, keys: dict[str, bytes], current: str, *, path: Path | None = None) -> None:
        if current not in keys:
            raise KeyringError("the current key is not in the keyring")
        self._keys = dict(keys)
        self._current = current
        self.path = path
        self._mtime = path.stat().st_mtime_ns if path is not None else None

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def from_setting(cls, value: str) -> Keyring:
        keys = [_decode_key(part) for part in value.split(",") if part.strip()]
        if not keys:
            raise KeyringError("LEGATO_CONTENT_KEY is empty")
        return cls({key_id_for(k): k for k in keys}, key_id_for(keys[0]))

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        def create() -> bytes:
            key = new_key()
            return _serialize({key_id_for(key): key}, key_id_for(key))

        keys, current = _parse(read_or_create_secret(path, create))
        return cls(keys, current, path=path)

    # --- use --------------------------------------------------------------------------------------
    @property
    def current_id(self) -> str:
        self._refresh()
        return self._current

    @property
    def key_ids(self) -> list[str]:
        self._refresh()
        return list(self._keys)

    def key(self, key_id: str) -> bytes:
        if key_id not in self._keys:
            self._refresh(force=True)
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyringError(f"no content key {key_id!r} in the keyring") from None

    def _refresh(self, *, force: bool = False) -> None:
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if force or mtime != self._mtime:
            self._keys, self._current = _parse(self.path.read_bytes())
            self._mtime = mtime

    # --- rotation ---------------------------------------------------------------------------------
    def rotate(self) -> str:
        """Add a new key, make it current and persist the keyring; return the new key id."""
        if self.path is None:
            raise KeyringError(
                "the content key comes from LEGATO_CONTENT_KEY: put a new key first in it (keep the old one "
                "after a comma) and run `legato keys reencrypt`"
            )
        with locked(self.path):
            self._refresh(force=True)
            key = new_key()
            kid = key_id_for(key)
            keys = {**self._keys, kid: key}
            write_atomic(self.path, _serialize(keys, kid))
            self._keys, self._current = keys, kid
            self._mtime = self.path.stat().st_mtime_ns
        return kid


def _serialize(keys: dict[str, bytes], current: str) -> bytes:
    doc = {"format": "legato-content-keyring/v1", "current": current,
           "keys": {kid: base64.b64encode(k).decode() for kid, k in keys.items()}}
    return json.dumps(doc, indent=2).encode()


def _parse(data: bytes) -> tuple[dict[str, bytes], str]:
    try:
        doc = json.loads(data)
        keys = {kid: _decode_key(v) for kid, v in doc["keys"].items()}
        current = doc["current"]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise KeyringError("the content keyring file is damaged") from e
    if current not in keys:
        raise KeyringError("the content keyring file names a current key it does not hold")
    return keys, current


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes


class ContentCipher:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def seal(self, text: str, aad: bytes) -> Sealed:
        kid = self.keyring.current_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        blob = nonce + AESGCM(self.keyring.key(kid)).encrypt(nonce, text.encode("utf-8"), aad)
        return Sealed(kid, blob)

    def open(self, sealed: Sealed, aad: bytes) -> str:
        if len(sealed.blob) < NONCE_BYTES + 16:
            raise CiphertextInvalid("stored ciphertext is truncated")
        nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        try:
            plain = AESGCM(self.keyring.key(sealed.key_id)).decrypt(nonce, body, aad)
        except InvalidTag as e:
            raise CiphertextInvalid("stored ciphertext failed authentication") from e
        return plain.decode("utf-8")

    def reseal(self, sealed: Sealed, aad: bytes) -> Sealed:
        """The same text under the current key (same associated data), or ``sealed`` when it already is."""
        if sealed.key_id == self.keyring.current_id:
            return sealed
        return self.seal(self.open(sealed, aad), aad)


def chapter_aad(chapter_id: str, revision: int) -> bytes:
    return f"legato/chapter/{chapter_id}/revision/{revision}".encode()


def version_aad(chapter_id: str, version: int) -> bytes:
    return f"legato/chapter-version/{chapter_id}/{version}".encode()
