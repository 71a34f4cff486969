"""Who may do what with narration, and what a client is told about a chapter's audio.

The rules are content's (``content.access``): only the story's editor picks the narrator, starts or
cancels a job; anyone who can see a chapter sees whether it has audio; only a listener who may read the
chapter's text (its own unlock rule: free, unlocked with coins, or by subscription) gets the files or
the sync markers. A chapter a caller may not see does not exist (404), as for its text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from accounts.models import User
from ai.errors import AudioLocked, AudioNotReady
from ai.speech import sync
from ai.speech.epub import ChapterEntry
from ai.speech.jobs import audio_row, is_stale
from ai.speech.media.protocol import MediaStore
from ai.speech.models import AudioStatus, ChapterAudio
from content import access
from content.access import ReadGrants
from content.chapters import list_chapters
from content.crypto import ContentCipher
from content.models.stories import Chapter, Story
from content.texts import chapter_text

MEDIA_TYPES = {"opus": "audio/ogg", "mp3": "audio/mpeg"}


def editable(session: Session, user: User, chapter_id: str) -> tuple[Chapter, Story]:
    return access.editable_chapter(session, chapter_id, user)


def listenable(
    session: Session, grants: ReadGrants, user: User | None, chapter_id: str
) -> tuple[ChapterAudio, Chapter]:
    """The chapter's finished audio, for a caller who may read the chapter; else 404/403/409."""
    chapter, _story = access.visible_chapter(session, chapter_id, user)
    if not access.can_read_chapter(session, grants, user, chapter):
        raise AudioLocked("Unlock the chapter to listen to it.", details={"chapter_id": chapter_id})
    row = audio_row(session, chapter_id)
    if row is None or row.opus_key is None:
        raise AudioNotReady("The chapter has no audio yet.", details={"chapter_id": chapter_id})
    return row, chapter


def public_status(row: ChapterAudio | None, chapter: Chapter) -> str:
    """``none``, ``queued``, ``running``, ``ready``, ``stale`` (ready, but the text changed since),
    ``failed`` or ``cancelled``."""
    if row is None:
        return "none"
    if row.status == AudioStatus.ready and is_stale(row, chapter):
        return "stale"
    return row.status.value


def describe(
    session: Session, grants: ReadGrants, user: User | None, chapter_id: str, *, base: str
) -> dict[str, Any]:
    """``GET /chapters/{id}/audio``: status for anyone who sees the chapter; files for who may read it;
    job details (attempts, error) for its editor."""
    chapter, story = access.visible_chapter(session, chapter_id, user)
    row = audio_row(session, chapter_id)
    can_read = access.can_read_chapter(session, grants, user, chapter)
    out: dict[str, Any] = {
        "chapter_id": chapter.id,
        "status": public_status(row, chapter),
        "locked": not can_read,
        "voice": None,
        "engine": None,
        "rate": None,
        "duration_ms": None,
        "sentences": None,
        "loudness_lufs": None,
        "files": None,
        "progress": None,
        "job": None,
    }
    if row is None:
        return out
    has_files = row.opus_key is not None
    out.update(
        voice=row.spoken_voice if has_files else row.voice,
        engine=row.engine,
        rate=row.rate,
        progress=row.progress,
    )
    if has_files:
        out.update(duration_ms=row.duration_ms, sentences=row.sentences, loudness_lufs=row.loudness_lufs)
    if has_files and can_read:
        prefix = f"{base}/chapters/{chapter.id}/audio"
        out["files"] = {
            "opus": {
                "url": f"{prefix}.opus",
                "bytes": row.opus_bytes,
                "sha256": row.opus_sha256,
                "media_type": MEDIA_TYPES["opus"],
            },
            "mp3": {
                "url": f"{prefix}.mp3",
                "bytes": row.mp3_bytes,
                "sha256": row.mp3_sha256,
                "media_type": MEDIA_TYPES["mp3"],
            },
            "vtt": {"url": f"{prefix}.vtt", "media_type": "text/vtt"},
            "json": {"url": f"{prefix}.json", "media_type": "application/json"},
        }
    if access.can_edit_story(user, story):
        out["job"] = {
            "status": row.status.value,
            "attempts": row.attempts,
            "revision": row.chapter_revision,
            "spoken_revision": row.spoken_revision,
            "chapter_revision": chapter.revision,
            "cancel_requested": row.cancel_requested,
            "error": json.loads(row.error) if row.error else None,
            "not_before": row.not_before.isoformat() if row.not_before else None,
        }
    return out


def export_entries(
    session: Session, grants: ReadGrants, user: User | None, story_id: str, *, cipher: ContentCipher,
    store: MediaStore,
) -> tuple[Story, str, list[ChapterEntry]]:
    """The story, its author's name and the published chapters ``user`` may read, each with its sync
    sentences when its audio is current (for ``GET /stories/{id}/export.epub``)."""
    story = access.visible_story(session, story_id, user)
    author = session.get(User, story.author_id)
    entries = []
    for chapter in list_chapters(session, story, include_unpublished=False):
        if not access.can_read_chapter(session, grants, user, chapter):
            continue
        row = audio_row(session, chapter.id)
        sentences = None
        if row is not None and row.sync_key and row.mp3_key and not is_stale(row, chapter):
            data = b"".join(store.read(row.sync_key))
            sentences = sync.open_document(cipher, data, chapter_id=chapter.id, audio_id=row.id)["sentences"]
        entries.append(
            ChapterEntry(
                number=chapter.number,
                title=chapter.title,
                text=chapter_text(cipher, chapter),
                sentences=sentences,
                mp3_key=row.mp3_key if sentences and row else None,
                duration_ms=row.duration_ms if sentences and row else None,
            )
        )
    return story, (author.username if author else ""), entries
