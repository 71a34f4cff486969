"""Helpers shared by the speech tests: skip reasons, a writer's story with a published chapter, the
worker's round, and ffprobe/ebur128 read-backs of the files."""

from __future__ import annotations

import ctypes.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from factories import auth_headers, make_chapter, make_story, make_user

HAVE_ESPEAK = bool(ctypes.util.find_library("espeak-ng"))
HAVE_FFMPEG = bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))
needs_espeak = pytest.mark.skipif(
    not HAVE_ESPEAK,
    reason="libespeak-ng1 is not installed (scripts/_setup.sh installs it where apt-get can run)",
)
needs_ffmpeg = pytest.mark.skipif(
    not HAVE_FFMPEG, reason="ffmpeg is not installed (scripts/_setup.sh installs it where apt-get can run)"
)

SWAHILI = (
    "Habari za asubuhi, rafiki yangu. Leo tunasafiri kwenda sokoni mjini.\n\n"
    "Mama alinunua ndizi, maembe na samaki wabichi! Je, utakuja nasi kesho?"
)


def writer_story(
    session: Any,
    container: Any,
    *,
    language: str = "sw",
    genre: str | None = None,
    text: str = SWAHILI,
    price_coins: int = 0,
) -> tuple[Any, Any, Any, dict[str, str]]:
    writer = make_user(session, container, role="writer")
    story = make_story(session, container, writer, language=language, genre=genre)
    chapter = make_chapter(session, container, story, content=text, published=True, price_coins=price_coins)
    return writer, story, chapter, auth_headers(container, writer)


def run_worker(container: Any) -> dict[str, Any]:
    return container.speech.jobs.run_due(container.session_factory)


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration,format_name:stream=codec_name,channels,bit_rate",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def integrated_loudness(path: Path) -> float:
    err = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = err[err.rindex("Summary:") :]
    m = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    assert m, summary[-300:]
    return float(m.group(1))
