"""Request and response bodies for stories, chapters, versions and manuscript import."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from accounts.models import User
from api.http.schemas.accounts import LANGUAGE_MAX_CHARS, LANGUAGE_PATTERN
from content.models.stories import Chapter, ChapterVersion, Story
from content.stories import StoryStats
from content.texts import WORDS_PER_MINUTE, reading_minutes

StoryStatusName = Literal["draft", "ongoing", "completed", "hiatus"]
ContentRatingName = Literal["everyone", "teen", "mature"]
MAX_CHAPTER_CHARS = 500_000
MAX_PRICE_COINS = 100_000
Tag = Field(min_length=1, max_length=40)


class _StoryFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, max_length=10_000)
    genre: str | None = Field(None, min_length=1, max_length=50)
    tags: list[str] | None = Field(None, max_length=20)
    language: str | None = Field(None, max_length=LANGUAGE_MAX_CHARS, pattern=LANGUAGE_PATTERN)
    cover_image_url: AnyHttpUrl | None = None
    content_rating: ContentRatingName | None = None
    status: StoryStatusName | None = None
    in_subscription: bool | None = Field(
        None, description="Whether subscribers read the story's paid chapters (default true)."
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is not None and any(not (1 <= len(t.strip()) <= 40) for t in tags):
            raise ValueError("each tag is 1 to 40 characters")
        return tags

    def values(self) -> dict[str, Any]:
        out = self.model_dump(exclude_unset=True)
        if out.get("cover_image_url") is not None:
            out["cover_image_url"] = str(out["cover_image_url"])
        if "description" in out and out["description"] is None:
            out["description"] = ""
        if out.get("in_subscription", True) is None:
            del out["in_subscription"]
        return out


class StoryIn(_StoryFields):
    title: str = Field(min_length=1, max_length=300)


class StoryUpdate(_StoryFields):
    # May be left out, never null: a story always has a title.
    title: str = Field(None, min_length=1, max_length=300)  # type: ignore[assignment]


class UserRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str | None


class RatingSummary(BaseModel):
    average: float | None
    count: int


class StoryOut(BaseModel):
    id: str
    author: UserRef | None
    title: str
    description: str
    genre: str | None
    tags: list[str]
    language: str | None
    cover_image_url: str | None
    content_rating: str
    status: str
    in_subscription: bool
    chapter_count: int
    rating: RatingSummary
    my_rating: int | None = None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @classmethod
    def build(
        cls, story: Story, stats: StoryStats, author: User | None, my_rating: int | None = None
    ) -> StoryOut:
        return cls(
            id=story.id, author=UserRef.model_validate(author) if author else None, title=story.title,
            description=story.description or "", genre=story.genre, tags=story.tags, language=story.language,
            cover_image_url=story.cover_image_url, content_rating=story.content_rating.value,
            status=story.status.value, in_subscription=story.in_subscription,
            chapter_count=stats.chapter_count,
            rating=RatingSummary(average=stats.rating_average, count=stats.rating_count), my_rating=my_rating,
            created_at=story.created_at, updated_at=story.updated_at, published_at=story.published_at,
        )


class StoryPage(BaseModel):
    items: list[StoryOut]
    next_cursor: str | None


class ChapterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    content: str = Field(min_length=1, max_length=MAX_CHAPTER_CHARS)
    price_coins: int = Field(0, ge=0, le=MAX_PRICE_COINS, description="0 = free.")


class ChapterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=300)
    content: str | None = Field(None, min_length=1, max_length=MAX_CHAPTER_CHARS)
    price_coins: int | None = Field(None, ge=0, le=MAX_PRICE_COINS)


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publish_at: AwareDatetime = Field(description="When to publish; timezone-aware and in the future.")


class ChapterSummary(BaseModel):
    id: str
    story_id: str
    number: int
    title: str
    status: str
    price_coins: int
    locked: bool = Field(description="True when the caller cannot read the text (unlock needed).")
    word_count: int
    reading_minutes: int = Field(
        description=f"Word count at {WORDS_PER_MINUTE} words per minute, rounded up."
    )
    published_at: datetime | None
    publish_at: datetime | None
    version: int | None
    certificate_id: str | None
    registration_id: str | None
    sha256: str | None
    publish_error: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, chapter: Chapter, *, locked: bool, editor: bool) -> dict[str, Any]:
        return dict(
            id=chapter.id, story_id=chapter.story_id, number=chapter.number, title=chapter.title,
            status=chapter.status.value, price_coins=chapter.price_coins, locked=locked,
            word_count=chapter.word_count, reading_minutes=reading_minutes(chapter.word_count),
            published_at=chapter.published_at, publish_at=chapter.publish_at if editor else None,
            version=chapter.current_version, certificate_id=chapter.certificate_id,
            registration_id=chapter.registration_id, sha256=chapter.sha256,
            publish_error=json.loads(chapter.publish_error) if editor and chapter.publish_error else None,
            created_at=chapter.created_at, updated_at=chapter.updated_at,
        )

    @classmethod
    def build(cls, chapter: Chapter, *, locked: bool, editor: bool) -> ChapterSummary:
        return cls(**cls.fields_of(chapter, locked=locked, editor=editor))


class ChapterOut(ChapterSummary):
    content: str | None = Field(description="The text; null when locked.")

    @classmethod
    def with_content(cls, chapter: Chapter, content: str | None, *, editor: bool) -> ChapterOut:
        return cls(**cls.fields_of(chapter, locked=content is None, editor=editor), content=content)


class UnlockOut(BaseModel):
    chapter_id: str
    price_coins: int = Field(description="Coins paid when the chapter was unlocked.")
    charged: bool = Field(description="False when the caller had already unlocked it (nothing charged).")
    chapter: ChapterOut


class ChapterList(BaseModel):
    items: list[ChapterSummary]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    word_count: int
    sha256: str
    registration_id: str
    certificate_id: str
    work_id: str | None
    created_at: datetime


class VersionList(BaseModel):
    items: list[VersionOut]


class VersionTextOut(VersionOut):
    content: str

    @classmethod
    def build(cls, version: ChapterVersion, content: str) -> VersionTextOut:
        return cls(**VersionOut.model_validate(version).model_dump(), content=content)


class ImportSkipped(BaseModel):
    position: int = Field(description="The chapter's place in the manuscript, from 1.")
    title: str
    existing_chapter_id: str = Field(description="The story's chapter that already has this text.")
    existing_number: int


class ImportOut(BaseModel):
    format: str
    count: int
    chapters: list[ChapterSummary]
    skipped: list[ImportSkipped] = Field(
        default_factory=list, description="Chapters left out because the story already has their text."
    )
