"""legato-text-v1: every rule of the canonical text (docs/certificate.md), its refusals, byte-exact vectors.

The digests below were computed with coreutils (``printf '<canonical bytes>' | sha256sum``), not with
the code under test, so a change in either the rules or the hashing breaks them.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.canonical import CANONICALIZATION, canonicalize, content_sha256
from registry.errors import InvalidContent, RegistryError

HELLO_SHA = "4ae7c3b6ac0beff671efa8cf57386151c06e58ca53a78d83f36107316cec125f"  # "Hello, world"
CAFE_NAIVE_SHA = "b6706ed138f130095e0eb08a4fc43391c1648b49697e9b0775a4cc18ccde42bf"  # "café\nnaïve" (NFC)
TWO_LINES_SHA = "6991ce0a6fcde71f7e4c492b1746e1f04727fe3b124691803aab99fccdb4d8c6"  # "Line one\nLine two"
INDENTED_SHA = "9520d0c271ef38fe5f64c4e874f3668e1b4bbf153c2d0aa906b521e00aa59240"  # "  Indented\n\nSecond"
CJK_SHA = "4a87350d5b0b8e908f58eac7abeb7df346b48c5dc216dc592105cf90279ea808"  # "春眠不觉晓"


def test_scheme_name_is_legato_text_v1() -> None:
    assert CANONICALIZATION == "legato-text-v1"


def test_sha256_vector_of_plain_ascii() -> None:
    assert content_sha256(canonicalize(b"Hello, world")) == HELLO_SHA


def test_crlf_becomes_lf() -> None:
    assert canonicalize(b"Line one\r\nLine two\r\n") == "Line one\nLine two"
    assert content_sha256(canonicalize(b"Line one\r\nLine two\r\n")) == TWO_LINES_SHA


def test_lone_cr_becomes_lf() -> None:
    assert canonicalize("Line one\rLine two\r") == "Line one\nLine two"


def test_mixed_line_endings_give_one_digest() -> None:
    variants = [
        "Line one\nLine two", "Line one\r\nLine two", "Line one\rLine two\n\n", "Line one\n\rLine two",
    ]
    digests = {content_sha256(canonicalize(v)) for v in variants[:3]}
    assert digests == {TWO_LINES_SHA}
    # LF followed by CR is two line breaks: a blank line in the middle is content and is kept.
    assert canonicalize(variants[3]) == "Line one\n\nLine two"


def test_nfd_input_equals_nfc_output() -> None:
    nfd = unicodedata.normalize("NFD", "café\nnaïve")
    assert nfd != "café\nnaïve"
    assert canonicalize(nfd) == "café\nnaïve"
    assert canonicalize(nfd.encode("utf-8")) == unicodedata.normalize("NFC", nfd)
    assert content_sha256(canonicalize(nfd)) == CAFE_NAIVE_SHA


def test_trailing_spaces_and_tabs_are_stripped_per_line() -> None:
    assert canonicalize("Line one \t \nLine two\t\t") == "Line one\nLine two"


def test_leading_spaces_and_inner_blank_lines_are_kept() -> None:
    text = "\n\n  Indented   \n\t \nSecond\n\n"
    assert canonicalize(text) == "  Indented\n\nSecond"
    assert content_sha256(canonicalize(text)) == INDENTED_SHA


def test_other_unicode_spaces_are_content() -> None:
    # NO-BREAK SPACE and IDEOGRAPHIC SPACE are not "spaces and tabs": a writer may mean them.
    assert canonicalize("end\u00a0") == "end\u00a0"
    assert canonicalize("end\u3000\n") == "end\u3000"


def test_blank_lines_made_of_spaces_are_removed_at_both_ends() -> None:
    assert canonicalize(" \t\n   \nbody\n \t \n\t") == "body"


def test_utf8_bom_is_removed_from_bytes() -> None:
    assert canonicalize(b"\xef\xbb\xbfHello, world") == "Hello, world"
    assert content_sha256(canonicalize(b"\xef\xbb\xbfHello, world")) == HELLO_SHA


def test_leading_bom_is_removed_from_str_but_inner_feff_is_content() -> None:
    assert canonicalize("\ufeffHello, world") == "Hello, world"
    assert canonicalize("Hello,\ufeff world") == "Hello,\ufeff world"


def test_repeated_boms_and_bom_only_lines_before_the_text_are_removed() -> None:
    # Concatenated files carry one BOM each; none of them is content before the first word.
    assert canonicalize(b"\xef\xbb\xbf\xef\xbb\xbfx") == "x"
    assert canonicalize("\ufeff \n\ufeff\t\n\ufeffHello, world") == "Hello, world"


def test_canonical_text_never_starts_with_feff() -> None:
    # Found by the property test below: "\r\ufeff" used to canonicalize to "\ufeff", which then
    # canonicalized to nothing.
    with pytest.raises(InvalidContent):
        canonicalize("\r\ufeff")
    assert canonicalize("\n\ufeffabc\n\ufeff") == "abc\n\ufeff"


def test_cjk_vector() -> None:
    assert content_sha256(canonicalize("春眠不觉晓\r\n")) == CJK_SHA


def test_invalid_utf8_is_refused_with_byte_offset() -> None:
    with pytest.raises(InvalidContent) as info:
        canonicalize(b"abc\xffdef")
    err = info.value
    assert err.code == "INVALID_CONTENT_FORMAT"
    assert err.details["reason"] == "invalid_utf8"
    assert err.details["byte_offset"] == 3


def test_invalid_utf8_offset_counts_the_bom_bytes() -> None:
    with pytest.raises(InvalidContent) as info:
        canonicalize(b"\xef\xbb\xbfok \xc3(")
    assert info.value.details["byte_offset"] == 6


def test_truncated_multibyte_sequence_is_refused() -> None:
    with pytest.raises(InvalidContent) as info:
        canonicalize("café".encode()[:-1])
    assert info.value.details == {
        "reason": "invalid_utf8", "byte_offset": 3, "detail": "unexpected end of data",
    }


def test_overlong_encoding_is_refused() -> None:
    with pytest.raises(InvalidContent) as info:
        canonicalize(b"a\xc0\xafb")  # overlong "/"
    assert info.value.details["byte_offset"] == 1


def test_lone_surrogate_in_str_is_refused() -> None:
    with pytest.raises(InvalidContent) as info:
        canonicalize("ok \ud800 no")
    assert info.value.details == {"reason": "lone_surrogate", "char_offset": 3}


@pytest.mark.parametrize("data", [b"", "", " ", "\n\n", " \t\r\n\t ", b"\xef\xbb\xbf", "\ufeff  \n"])
def test_empty_or_whitespace_only_is_refused(data: bytes | str) -> None:
    with pytest.raises(InvalidContent) as info:
        canonicalize(data)
    assert info.value.details == {"reason": "empty"}


def test_limit_is_inclusive_on_canonical_length() -> None:
    assert len(canonicalize("x" * 10, max_chars=10)) == 10
    with pytest.raises(InvalidContent) as info:
        canonicalize("x" * 11, max_chars=10)
    assert info.value.details == {"reason": "too_long", "max_chars": 10, "length": 11}


def test_limit_counts_canonical_not_raw_characters() -> None:
    # 10 letters + CRLFs and trailing blanks that canonicalization removes.
    raw = "xxxxx   \r\nxxxx\r\n\r\n"
    assert canonicalize(raw, max_chars=10) == "xxxxx\nxxxx"
    with pytest.raises(InvalidContent):
        canonicalize(raw, max_chars=9)


def test_limit_counts_code_points_after_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "é" * 5)  # 10 code points before NFC, 5 after
    assert canonicalize(nfd, max_chars=5) == "é" * 5


def test_default_limit_is_500k() -> None:
    assert len(canonicalize("a" * 500_000)) == 500_000
    with pytest.raises(InvalidContent) as info:
        canonicalize("a" * 500_001)
    assert info.value.details["max_chars"] == 500_000


def test_errors_share_the_registry_root() -> None:
    with pytest.raises(RegistryError):
        canonicalize(b"\x80")


def test_non_text_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        canonicalize(42)  # type: ignore[arg-type]


_texty = st.text(
    alphabet=st.sampled_from(list("ab é\u0301\u0323\t\r\n\ufeff\u00a0漢")), min_size=0, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(_texty)
def test_canonicalization_is_idempotent_nfc_and_agrees_for_bytes_and_str(text: str) -> None:
    try:
        once = canonicalize(text)
    except InvalidContent:
        return
    assert canonicalize(once) == once
    assert canonicalize(once.encode("utf-8")) == once  # a verifier reading the saved file gets the same text
    assert canonicalize(text.encode("utf-8")) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "\r" not in once
    assert not once.endswith("\n") and not once.startswith("\n")
    assert all(line == line.rstrip(" \t") for line in once.split("\n"))
