"""CIDv1 text and bytes, byte for byte: varints, base32, multihash, parsing and its refusals.

Known answers come from the multiformats specs, RFC 4648 and CIDs published by Kubo itself
(``ipfs/kubo`` test/sharness/t0114-gateway-subdomains: ``echo hello | ipfs add --cid-version 1``).
"""

from __future__ import annotations

import hashlib

import pytest

from registry.errors import InvalidContent
from registry.ipfs.cid import (
    DAG_PB,
    RAW,
    SHA2_256,
    Cid,
    InvalidCid,
    base32_decode,
    base32_encode,
    decode_varint,
    encode_varint,
    normalize_cid,
    parse_cid,
    raw_cid,
    sha256_multihash,
)

EMPTY_RAW_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
# `echo hello | ipfs add --cid-version 1`, as published in Kubo's sharness fixtures
HELLO_NL_KUBO_CID = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
HELLO_WORLD_CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"  # b"hello world", IPFS docs


# multiformats/unsigned-varint README examples
@pytest.mark.parametrize(
    ("value", "encoded"),
    [(1, "01"), (127, "7f"), (128, "8001"), (255, "ff01"), (300, "ac02"), (16384, "808001"), (0x70, "70"),
     (0x55, "55"), (2**63 - 1, "ffffffffffffffff7f")],
)
def test_varint_encodes_spec_examples_and_decodes_back(value, encoded):
    assert encode_varint(value).hex() == encoded
    assert decode_varint(bytes.fromhex(encoded)) == (value, len(encoded) // 2)


@pytest.mark.parametrize("bad", ["80", "8000", "ff" * 9 + "01"])
def test_varint_refuses_truncated_nonminimal_and_overlong(bad):
    with pytest.raises(InvalidCid):
        decode_varint(bytes.fromhex(bad))


def test_varint_refuses_out_of_range_values():
    with pytest.raises(ValueError):
        encode_varint(-1)
    with pytest.raises(ValueError):
        encode_varint(2**63)


# RFC 4648 §10 test vectors, lowercased and unpadded as multibase 'b' writes them
@pytest.mark.parametrize(
    ("raw", "text"),
    [(b"f", "my"), (b"fo", "mzxq"), (b"foo", "mzxw6"), (b"foob", "mzxw6yq"), (b"fooba", "mzxw6ytb"),
     (b"foobar", "mzxw6ytboi")],
)
def test_base32_matches_rfc4648_vectors(raw, text):
    assert base32_encode(raw) == text
    assert base32_decode(text) == raw


@pytest.mark.parametrize("bad", ["MZXQ", "mzx1", "m", "mzxq=", "mz"])
def test_base32_refuses_uppercase_bad_alphabet_impossible_length_padding_and_nonzero_tail_bits(bad):
    with pytest.raises(InvalidCid):
        base32_decode(bad)


def test_sha256_multihash_layout_is_code_length_digest():
    assert sha256_multihash(b"") == bytes.fromhex("1220") + hashlib.sha256(b"").digest()


def test_raw_cid_of_empty_bytes_is_the_published_empty_cid():
    assert raw_cid(b"") == EMPTY_RAW_CID


def test_raw_cid_matches_kubo_published_cid_for_hello_newline():
    assert raw_cid(b"hello\n") == HELLO_NL_KUBO_CID


def test_raw_cid_matches_documented_cid_for_hello_world():
    assert raw_cid(b"hello world") == HELLO_WORLD_CID


def test_cid_binary_layout_is_version_codec_multihash():
    cid = Cid.for_block(RAW, b"")
    assert cid.to_bytes() == bytes.fromhex("01551220") + hashlib.sha256(b"").digest()
    assert str(cid) == EMPTY_RAW_CID
    assert Cid.for_block(DAG_PB, b"").to_bytes()[:4].hex() == "01701220"


def test_parse_cid_round_trips_and_exposes_fields():
    cid = parse_cid(EMPTY_RAW_CID)
    assert (cid.codec, cid.hash_code, cid.digest) == (RAW, SHA2_256, hashlib.sha256(b"").digest())
    assert str(cid) == EMPTY_RAW_CID
    assert normalize_cid(EMPTY_RAW_CID) == EMPTY_RAW_CID


def test_cid_matches_checks_the_block_hash():
    cid = parse_cid(HELLO_NL_KUBO_CID)
    assert cid.matches(b"hello\n")
    assert not cid.matches(b"hello")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", "CIDv0"),
        ("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", "base32"),
        (EMPTY_RAW_CID.upper(), "base32"),
        (EMPTY_RAW_CID[:-4], "malformed"),
        (EMPTY_RAW_CID + "aa", "malformed"),
        ("b" + base32_encode(bytes.fromhex("0255") + sha256_multihash(b"")), "version 2"),
        ("b" + base32_encode(bytes.fromhex("01551210") + bytes(16)), "32 bytes"),
        ("b" + "a" * 600, "too long"),
        ("../../etc/passwd", "base32"),
    ],
)
def test_parse_cid_refuses_with_a_message_naming_the_problem(text, fragment):
    with pytest.raises(InvalidCid) as info:
        parse_cid(text)
    assert fragment in info.value.message


def test_invalid_cid_is_an_invalid_content_error_so_http_answers_400():
    assert issubclass(InvalidCid, InvalidContent)
    assert InvalidCid.code == "INVALID_CONTENT_FORMAT"
