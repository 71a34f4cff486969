"""Language codes: the API speaks ISO 639-1 (``es``), engines speak their own (Apertium: ``spa`` or
``es``; DeepL: ``EN-GB``; Google: ``pt-BR``).

:func:`normalize` turns what a client or engine sends into the one code Legato stores, so ``es``,
``ES``, ``es-ES``, ``spa`` and ``es_ES`` all name Spanish.
"""

from __future__ import annotations

import re

from ai.errors import InvalidRequest

# ISO 639-3 (and 639-2/B) → 639-1, for the languages the engines and py3langid name in three letters.
_THREE_TO_TWO = {
    "afr": "af",
    "amh": "am",
    "ara": "ar",
    "arg": "an",
    "ast": "ast",
    "bel": "be",
    "ben": "bn",
    "bre": "br",
    "bul": "bg",
    "cat": "ca",
    "ces": "cs",
    "cym": "cy",
    "dan": "da",
    "deu": "de",
    "ell": "el",
    "eng": "en",
    "epo": "eo",
    "est": "et",
    "eus": "eu",
    "fas": "fa",
    "fin": "fi",
    "fra": "fr",
    "fre": "fr",
    "gle": "ga",
    "glg": "gl",
    "hau": "ha",
    "heb": "he",
    "hin": "hi",
    "hrv": "hr",
    "hun": "hu",
    "ibo": "ig",
    "ind": "id",
    "isl": "is",
    "ita": "it",
    "jpn": "ja",
    "kaz": "kk",
    "kor": "ko",
    "lit": "lt",
    "lav": "lv",
    "mkd": "mk",
    "mlt": "mt",
    "msa": "ms",
    "nld": "nl",
    "nno": "nn",
    "nob": "nb",
    "oci": "oc",
    "pol": "pl",
    "por": "pt",
    "ron": "ro",
    "rus": "ru",
    "slk": "sk",
    "slv": "sl",
    "som": "so",
    "spa": "es",
    "sqi": "sq",
    "srp": "sr",
    "swa": "sw",
    "swe": "sv",
    "tat": "tt",
    "tur": "tr",
    "ukr": "uk",
    "urd": "ur",
    "vie": "vi",
    "wol": "wo",
    "xho": "xh",
    "yor": "yo",
    "zho": "zh",
    "zul": "zu",
}

NAMES = {
    "af": "Afrikaans",
    "am": "Amharic",
    "ar": "Arabic",
    "ca": "Catalan",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "gl": "Galician",
    "ha": "Hausa",
    "it": "Italian",
    "ja": "Japanese",
    "nl": "Dutch",
    "oc": "Occitan",
    "pt": "Portuguese",
    "sw": "Swahili",
    "yo": "Yoruba",
    "zh": "Chinese",
}

_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def normalize(tag: str) -> str:
    """The base language of a BCP 47-ish tag as Legato stores it; ``INVALID_REQUEST`` when it is not
    one (bounded: at most 35 characters)."""
    tag = (tag or "").strip()
    if len(tag) > 35 or not _TAG.match(tag):
        raise InvalidRequest("Not a language code.", details={"language": tag[:35]})
    base = re.split(r"[-_]", tag)[0].lower()
    return _THREE_TO_TWO.get(base, base)


def try_normalize(tag: str | None) -> str | None:
    if not tag:
        return None
    try:
        return normalize(tag)
    except InvalidRequest:
        return None


def name_of(code: str) -> str:
    return NAMES.get(code, code)
