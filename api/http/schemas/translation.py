"""Request and response bodies of the translation routes (``ai.translation``); every input bounded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.http.schemas.content import ChapterOut

Lang = Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


class PairOut(BaseModel):
    source: str
    target: str
    source_name: str
    target_name: str


class LanguagesOut(BaseModel):
    engine: str
    pairs: list[PairOut]


class DetectionOut(BaseModel):
    declared: str | None = Field(description="The story's language (it wins).")
    detected: str | None = Field(description="py3langid's answer; null when not confident.")
    confidence: float
    language: str | None = Field(description="What the chapter is translated from.")
    mismatch: bool = Field(description="True when the text looks like another language than declared.")


class TranslationRequest(BaseModel):
    language: str = Lang


class JobOut(BaseModel):
    id: str
    translation_id: str
    kind: str
    status: str = Field(description="queued, running, done, failed or cancelled.")
    progress: int
    attempts: int
    error: dict[str, Any] | None
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


class TranslationMeta(BaseModel):
    id: str
    chapter_id: str
    story_id: str
    language: str
    source_language: str
    source_version: int
    status: str = Field(description="drafting, draft, published, failed or cancelled.")
    engine: str
    review: str = Field(description="machine (nobody reviewed), partial, or reviewed.")
    label: str
    score: float | None
    published_at: datetime | None
    certificate_id: str | None
    sha256: str | None


class RequestOut(BaseModel):
    translation: TranslationMeta
    job: JobOut | None
    created: bool


class TranslationList(BaseModel):
    items: list[TranslationMeta]


class ParagraphOut(BaseModel):
    index: int
    source: str | None
    text: str | None
    reviewed: bool
    issues: list[dict[str, Any]]


class TranslationOut(TranslationMeta):
    stale: bool = Field(description="The original has a newer version than the one translated.")
    current_version: int | None
    changed_paragraphs: list[int] = Field(description="Paragraphs of the current version that changed.")
    removed_paragraphs: list[int]
    translator_id: str | None
    reviewed_by: str | None
    report: dict[str, Any] | None
    paragraphs: list[ParagraphOut]
    job: JobOut | None
    busy: bool


class ParagraphEdit(BaseModel):
    index: int = Field(ge=0, le=100_000)
    text: str = Field(min_length=1, max_length=20_000)


class TranslationUpdate(BaseModel):
    edits: list[ParagraphEdit] = Field(default_factory=list, max_length=2_000)
    reviewed: list[int] = Field(
        default_factory=list, max_length=10_000, description="Paragraph indexes approved as they are."
    )
    review_all: bool = Field(False, description="Approve every paragraph.")


class TranslatorIn(BaseModel):
    username: str = Field(min_length=1, max_length=40)


class GlossaryTerm(BaseModel):
    term: str = Field(min_length=1, max_length=100)
    translations: dict[str, str] = Field(
        default_factory=dict, max_length=50, description="language → rendering; absent: kept as written."
    )


class GlossaryIn(BaseModel):
    terms: list[GlossaryTerm] = Field(max_length=500)


class GlossaryOut(BaseModel):
    story_id: str
    terms: list[GlossaryTerm]


class TranslatedChapterOut(ChapterOut):
    translation: TranslationMeta | None = Field(
        None, description="Set when ``?lang=`` picked a translation: its language and review label."
    )
