"""A chapter read in another language (``GET /stories/{id}/chapters/{cid}?lang=es``).

The chapter's own rules decide first (visibility, then :func:`content.access.can_read_chapter` for
the text: a paid chapter's translation opens exactly when the chapter does); then the published
translation in that language replaces the text, with its label. The original's language returns the
original; a language nobody published is 404 naming the languages there are.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.models import User
from ai.translation import views
from ai.translation.languages import normalize
from api.http.errors import NotFound
from api.http.schemas.content import ChapterOut
from api.http.schemas.translation import TranslatedChapterOut, TranslationMeta
from api.wiring import Container
from content import access, texts


def render_translated(
    session: Session,
    container: Container,
    user: User | None,
    story_id: str,
    chapter_id: str,
    lang: str,
) -> bytes:
    chapter, story = access.visible_chapter(session, chapter_id, user)
    if story.id != story_id:
        raise NotFound(
            "No such chapter in this story.", details={"story_id": story_id, "chapter_id": chapter_id}
        )
    language = normalize(lang)
    editor = access.can_edit_story(user, story)
    readable = access.can_read_chapter(session, container.read_grants, user, chapter)
    if story.language and normalize(story.language) == language:
        content = texts.chapter_text(container.content_cipher, chapter) if readable else None
        return (
            TranslatedChapterOut(
                **ChapterOut.with_content(chapter, content, editor=editor).model_dump(), translation=None
            )
            .model_dump_json()
            .encode()
        )
    t = container.translations
    translation = t.published(session, chapter, language)
    if translation is None:
        available = [row.language for row in t.languages_of(session, chapter, everything=False)]
        raise NotFound(
            "No published translation in this language.",
            details={"chapter_id": chapter_id, "language": language, "available": available},
        )
    content = t.text_of(translation) if readable else None
    out = TranslatedChapterOut(
        **ChapterOut.with_content(chapter, content, editor=editor).model_dump(),
        translation=TranslationMeta(**views.meta(translation)),
    )
    return out.model_dump_json().encode()
