"""The ``SpeechSynthesizer`` port: text in, 16-bit mono PCM and word timings out.

One call speaks one sentence (the chapter job splits the text, ``ai.speech.sentences``), so every engine
only has to be right about a short piece and the job knows each sentence's start and end exactly from
the sample counts it joins. Adapters: ``espeak.py`` (embedded, libespeak-ng through ctypes),
``google.py`` (Cloud Text-to-Speech, SSML marks), ``polly.py`` (Amazon Polly, speech marks). The wiring
picks one from ``LEGATO_SPEECH_ENGINE``; all of them pass one contract suite
(``hardhat-free-tests/ai/speech/test_speech_contract.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

MIN_RATE, MAX_RATE = 0.5, 2.0


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers. ``id`` is unique within the engine and is what a narrator stores."""

    id: str
    name: str
    language: str  # BCP-47 style, lower-case language first: "sw", "en-us", "pt-br"
    gender: str | None  # "female" / "male" when the engine says, else None
    engine: str


@dataclass(frozen=True)
class WordMark:
    """A word of the input: its character offset and length in the text given, and when it starts."""

    start: int
    length: int
    ms: int


@dataclass
class Clip:
    """What one ``synthesize`` call produced: signed 16-bit little-endian mono samples."""

    pcm: bytes
    sample_rate: int
    words: list[WordMark] = field(default_factory=list)

    @property
    def duration_ms(self) -> int:
        return len(self.pcm) // 2 * 1000 // self.sample_rate


class SpeechSynthesizer(Protocol):
    """Speaks short texts. Raises ``SpeechUnavailable`` when the engine cannot be reached (the job
    retries), ``VoiceUnknown`` for a voice it does not offer, ``SpeechFailed`` for input it refuses."""

    name: str  # "espeak-ng", "google", "polly": logged at start and shown by /health

    def voices(self) -> list[Voice]: ...

    def synthesize(self, text: str, *, voice: str, rate: float) -> Clip:
        """``rate`` is relative to the voice's normal speed (1.0), between MIN_RATE and MAX_RATE."""
        ...

    def health(self) -> dict[str, Any]: ...


def language_matches(voice_language: str, wanted: str) -> bool:
    """``sw`` matches ``sw`` and ``sw-ke``; ``en-us`` matches only ``en-us``."""
    v, w = voice_language.lower(), wanted.lower().replace("_", "-")
    return v == w or v.startswith(w + "-")
