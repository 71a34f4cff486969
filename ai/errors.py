"""One error root for ``ai``.

Every failure the AI service reports is an :class:`AiError` with a stable ``code`` (the string the HTTP
envelope carries; ``api/http/errors.py`` maps each code to a status once) and JSON-safe ``details``. No
HTTP statuses here: ``ai`` sits below the gateway and must not know about it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AiError(Exception):
    code: ClassVar[str] = "AI_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class AiNotFound(AiError):
    """No such voice, job or media file (or not one the caller may know about)."""

    code = "AI_NOT_FOUND"


class AiForbidden(AiError):
    """The caller may see the object but not do this with it (only the writer starts narration)."""

    code = "AI_FORBIDDEN"


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


def all_error_classes() -> list[type[AiError]]:
    """Every error class of the package, for the test that each code has an HTTP status."""
    out: list[type[AiError]] = []
    todo: list[type[AiError]] = [AiError]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out
