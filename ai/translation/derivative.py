"""A published translation is registered as a derivative work of the version it translates.

Its certificate carries ``derived_from``: the original version's certificate id and SHA-256, the
language pair, the translator (the last person who reviewed it; null for an unreviewed machine draft)
and the engine. ``legato verify --original`` checks that link. The registration goes through the
registry like any text, so the translated text is also in the similarity index: another writer who
registers it as their own is refused (409 ``PLAGIARISM_SUSPECTED``) like any copy. Its author is the
story's author, whose work it derives from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from accounts.models import User
from ai.translation.models import Translation
from content.chapters import get_version
from content.models.stories import Chapter, Story
from content.publishing import registration_title
from registry.service import Author, Registry


def derived_from(session: Session, translation: Translation, chapter: Chapter) -> dict[str, Any]:
    version = get_version(session, chapter, translation.source_version)
    if version is None:
        raise RuntimeError(f"chapter {chapter.id} has no version {translation.source_version}")
    person = session.get(User, translation.reviewed_by) if translation.reviewed_by else None
    return {
        "relation": "translation",
        "certificate_id": version.certificate_id,
        "sha256": version.sha256,
        "source_language": translation.source_language,
        "language": translation.language,
        "translator": {"id": person.id, "display_name": person.public_name} if person else None,
        "engine": translation.engine,
    }


def register_translation(registry: Registry, session: Session, translation: Translation, text: str) -> None:
    """Register ``text`` (the translation as published) and record its certificate on the row."""
    chapter = session.get(Chapter, translation.chapter_id)
    story = session.get(Story, translation.story_id)
    author = session.get(User, story.author_id) if story is not None else None
    if chapter is None or story is None or author is None:
        raise RuntimeError(f"translation {translation.id} lost its chapter, story or author")
    registered = registry.register(
        session,
        text=text,
        title=f"{registration_title(story, chapter)} [{translation.language}]"[:300],
        author=Author(id=author.id, display_name=author.public_name, wallet=author.wallet_address),
        story_id=story.id,
        chapter_id=chapter.id,
        derived_from=derived_from(session, translation, chapter),
    )
    reg = registered.registration
    translation.registration_id, translation.certificate_id, translation.sha256 = (
        reg.id,
        reg.certificate_id,
        reg.sha256,
    )
