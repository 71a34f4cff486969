"""Request and response bodies of the narration routes (``api/http/routers/speech.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ai.speech.synth.protocol import MAX_RATE, MIN_RATE


class VoiceOut(BaseModel):
    id: str
    name: str
    language: str
    gender: str | None
    engine: str


class VoiceList(BaseModel):
    engine: str
    language: str | None
    voices: list[VoiceOut]
    missing_languages: dict[str, str] = Field(
        description="Languages writers use that this engine has no voice for (code → name)."
    )
    note: str | None = None


class NarrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    voice: str = Field(min_length=1, max_length=64)
    rate: float = Field(1.0, ge=MIN_RATE, le=MAX_RATE)


class NarrationOut(BaseModel):
    story_id: str
    engine: str
    voice: str
    rate: float
    chosen: bool = Field(description="False: the default for the story's language and genre.")


class AudioOut(BaseModel):
    chapter_id: str
    status: str
    locked: bool
    voice: str | None
    engine: str | None
    rate: float | None
    duration_ms: int | None
    sentences: int | None
    loudness_lufs: float | None
    progress: float | None
    files: dict[str, dict[str, Any]] | None
    job: dict[str, Any] | None
