"""Narration over HTTP, end to end with the real engine and encoder: a writer picks a Swahili voice,
generates a chapter's audio in the worker, and a reader plays it with sync markers."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from factories import auth_headers, grant_coins, make_user
from speech_support import (
    integrated_loudness,
    needs_espeak,
    needs_ffmpeg,
    probe,
    run_worker,
    writer_story,
)
from sqlalchemy import select

from ai.errors import NotFound
from ai.speech.models import ChapterAudio

pytestmark = [needs_espeak]


def test_voices_by_language_and_the_languages_without_one(client):
    sw = client.get("/voices", params={"language": "sw"}).json()
    assert sw["engine"] == "espeak-ng" and sw["voices"]
    assert all(v["language"].startswith("sw") and v["engine"] == "espeak-ng" for v in sw["voices"])
    assert {v["gender"] for v in sw["voices"]} == {"male", "female"}
    assert {"ha", "yo", "zu", "ig"} <= set(sw["missing_languages"])
    hausa = client.get("/voices", params={"language": "ha"}).json()
    assert hausa["voices"] == [] and "Hausa" in hausa["note"]
    assert client.get("/voices", params={"language": "x" * 40}).status_code == 422
    assert client.get("/voices", params={"language": "../etc"}).status_code == 422


def test_narrator_defaults_by_language_and_genre_and_only_the_writer_changes_it(client, session, container):
    _writer, story, _chapter, wh = writer_story(session, container, language="sw", genre="romance")
    default = client.get(f"/stories/{story.id}/narration").json()
    assert default == {
        "story_id": story.id,
        "engine": "espeak-ng",
        "voice": "sw+f3",
        "rate": 1.0,
        "chosen": False,
    }
    reader = make_user(session, container, role="reader")
    body = {"voice": "sw", "rate": 0.9}
    assert (
        client.put(
            f"/stories/{story.id}/narration", json=body, headers=auth_headers(container, reader)
        ).status_code
        == 403
    )
    assert client.put(f"/stories/{story.id}/narration", json=body).status_code == 401
    bad = client.put(f"/stories/{story.id}/narration", json={"voice": "nope"}, headers=wh)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VOICE_UNKNOWN"
    assert (
        client.put(f"/stories/{story.id}/narration", json={"voice": "sw", "rate": 3}, headers=wh).status_code
        == 422
    )
    chosen = client.put(f"/stories/{story.id}/narration", json=body, headers=wh).json()
    assert chosen["voice"] == "sw" and chosen["chosen"] is True
    assert client.get(f"/stories/{story.id}/narration").json()["voice"] == "sw"


@needs_ffmpeg
def test_writer_generates_audio_reader_plays_it_with_sync(client, session, container, tmp_path: Path):
    _writer, story, chapter, wh = writer_story(session, container)
    client.put(f"/stories/{story.id}/narration", json={"voice": "sw", "rate": 1.0}, headers=wh)
    reader = make_user(session, container, role="reader")
    rh = auth_headers(container, reader)
    assert client.post(f"/chapters/{chapter.id}/audio", headers=rh).status_code == 403

    first = client.post(f"/chapters/{chapter.id}/audio", headers=wh)
    assert first.status_code == 202 and first.json()["status"] == "queued"
    again = client.post(f"/chapters/{chapter.id}/audio", headers=wh)
    assert again.status_code == 200 and again.json()["status"] == "queued"  # one job, not two
    assert (
        client.get(f"/chapters/{chapter.id}/audio.opus", headers=rh).json()["error"]["code"]
        == "AUDIO_NOT_READY"
    )

    assert run_worker(container) == {"ran": 1, "status": "ready"}
    assert run_worker(container) == {"ran": 0}  # nothing runs twice
    meta = client.get(f"/chapters/{chapter.id}/audio", headers=rh).json()
    assert meta["status"] == "ready" and meta["voice"] == "sw" and meta["locked"] is False
    assert meta["job"] is None and meta["sentences"] == 4
    assert abs(meta["loudness_lufs"] + 16) <= 1.5

    opus = client.get(f"/chapters/{chapter.id}/audio.opus", headers=rh)
    assert opus.status_code == 200 and opus.headers["content-type"] == "audio/ogg"
    assert opus.headers["accept-ranges"] == "bytes" and opus.headers["cache-control"].startswith("public")
    assert len(opus.content) == meta["files"]["opus"]["bytes"]
    (tmp_path / "a.opus").write_bytes(opus.content)
    mp3 = client.get(meta["files"]["mp3"]["url"].split("testserver")[-1], headers=rh)
    (tmp_path / "a.mp3").write_bytes(mp3.content)
    for name, codec in (("a.opus", "opus"), ("a.mp3", "mp3")):
        info = probe(tmp_path / name)
        assert info["streams"][0]["codec_name"] == codec and info["streams"][0]["channels"] == 1
        assert (
            abs(float(info["format"]["duration"]) * 1000 - meta["duration_ms"]) < 0.02 * meta["duration_ms"]
        )
        assert abs(integrated_loudness(tmp_path / name) + 16) <= 1.5

    part = client.get(f"/chapters/{chapter.id}/audio.opus", headers={**rh, "Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == opus.content[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(opus.content)}"
    tail = client.get(f"/chapters/{chapter.id}/audio.opus", headers={**rh, "Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == opus.content[-5:]
    bad = client.get(
        f"/chapters/{chapter.id}/audio.opus", headers={**rh, "Range": f"bytes={len(opus.content)}-"}
    )
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(opus.content)}"
    cached = client.get(
        f"/chapters/{chapter.id}/audio.opus", headers={**rh, "If-None-Match": opus.headers["etag"]}
    )
    assert cached.status_code == 304 and cached.content == b""

    doc = client.get(f"/chapters/{chapter.id}/audio.json", headers=rh).json()
    text = client.get(f"/stories/{story.id}/chapters/{chapter.id}", headers=rh).json()["content"]
    sentences = doc["sentences"]
    assert [s["index"] for s in sentences] == list(range(4))
    assert sentences[0]["start_ms"] == 0 and sentences[-1]["end_ms"] == doc["duration_ms"]
    assert all(
        a["end_ms"] == b["start_ms"] and a["start_ms"] < a["end_ms"] for a, b in itertools.pairwise(sentences)
    )
    assert (
        text[sentences[2]["start_char"] : sentences[2]["end_char"]]
        == "Mama alinunua ndizi, maembe na samaki wabichi!"
    )
    assert abs(doc["duration_ms"] - meta["duration_ms"]) <= 0.02 * meta["duration_ms"]
    vtt = client.get(f"/chapters/{chapter.id}/audio.vtt", headers=rh)
    assert vtt.headers["content-type"].startswith("text/vtt")
    lines = vtt.text.splitlines()
    assert lines[0] == "WEBVTT" and lines.count("s3") == 1 and "Je, utakuja nasi kesho?" in lines


@needs_ffmpeg
def test_paid_chapter_audio_follows_the_unlock_rule(client, session, container):
    _writer, _story, chapter, wh = writer_story(
        session, container, language="en", price_coins=5, text="One short sentence. And another one."
    )
    client.post(f"/chapters/{chapter.id}/audio", headers=wh)
    assert run_worker(container)["status"] == "ready"
    reader = make_user(session, container, role="reader")
    rh = auth_headers(container, reader)
    meta = client.get(f"/chapters/{chapter.id}/audio", headers=rh).json()
    assert meta["status"] == "ready" and meta["locked"] is True and meta["files"] is None
    for suffix in ("opus", "mp3", "vtt", "json"):
        for headers in (rh, {}):
            r = client.get(f"/chapters/{chapter.id}/audio.{suffix}", headers=headers)
            assert r.status_code == 403 and r.json()["error"]["code"] == "AUDIO_LOCKED", suffix
    grant_coins(session, reader.id, 10)
    assert client.post(f"/chapters/{chapter.id}/unlock", headers=rh).status_code == 200
    heard = client.get(f"/chapters/{chapter.id}/audio.opus", headers=rh)
    assert heard.status_code == 200 and heard.headers["cache-control"].startswith("private")
    assert client.get(f"/chapters/{chapter.id}/audio.opus", headers=wh).status_code == 200


@needs_ffmpeg
def test_an_edit_makes_audio_stale_and_regeneration_replaces_it(client, session, container):
    _writer, _story, chapter, wh = writer_story(session, container, language="en", text="Before the edit.")
    client.post(f"/chapters/{chapter.id}/audio", headers=wh)
    assert run_worker(container)["status"] == "ready", client.get(
        f"/chapters/{chapter.id}/audio", headers=wh
    ).json()["job"]["error"]
    old = client.get(f"/chapters/{chapter.id}/audio", headers=wh).json()
    old_key = session.scalar(select(ChapterAudio.opus_key).where(ChapterAudio.chapter_id == chapter.id))
    assert container.speech.store.size(old_key) == old["files"]["opus"]["bytes"]
    assert client.post(f"/chapters/{chapter.id}/audio", headers=wh).status_code == 200  # current: no new job
    edited = client.put(
        f"/chapters/{chapter.id}", json={"content": "After the edit, longer text."}, headers=wh
    )
    assert edited.status_code == 200
    assert client.get(f"/chapters/{chapter.id}/audio").json()["status"] == "stale"
    assert client.get(f"/chapters/{chapter.id}/audio.opus").status_code == 200  # the old audio still plays
    assert client.post(f"/chapters/{chapter.id}/audio", headers=wh).status_code == 202
    assert run_worker(container)["status"] == "ready"
    new = client.get(f"/chapters/{chapter.id}/audio", headers=wh).json()
    assert new["status"] == "ready" and new["files"]["opus"]["sha256"] != old["files"]["opus"]["sha256"]
    assert new["job"]["spoken_revision"] == new["job"]["chapter_revision"]
    doc = client.get(f"/chapters/{chapter.id}/audio.json").json()
    assert doc["sentences"][0]["text"] == "After the edit, longer text."
    with pytest.raises(NotFound):  # the replaced files left the store
        container.speech.store.size(old_key)


def test_unpublished_chapter_audio_does_not_exist_for_others(client, session, container):
    _writer, story, _chapter, wh = writer_story(session, container)
    from factories import make_chapter

    draft = make_chapter(session, container, story, content="Draft text.")
    other = make_user(session, container, role="writer")
    for url in (
        f"/chapters/{draft.id}/audio",
        f"/chapters/{draft.id}/audio.opus",
        f"/chapters/{draft.id}/audio.json",
    ):
        assert client.get(url, headers=auth_headers(container, other)).status_code == 404
    assert (
        client.post(f"/chapters/{draft.id}/audio", headers=auth_headers(container, other)).status_code == 404
    )
    assert client.get(f"/chapters/{draft.id}/audio", headers=wh).json()["status"] == "none"
    assert client.get("/chapters/nope/audio.mp3").status_code == 404


EPUBCHECK = Path("/usr/share/java/epubcheck.jar")
needs_epubcheck = pytest.mark.skipif(
    not (EPUBCHECK.exists() and shutil.which("java")),
    reason="epubcheck is not installed (Debian package epubcheck; scripts/_setup.sh installs it)",
)


def _epubcheck(path: Path) -> subprocess.CompletedProcess[str]:
    # The /usr/bin/epubcheck wrapper fails in these containers; the jar runs.
    return subprocess.run(
        ["java", "-jar", str(EPUBCHECK), str(path)], capture_output=True, text=True, timeout=300
    )


@needs_ffmpeg
@needs_epubcheck
def test_read_along_epub_passes_epubcheck_and_respects_unlocks(client, session, container, tmp_path: Path):
    writer, story, free, wh = writer_story(session, container)
    from factories import make_chapter

    paid = make_chapter(
        session, container, story, content="Sura ya pili. Inalipwa.", published=True, price_coins=3
    )
    make_chapter(session, container, story, content="Rasimu tu.")  # a draft is never exported
    client.post(f"/chapters/{free.id}/audio", headers=wh)
    assert run_worker(container)["status"] == "ready"

    reader = make_user(session, container, role="reader")
    book = client.get(f"/stories/{story.id}/export.epub", headers=auth_headers(container, reader))
    assert book.status_code == 200 and book.headers["content-type"] == "application/epub+zip"
    assert book.headers["cache-control"].startswith("private")
    (tmp_path / "reader.epub").write_bytes(book.content)
    with zipfile.ZipFile(tmp_path / "reader.epub") as z:
        names = z.namelist()
        assert names[0] == "mimetype" and z.read("mimetype") == b"application/epub+zip"
        assert "OEBPS/mo1.smil" in names and "OEBPS/audio/ch1.mp3" in names
        assert not any("ch2" in n or "ch3" in n for n in names)  # paid and locked, draft
        smil = z.read("OEBPS/mo1.smil").decode()
        assert smil.count("<par ") == 4 and 'src="ch1.xhtml#s3"' in smil
        xhtml = z.read("OEBPS/ch1.xhtml").decode()
        assert '<span id="s2">Mama alinunua ndizi, maembe na samaki wabichi!</span>' in xhtml
    checked = _epubcheck(tmp_path / "reader.epub")
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]

    own = client.get(f"/stories/{story.id}/export.epub", headers=wh)  # the writer reads every published one
    (tmp_path / "writer.epub").write_bytes(own.content)
    with zipfile.ZipFile(tmp_path / "writer.epub") as z:
        assert "OEBPS/ch2.xhtml" in z.namelist() and "OEBPS/mo2.smil" not in z.namelist()
    checked = _epubcheck(tmp_path / "writer.epub")
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert paid.id and writer.id
