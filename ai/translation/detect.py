"""Which language a chapter is written in, by py3langid (142 languages, Hausa, Yoruba, Swahili and
Amharic among them), and whether it agrees with what the story declares.

The story's declared language wins: detection never overrides it, it only tells the writer when the
text looks like something else (a chapter pasted in the wrong story, a story declared ``en`` written
in Swahili), because a machine translation from the wrong source language is garbage. Detection reads
a bounded sample (the first 20,000 characters): more text changes nothing but the time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ai.translation.languages import try_normalize

SAMPLE_CHARS = 20_000
MIN_CONFIDENCE = 0.5  # below it the text is too short or mixed to say

_lock = threading.Lock()
_identifier: Any = None


def _model() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


@dataclass(frozen=True)
class Detection:
    declared: str | None
    detected: str | None
    confidence: float

    @property
    def language(self) -> str | None:
        """The language to translate from: the declared one, else a confident detection."""
        return self.declared or self.detected

    @property
    def mismatch(self) -> bool:
        return bool(self.declared and self.detected and self.declared != self.detected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "detected": self.detected,
            "confidence": round(self.confidence, 3),
            "language": self.language,
            "mismatch": self.mismatch,
        }


def detect_language(text: str) -> tuple[str | None, float]:
    sample = text[:SAMPLE_CHARS]
    if not sample.strip():
        return None, 0.0
    code, confidence = _model().classify(sample)
    confidence = float(confidence)
    if confidence < MIN_CONFIDENCE or code == "zxx":
        return None, confidence
    return try_normalize(code), confidence


def detect(text: str, declared: str | None) -> Detection:
    detected, confidence = detect_language(text)
    return Detection(declared=try_normalize(declared), detected=detected, confidence=confidence)
