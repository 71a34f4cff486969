"""Sync markers: which sentence is being spoken when, as JSON and as WebVTT.

Cues are contiguous: a sentence's cue runs from the first sample it was given to the first sample of
the next one, and the last ends where the audio ends, so a player's ``currentTime`` always falls in
exactly one cue and tapping a sentence seeks to its start. Offsets are characters of the chapter's
canonical text at the revision that was spoken.

The document holds the chapter's sentences, so at rest it is sealed with the content cipher like the
chapter text itself (``seal_document`` / ``open_document``); only an authorized request opens it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from content.crypto import ContentCipher, Sealed

SYNC_VERSION = 1


@dataclass(frozen=True)
class Cue:
    index: int
    start_char: int
    end_char: int
    start_ms: int
    end_ms: int
    text: str


def document(cues: list[Cue], *, duration_ms: int, revision: int, voice: str) -> dict[str, Any]:
    return {
        "version": SYNC_VERSION,
        "chapter_revision": revision,
        "voice": voice,
        "duration_ms": duration_ms,
        "sentences": [
            {
                "index": c.index,
                "start_char": c.start_char,
                "end_char": c.end_char,
                "start_ms": c.start_ms,
                "end_ms": c.end_ms,
                "text": c.text,
            }
            for c in cues
        ],
    }


def _aad(chapter_id: str, audio_id: str) -> bytes:
    return f"legato/chapter-audio-sync/{chapter_id}/{audio_id}".encode()


def seal_document(cipher: ContentCipher, doc: dict[str, Any], *, chapter_id: str, audio_id: str) -> bytes:
    sealed = cipher.seal(
        json.dumps(doc, ensure_ascii=False, separators=(",", ":")), _aad(chapter_id, audio_id)
    )
    return sealed.key_id.encode("ascii") + b"\n" + sealed.blob


def open_document(cipher: ContentCipher, data: bytes, *, chapter_id: str, audio_id: str) -> dict[str, Any]:
    key_id, _, blob = data.partition(b"\n")
    text = cipher.open(Sealed(key_id.decode("ascii"), blob), _aad(chapter_id, audio_id))
    doc: dict[str, Any] = json.loads(text)
    return doc


def _stamp(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{milli:03d}"


def _cue_text(text: str) -> str:
    """WebVTT cue payload: no blank lines (they end a cue), no ``-->``, entities for ``&`` and ``<``."""
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(doc: dict[str, Any]) -> str:
    lines = ["WEBVTT", ""]
    for s in doc["sentences"]:
        lines += [
            f"s{s['index']}",
            f"{_stamp(s['start_ms'])} --> {_stamp(s['end_ms'])}",
            _cue_text(s["text"]),
            "",
        ]
    return "\n".join(lines)
