"""One contract for every ``Translator`` adapter: the embedded Apertium, and the production adapters
(LibreTranslate, Apertium-APy, DeepL through its library, Google v3) run against loopback servers
speaking their protocols (translation_servers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from translation_servers import KEY, serve

from ai.errors import EngineUnavailable, PairUnavailable, ProviderError, ProviderUnavailable
from ai.translation.apertium import ApertiumTranslator
from ai.translation.protocol import Pair, Translator
from ai.wiring import build_translator

PARAGRAPHS = [
    "Amara walked to the market with 3 baskets of salt.",
    "The old trader counted 1250 coins and whispered a secret to Kwesi.",
    "In the evening the rain came.",
]
GLOSSARY = {"Kwesi": "Kuesi", "Amara": "Amara"}


@contextmanager
def adapter(kind: str) -> Iterator[tuple[Translator, Any]]:
    if kind == "apertium":
        engine = ApertiumTranslator()
        if Pair("en", "es") not in engine.pairs():
            pytest.skip("Debian apertium and apertium-eng-spa are not installed")
        yield engine, None
        return
    with serve(kind) as server:
        options: dict[str, Any] = {"engine": kind, "url": server.url, "timeout_seconds": 5}
        if kind in ("deepl", "google"):
            options["api_key"] = KEY
        if kind == "google":
            options["google_project"] = "legato-test"
        yield build_translator(**options), server


KINDS = ["apertium", "libretranslate", "apertium-apy", "deepl", "google"]


@pytest.mark.parametrize("kind", KINDS)
def test_one_segment_per_paragraph_with_glossary_and_numbers(kind):
    with adapter(kind) as (engine, _):
        assert isinstance(engine, Translator)
        assert Pair("en", "es") in engine.pairs()
        out = engine.translate(PARAGRAPHS, source="en", target="es", glossary=GLOSSARY)
        assert len(out) == len(PARAGRAPHS)
        assert "sal" in out[0].text and "3" in out[0].text and out[0].text.startswith("Amara")
        assert "1250" in out[1].text and "Kuesi" in out[1].text and "Kwesi" not in out[1].text
        assert "lluvia" in out[2].text
        assert not any("zzqgl" in s.text or "<" in s.text for s in out)
        assert engine.translate([], source="en", target="es") == []
        assert engine.health()["pairs"] >= 1


@pytest.mark.parametrize("kind", KINDS)
def test_markup_in_the_story_is_text(kind):
    with adapter(kind) as (engine, _):
        out = engine.translate(["The trader & the <b>salt</b>."], source="en", target="es")
        assert "&" in out[0].text and "<b>" in out[0].text and "&amp;" not in out[0].text


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_pair_names_the_available_ones(kind):
    with adapter(kind) as (engine, _), pytest.raises(PairUnavailable) as e:
        engine.translate(["Hello."], source="en", target="zu")
    assert {"source": "en", "target": "es"} in e.value.details["available"]


@pytest.mark.parametrize("kind", KINDS[1:])
def test_down_is_retryable_and_refusal_is_not(kind):
    with adapter(kind) as (engine, server):
        engine.pairs()  # cached from here on
        server.fail = 503
        with pytest.raises(ProviderUnavailable):
            engine.translate(PARAGRAPHS, source="en", target="es")
        server.fail = 403
        with pytest.raises(ProviderError):
            engine.translate(PARAGRAPHS, source="en", target="es")
    with pytest.raises(ProviderUnavailable):  # the server is gone: connection refused
        engine.translate(PARAGRAPHS, source="en", target="es")


def test_apertium_without_its_binary_says_so(tmp_path):
    engine = ApertiumTranslator(binary="no-such-apertium-binary")
    assert engine.pairs() == [] and engine.health()["installed"] is False
    with pytest.raises(EngineUnavailable):
        engine.translate(["Hello."], source="en", target="es")


def test_wrong_credentials_are_a_refusal():
    with serve("deepl") as server:
        engine = build_translator(engine="deepl", url=server.url, api_key="wrong")
        with pytest.raises(ProviderError):
            engine.pairs()
