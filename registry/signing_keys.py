"""The platform's signing keys over time: which key signs new certificates, since when each key was valid,
when it was retired, and whether the registry contract authorizes it.

Kept in one JSON file in the data dir (``keys/signing-keys.json``, mode 0600) beside the key material, so
``legato keys rotate-signing`` in one process is seen by a running server at its next signature (the file
is re-read when it changes). The first key is the one older deployments kept in
``keys/platform-ed25519.pem``; it is adopted with that file's modification time as its start.

Rotation never invalidates what was signed: a retired key stays in the file and in the trust document,
and certificates it signed before ``retired_at`` keep verifying. On chain, every key is authorized and
retired keys are retired by :meth:`SigningKeys.sync_chain`, which the anchorer runs before each anchor and
the worker every round, so a rotation made while the chain was down is recorded once it is back.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.errors import ConfigurationError
from registry.keystore import locked, write_atomic
from registry.signing import PlatformKey, new_key_pem

if TYPE_CHECKING:
    from registry.chain.protocol import Chain

FORMAT = "legato-signing-keys/v1"
FILE_NAME = "signing-keys.json"
LEGACY_FILE = "platform-ed25519.pem"


def key_hash(public_raw: bytes) -> bytes:
    """The key's name on chain: sha256 of the raw 32-byte public key (the key id is its first 8 bytes)."""
    return hashlib.sha256(public_raw).digest()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class SigningKeyEntry:
    """One key as the trust document publishes it (and, kept private, its PEM)."""

    key_id: str
    public_key: str  # base64 of the raw 32 bytes
    valid_from: datetime | None
    retired_at: datetime | None
    pem: bytes | None = None
    # "<chain_id>:<registry>" -> {"authorized": bool, "retired": bool}: what this deployment has recorded
    on_chain: dict[str, dict[str, bool]] | None = None

    @property
    def public_raw(self) -> bytes:
        return base64.b64decode(self.public_key)

    def public_doc(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "alg": "Ed25519",
            "public_key": self.public_key,
            "key_hash": "0x" + key_hash(self.public_raw).hex(),
            "valid_from": _iso(self.valid_from),
            "retired_at": _iso(self.retired_at),
        }

    def to_file(self) -> dict[str, Any]:
        return {**self.public_doc(), "pem": (self.pem or b"").decode(), "on_chain": self.on_chain or {}}

    @classmethod
    def from_file(cls, raw: dict[str, Any]) -> SigningKeyEntry:
        return cls(
            key_id=raw["key_id"], public_key=raw["public_key"], valid_from=_parse_time(raw.get("valid_from")),
            retired_at=_parse_time(raw.get("retired_at")), pem=raw["pem"].encode() or None,
            on_chain=dict(raw.get("on_chain") or {}),
        )

    @classmethod
    def for_key(cls, key: PlatformKey, pem: bytes | None, valid_from: datetime | None) -> SigningKeyEntry:
        return cls(key.key_id, base64.b64encode(key.public_raw).decode(), valid_from, None, pem, {})


class SigningKeys:
    """The keyring. Built from the data dir (rotating) or from one PEM in settings (fixed)."""

    def __init__(self, entries: list[SigningKeyEntry], *, path: Path | None = None) -> None:
        self._entries = entries
        self.path = path
        self._mtime = path.stat().st_mtime_ns if path is not None and path.exists() else None
        self._keys: dict[str, PlatformKey] = {}

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKeys:
        key = PlatformKey.from_pem(pem)
        return cls([SigningKeyEntry.for_key(key, pem, None)])

    @classmethod
    def from_data_dir(cls, data_dir: Path, *, create: bool = True) -> SigningKeys:
        """The keyring in ``data_dir/keys``; created on first use unless ``create`` is false (read-only
        commands must not make a deployment up), adopting the pre-rotation key file when there is one."""
        keys_dir = data_dir / "keys"
        path = keys_dir / FILE_NAME
        if not path.exists():
            if not create:
                raise ConfigurationError(f"no signing keys in {keys_dir} (is this a Legato data dir?)")
            keys_dir.mkdir(parents=True, exist_ok=True)
            with locked(path):
                if not path.exists():
                    legacy = keys_dir / LEGACY_FILE
                    if legacy.exists():
                        pem = legacy.read_bytes()
                        since = datetime.fromtimestamp(legacy.stat().st_mtime, UTC)
                    else:
                        pem, since = new_key_pem(), datetime.now(UTC)
                    entry = SigningKeyEntry.for_key(PlatformKey.from_pem(pem), pem, since)
                    write_atomic(path, _serialize([entry]))
        return cls(_parse(path.read_bytes()), path=path)

    # --- use ----------------------------------------------------------------------------------------
    def entries(self) -> list[SigningKeyEntry]:
        self._refresh()
        return list(self._entries)

    def current(self) -> PlatformKey:
        """The key that signs now: the newest one not retired."""
        self._refresh()
        live = [e for e in self._entries if e.retired_at is None]
        if not live:
            raise ConfigurationError("every platform signing key is retired; run "
                                     "`legato keys rotate-signing`")
        entry = live[-1]
        if entry.key_id not in self._keys:
            if entry.pem is None:
                raise ConfigurationError(f"the private half of signing key {entry.key_id} is missing")
            self._keys[entry.key_id] = PlatformKey.from_pem(entry.pem)
        return self._keys[entry.key_id]

    @property
    def key_id(self) -> str:
        return self.current().key_id

    @property
    def public_raw(self) -> bytes:
        return self.current().public_raw

    def sign(self, message: bytes) -> bytes:
        return self.current().sign(message)

    def _refresh(self) -> None:
        if self.path is None:
            return
        mtime = self.path.stat().st_mtime_ns
        if mtime != self._mtime:
            self._entries, self._mtime = _parse(self.path.read_bytes()), mtime

    def _update(self, change: Any) -> None:
        if self.path is None:
            raise ConfigurationError(
                "the signing key comes from LEGATO_SIGNING_KEY; rotate it there, or drop the setting to use "
                "the data dir's keyring"
            )
        with locked(self.path):
            entries = change(_parse(self.path.read_bytes()))
            write_atomic(self.path, _serialize(entries))
            self._entries, self._mtime = entries, self.path.stat().st_mtime_ns

    # --- rotation -------------------------------------------------------------------------------------
    def rotate(self, *, now: datetime | None = None) -> SigningKeyEntry:
        """A new key signs from ``now``; every live key is retired at that moment."""
        pem = new_key_pem()
        made: list[SigningKeyEntry] = []

        def change(entries: list[SigningKeyEntry]) -> list[SigningKeyEntry]:
            moment = now or datetime.now(UTC)  # taken under the lock: rotations racing stay in order
            made.append(SigningKeyEntry.for_key(PlatformKey.from_pem(pem), pem, moment))
            retired = [e if e.retired_at else replace(e, retired_at=moment) for e in entries]
            return [*retired, made[-1]]

        self._update(change)
        return made[-1]

    def sync_chain(self, chain: Chain) -> list[str]:
        """Authorize every key in the registry contract and retire the retired ones; returns what was
        done. Idempotent (the adapter reads before it sends); raises ChainUnavailable when the node is
        down, leaving the rest for the next round."""
        entries = self.entries()
        where = f"{chain.chain_id()}:{chain.registry_address().lower()}"
        done: list[str] = []
        for entry in entries:
            state = dict((entry.on_chain or {}).get(where, {}))
            if state.get("authorized") and (entry.retired_at is None or state.get("retired")):
                continue
            digest = key_hash(entry.public_raw)
            if not state.get("authorized"):
                chain.authorize_signing_key(digest)
                state["authorized"] = True
                done.append(f"authorized {entry.key_id}")
            if entry.retired_at is not None and not state.get("retired"):
                chain.retire_signing_key(digest)
                state["retired"] = True
                done.append(f"retired {entry.key_id}")
            self._record(entry.key_id, where, state)
        return done

    def _record(self, key_id: str, where: str, state: dict[str, bool]) -> None:
        if self.path is None:
            self._entries = [replace(e, on_chain={**(e.on_chain or {}), where: state}) if e.key_id == key_id
                             else e for e in self._entries]
            return

        def change(entries: list[SigningKeyEntry]) -> list[SigningKeyEntry]:
            return [replace(e, on_chain={**(e.on_chain or {}), where: state}) if e.key_id == key_id else e
                    for e in entries]

        self._update(change)

    def pending_on(self, chain_id: int, registry: str) -> list[str]:
        """Key ids whose authorization or retirement is not recorded on that chain yet."""
        where = f"{chain_id}:{registry.lower()}"
        out = []
        for e in self.entries():
            state = (e.on_chain or {}).get(where, {})
            if not state.get("authorized") or (e.retired_at is not None and not state.get("retired")):
                out.append(e.key_id)
        return out


def _serialize(entries: list[SigningKeyEntry]) -> bytes:
    return json.dumps({"format": FORMAT, "keys": [e.to_file() for e in entries]}, indent=2).encode()


def _parse(data: bytes) -> list[SigningKeyEntry]:
    try:
        doc = json.loads(data)
        if doc.get("format") != FORMAT:
            raise ValueError(doc.get("format"))
        entries = [SigningKeyEntry.from_file(raw) for raw in doc["keys"]]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigurationError("the signing keys file is damaged") from e
    if not entries:
        raise ConfigurationError("the signing keys file holds no key")
    return entries

