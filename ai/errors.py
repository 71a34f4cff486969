"""The one error root of ``ai``: stable codes, no HTTP statuses (``api/http/errors.py`` maps them).

Codes shared with other packages (``NOT_FOUND``, ``FORBIDDEN``, ``INVALID_STATE_TRANSITION``,
``INVALID_REQUEST``) mean the same thing everywhere, so a client handles them once.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AiError(Exception):
    code: ClassVar[str] = "AI_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(AiError):
    code = "NOT_FOUND"


class Forbidden(AiError):
    code = "FORBIDDEN"


class InvalidRequest(AiError):
    code = "INVALID_REQUEST"


class InvalidState(AiError):
    """The translation or job cannot make this move from where it is (publish while drafting…)."""

    code = "INVALID_STATE_TRANSITION"


class EngineUnavailable(AiError):
    """No translation engine is installed or configured (no Apertium, no provider): nothing to ask."""

    code = "TRANSLATION_ENGINE_UNAVAILABLE"


class PairUnavailable(AiError):
    """The engine has no pair for this source → target; ``details.available`` names those it has."""

    code = "LANGUAGE_PAIR_UNAVAILABLE"


class ProviderUnavailable(AiError):
    """The engine or provider is down or timed out: the job waits and tries again with backoff."""

    code = "TRANSLATION_PROVIDER_UNAVAILABLE"


class ProviderError(AiError):
    """The provider refused the request (bad key, quota, malformed answer): retrying will not help."""

    code = "TRANSLATION_PROVIDER_ERROR"


class TranslationInProgress(AiError):
    """The machine draft is still being made; the translation cannot be edited or published yet."""

    code = "TRANSLATION_IN_PROGRESS"




class VoiceUnknown(AiError):
    """The voice is not offered by the configured synthesizer."""

    code = "VOICE_UNKNOWN"


class InvalidSpeechRequest(AiError):
    """A rate out of bounds, a chapter with nothing to say, a bad byte range."""

    code = "INVALID_SPEECH_REQUEST"


class AudioNotReady(AiError):
    """The chapter has no finished audio yet (queued, running, failed or never asked for)."""

    code = "AUDIO_NOT_READY"


class AudioLocked(AiError):
    """The listener may not read the chapter, so may not hear it either (its unlock rule)."""

    code = "AUDIO_LOCKED"


class RangeNotSatisfiable(AiError):
    code = "RANGE_NOT_SATISFIABLE"


class SpeechUnavailable(AiError):
    """The synthesizer or the encoder cannot be reached or run now; the job waits and is retried."""

    code = "SPEECH_UNAVAILABLE"


class SpeechFailed(AiError):
    """The synthesizer refused this input for good (a retry would fail the same way)."""

    code = "SPEECH_FAILED"


class MediaUnavailable(AiError):
    """The media store cannot be reached now."""

    code = "MEDIA_UNAVAILABLE"


class UnknownAdapter(AiError):
    """A setting names an engine or store that does not exist: refused at start."""

    code = "AI_CONFIGURATION"

