"""Narration: voices, a story's narrator, chapter audio jobs and the files (``ai/speech``).

Audio files are served with byte ranges (206), a strong ETag (the file's SHA-256) and cache headers:
``public`` for a free published chapter (anyone may hear it), ``private`` otherwise, so no shared cache
hands a paid chapter's audio to a listener who has not unlocked it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from ai.errors import NotFound, RangeNotSatisfiable
from ai.speech import epub, jobs, narrator, service, sync
from ai.speech.models import ChapterAudio
from api.http.deps import ContainerDep, CurrentUser, OptionalUser, SessionDep
from api.http.public_cache import matches
from api.http.schemas.speech import AudioOut, NarrationIn, NarrationOut, VoiceList, VoiceOut
from content import access
from content.models.stories import Chapter

router = APIRouter(tags=["speech"])
Language = Annotated[str | None, Query(max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")]
_RANGE = re.compile(r"^bytes=(\d{0,15})-(\d{0,15})$")


@router.get("/voices", response_model=VoiceList)
def list_voices(container: ContainerDep, language: Language = None) -> object:
    """Voices of the configured engine, optionally of one language (``sw`` also lists ``sw-ke``)."""
    synth = container.speech.synth
    voices = narrator.voices_for(synth, language)
    missing = narrator.missing_languages(synth)
    note = None
    if language and not voices:
        name = narrator.NOTED_LANGUAGES.get(language.split("-")[0].lower(), language)
        note = f"{synth.name} has no voice for {name}."
    return VoiceList(
        engine=synth.name,
        language=language,
        missing_languages=missing,
        note=note,
        voices=[VoiceOut(**v.__dict__) for v in voices],
    )


@router.get("/stories/{story_id}/narration", response_model=NarrationOut)
def get_narration(story_id: str, user: OptionalUser, session: SessionDep, container: ContainerDep) -> object:
    story = access.visible_story(session, story_id, user)
    n = narrator.narrator_for(session, container.speech.synth, story)
    return NarrationOut(story_id=story.id, engine=n.engine, voice=n.voice, rate=n.rate, chosen=n.chosen)


@router.put("/stories/{story_id}/narration", response_model=NarrationOut)
def put_narration(
    story_id: str, body: NarrationIn, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    """The writer picks the story's narrator; every chapter generated from now on uses it."""
    story = access.editable_story(session, story_id, user)
    n = narrator.set_narrator(session, container.speech.synth, story, voice=body.voice, rate=body.rate)
    return NarrationOut(story_id=story.id, engine=n.engine, voice=n.voice, rate=n.rate, chosen=n.chosen)


@router.post("/chapters/{chapter_id}/audio", response_model=AudioOut)
def request_audio(
    chapter_id: str,
    user: CurrentUser,
    session: SessionDep,
    container: ContainerDep,
    response: Response,
    force: bool = False,
) -> object:
    """Queue narration (202), or answer with the job already queued or the audio already current (200).
    ``force=true`` regenerates current audio."""
    chapter, story = service.editable(session, user, chapter_id)
    _row, queued = jobs.request_audio(
        session, container.speech.synth, chapter, story, user_id=user.id, force=force
    )
    session.flush()
    response.status_code = status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK
    return service.describe(session, container.read_grants, user, chapter_id, base=container.base_url())


@router.delete("/chapters/{chapter_id}/audio/job", response_model=AudioOut)
def cancel_audio(chapter_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep) -> object:
    service.editable(session, user, chapter_id)
    row = jobs.audio_row(session, chapter_id)
    if row is None:
        raise NotFound("The chapter has no audio job.", details={"chapter_id": chapter_id})
    jobs.cancel_audio(session, row)
    return service.describe(session, container.read_grants, user, chapter_id, base=container.base_url())


@router.get("/chapters/{chapter_id}/audio", response_model=AudioOut)
def audio_status(chapter_id: str, user: OptionalUser, session: SessionDep, container: ContainerDep) -> object:
    return service.describe(session, container.read_grants, user, chapter_id, base=container.base_url())


def _cache_control(chapter: Chapter) -> str:
    return "public, max-age=300" if chapter.price_coins <= 0 else "private, max-age=300"


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range → ``[start, end)``; None means the whole file (no header, or several ranges,
    which RFC 9110 lets a server ignore)."""
    if not header or "," in header:
        return None
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable("Only single byte ranges are served.", details={"size": size})
    first, last = m.group(1), m.group(2)
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise RangeNotSatisfiable("Empty suffix range.", details={"size": size})
        return max(0, size - n), size
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable("The range is outside the file.", details={"size": size})
    return start, end


def _serve_file(
    request: Request,
    container: Any,
    row: ChapterAudio,
    chapter: Chapter,
    kind: str,
    range_header: str | None,
    if_range: str | None,
) -> Response:
    key, digest = (row.opus_key, row.opus_sha256) if kind == "opus" else (row.mp3_key, row.mp3_sha256)
    assert key is not None and digest is not None
    etag = f'"{digest[:32]}"'
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": _cache_control(chapter)}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    store = container.speech.store
    size = store.size(key)
    if if_range is not None and if_range.strip() != etag:
        range_header = None  # the client's partial copy is of other bytes: send the whole file
    try:
        span = _parse_range(range_header, size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    media_type = service.MEDIA_TYPES[kind]
    if span is None:
        return StreamingResponse(
            store.read(key), media_type=media_type, headers={**headers, "Content-Length": str(size)}
        )
    start, end = span
    return StreamingResponse(
        store.read(key, start, end),
        status_code=206,
        media_type=media_type,
        headers={
            **headers,
            "Content-Length": str(end - start),
            "Content-Range": f"bytes {start}-{end - 1}/{size}",
        },
    )


@router.get("/chapters/{chapter_id}/audio.opus", response_class=Response)
def audio_opus(
    chapter_id: str,
    request: Request,
    user: OptionalUser,
    session: SessionDep,
    container: ContainerDep,
    range_: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header(alias="if-range")] = None,
) -> Response:
    row, chapter = service.listenable(session, container.read_grants, user, chapter_id)
    return _serve_file(request, container, row, chapter, "opus", range_, if_range)


@router.get("/chapters/{chapter_id}/audio.mp3", response_class=Response)
def audio_mp3(
    chapter_id: str,
    request: Request,
    user: OptionalUser,
    session: SessionDep,
    container: ContainerDep,
    range_: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header(alias="if-range")] = None,
) -> Response:
    row, chapter = service.listenable(session, container.read_grants, user, chapter_id)
    return _serve_file(request, container, row, chapter, "mp3", range_, if_range)


def _sync_doc(session: Any, user: Any, container: Any, chapter_id: str) -> tuple[dict[str, Any], str, str]:
    row, chapter = service.listenable(session, container.read_grants, user, chapter_id)
    assert row.sync_key is not None
    data = b"".join(container.speech.store.read(row.sync_key))
    doc = sync.open_document(container.content_cipher, data, chapter_id=chapter.id, audio_id=row.id)
    return doc, f'"{(row.opus_sha256 or "")[:24]}-{row.sync_key[-13:-5]}"', _cache_control(chapter)


@router.get("/chapters/{chapter_id}/audio.json", response_class=Response)
def audio_json(
    chapter_id: str, request: Request, user: OptionalUser, session: SessionDep, container: ContainerDep
) -> Response:
    """Sentence index, character offsets in the canonical text of the spoken revision, start/end ms."""
    doc, etag, cache = _sync_doc(session, user, container, chapter_id)
    headers = {"ETag": etag, "Cache-Control": cache}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, media_type="application/json", headers=headers)


@router.get("/chapters/{chapter_id}/audio.vtt", response_class=Response)
def audio_vtt(
    chapter_id: str, request: Request, user: OptionalUser, session: SessionDep, container: ContainerDep
) -> Response:
    """WebVTT, one cue per sentence (cue ids ``s<index>``), for ``<track>`` in the web player."""
    doc, etag, cache = _sync_doc(session, user, container, chapter_id)
    etag = etag[:-1] + '-vtt"'
    headers = {"ETag": etag, "Cache-Control": cache}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(sync.render_vtt(doc).encode(), media_type="text/vtt; charset=utf-8", headers=headers)


@router.get("/stories/{story_id}/export.epub", response_class=Response)
def export_epub(story_id: str, user: OptionalUser, session: SessionDep, container: ContainerDep) -> Response:
    """The story's published chapters the caller may read as EPUB 3; chapters with current audio read
    aloud (Media Overlays, MP3). Built into a temporary file and streamed, then removed."""
    store = container.speech.store
    story, author, entries = service.export_entries(
        session, container.read_grants, user, story_id, cipher=container.content_cipher, store=store
    )
    work = container.settings.data_dir / "speech-work"
    work.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="export-", suffix=".epub", dir=work)
    os.close(fd)
    path = Path(name)
    try:
        epub.write_epub(
            path,
            story_id=story.id,
            title=story.title,
            author=author,
            language=story.language or "en",
            chapters=entries,
            store=store,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise

    def chunks() -> Iterator[bytes]:
        try:
            with path.open("rb") as fh:
                while block := fh.read(1 << 16):
                    yield block
        finally:
            path.unlink(missing_ok=True)

    # signed in: the book may hold chapters this user unlocked, so no shared cache may keep it
    private = user is not None
    return StreamingResponse(
        chunks(),
        media_type="application/epub+zip",
        headers={
            "Content-Length": str(path.stat().st_size),
            "Content-Disposition": f'attachment; filename="story-{story.id}.epub"',
            "Cache-Control": "private, no-store" if private else "public, max-age=300",
        },
    )
