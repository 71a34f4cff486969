"""Content identifiers: unsigned varints, multihash, CIDv1 and its base32 text form.

Written by hand rather than taken from a multiformats library: the subset Legato needs (CIDv1, the
``raw`` and ``dag-pb`` codecs, sha2-256, lowercase base32 multibase) is small, and owning it keeps
every byte the tests pin down visible in one place. Specs: multiformats/unsigned-varint,
multiformats/multihash, multiformats/cid, RFC 4648 §6 (base32, no padding, lowercase, prefix ``b``).

CIDv0 (``Qm…``, base58btc) is deliberately not accepted: every CID Legato issues is the CIDv1 that
``ipfs add --cid-version=1`` prints, and ``ipfs cid base32 Qm…`` converts any CIDv0 to that form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from registry.errors import InvalidContent

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
CID_V1 = 1

# A CID string this long is already absurd; the cap keeps hostile input from costing anything.
MAX_CID_TEXT = 512
_MAX_VARINT_BYTES = 9  # the unsigned-varint spec caps varints at 63 bits / 9 bytes
_BASE32_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")


class InvalidCid(InvalidContent):
    """The text is not a CIDv1 in base32 (or its bytes are malformed).

    It keeps ``InvalidContent``'s code so the HTTP layer answers 400 without a mapping of its own.
    """


# --- unsigned varint ------------------------------------------------------------------------------
def encode_varint(value: int) -> bytes:
    if value < 0 or value >= 1 << 63:
        raise ValueError(f"varint out of range: {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(buf: bytes, pos: int = 0) -> tuple[int, int]:
    """Return ``(value, next_pos)``; refuses truncated, over-long and non-minimal encodings."""
    value = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(buf):
            raise InvalidCid("truncated varint")
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise InvalidCid("non-minimal varint")
            return value, pos + i + 1
    raise InvalidCid("varint longer than 9 bytes")


# --- base32 multibase -----------------------------------------------------------------------------
def base32_encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def base32_decode(text: str) -> bytes:
    if not text or not set(text) <= _BASE32_ALPHABET:
        raise InvalidCid("not lowercase base32")
    if len(text) % 8 in (1, 3, 6):
        raise InvalidCid("impossible base32 length")
    try:
        data = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except binascii.Error as e:
        raise InvalidCid("not base32") from e
    if base32_encode(data) != text:  # unused trailing bits must be zero: one text per byte string
        raise InvalidCid("non-canonical base32")
    return data


# --- multihash and CID ----------------------------------------------------------------------------
def sha256_multihash(data: bytes) -> bytes:
    return encode_varint(SHA2_256) + encode_varint(32) + hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class Cid:
    """A parsed CIDv1: ``<varint version=1><varint codec><multihash>``."""

    codec: int
    hash_code: int
    digest: bytes

    @property
    def multihash(self) -> bytes:
        return encode_varint(self.hash_code) + encode_varint(len(self.digest)) + self.digest

    def to_bytes(self) -> bytes:
        return encode_varint(CID_V1) + encode_varint(self.codec) + self.multihash

    def __str__(self) -> str:
        return "b" + base32_encode(self.to_bytes())

    @classmethod
    def for_block(cls, codec: int, block: bytes) -> Cid:
        return cls(codec, SHA2_256, hashlib.sha256(block).digest())

    @classmethod
    def from_bytes(cls, buf: bytes) -> Cid:
        cid, end = cls.read(buf, 0)
        if end != len(buf):
            raise InvalidCid("trailing bytes after the CID")
        return cid

    @classmethod
    def read(cls, buf: bytes, pos: int) -> tuple[Cid, int]:
        """Read one binary CIDv1 starting at ``pos``; return it and the position after it."""
        if buf[pos : pos + 2] == b"\x12\x20":
            raise InvalidCid("CIDv0 is not supported; convert it with `ipfs cid base32`")
        version, pos = decode_varint(buf, pos)
        if version != CID_V1:
            raise InvalidCid(f"unsupported CID version {version}")
        codec, pos = decode_varint(buf, pos)
        hash_code, pos = decode_varint(buf, pos)
        length, pos = decode_varint(buf, pos)
        digest = buf[pos : pos + length]
        if len(digest) != length:
            raise InvalidCid("truncated multihash")
        if hash_code == SHA2_256 and length != 32:
            raise InvalidCid("a sha2-256 digest is 32 bytes")
        return cls(codec, hash_code, bytes(digest)), pos + length

    def matches(self, block: bytes) -> bool:
        """True when ``block`` hashes to this CID's digest (only sha2-256 can be checked)."""
        return self.hash_code == SHA2_256 and hashlib.sha256(block).digest() == self.digest


def parse_cid(text: str) -> Cid:
    """Parse the text form Legato issues: multibase ``b`` (base32 lowercase) CIDv1.

    Raises :class:`InvalidCid` with a message a user can act on; never any other exception type.
    """
    if not isinstance(text, str) or not text:
        raise InvalidCid("empty CID")
    if len(text) > MAX_CID_TEXT:
        raise InvalidCid("CID text too long")
    if text.startswith("Qm") and len(text) == 46:
        raise InvalidCid("CIDv0 is not supported; convert it with `ipfs cid base32`", details={"cid": text})
    if text[0] != "b":
        raise InvalidCid("a CID must be CIDv1 in base32 (multibase prefix 'b')", details={"cid": text})
    try:
        return Cid.from_bytes(base32_decode(text[1:]))
    except InvalidCid as e:
        raise InvalidCid(f"malformed CID: {e.message}", details={"cid": text}) from e


def normalize_cid(text: str) -> str:
    """The canonical text of a CID (validates it): callers use it as a storage key."""
    return str(parse_cid(text))


def raw_cid(data: bytes) -> str:
    """CIDv1 of ``data`` as one raw block: what ``ipfs add --cid-version=1`` gives up to 256 KiB."""
    return str(Cid.for_block(RAW, data))
