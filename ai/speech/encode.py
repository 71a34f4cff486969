"""Raw speech → mobile audio with Debian ffmpeg: loudness to −16 LUFS in two passes, Opus and MP3.

Pass one measures the joined PCM (``loudnorm`` with ``print_format=json``); pass two applies the
measured values in linear mode, so the whole chapter gets one gain instead of a compressor pumping
between sentences, and writes both files from one decode: Opus 24 kbit/s mono in Ogg (what phones
stream) and an MP3 fallback (what older browsers and EPUB readers play). ffmpeg reads the PCM from a
file and writes files, so memory stays flat whatever the chapter's length.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ai.errors import SpeechFailed, SpeechUnavailable

TARGET_LUFS, TRUE_PEAK, LRA = -16.0, -1.5, 11.0
OPUS_BITRATE, MP3_BITRATE, MP3_RATE = "24k", "48k", 24000
_JSON = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


@dataclass(frozen=True)
class Encoded:
    opus: Path
    mp3: Path
    loudness_lufs: float  # integrated loudness of the normalized signal, as loudnorm reports it


def ffmpeg_path() -> str:
    found = shutil.which("ffmpeg")
    if not found:
        raise SpeechUnavailable("ffmpeg is not installed (Debian package ffmpeg).")
    return found


def _run(args: list[str], timeout: float) -> str:
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as e:
        raise SpeechUnavailable("ffmpeg took too long.") from e
    err = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise SpeechFailed("ffmpeg failed.", details={"stderr": err[-400:]})
    return err


def _loudnorm_json(stderr: str) -> dict[str, str]:
    found = _JSON.findall(stderr)
    if not found:
        raise SpeechFailed("ffmpeg printed no loudness measurement.")
    return json.loads(found[-1])


def _finite(value: object) -> str | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return str(value) if math.isfinite(number) else None


def _input(pcm: Path, sample_rate: int) -> list[str]:
    return ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", str(pcm)]


def encode(pcm: Path, sample_rate: int, out_dir: Path, *, timeout: float = 3600.0) -> Encoded:
    """Normalize and encode ``pcm`` (s16le mono) into ``out_dir/audio.opus`` and ``audio.mp3``."""
    ff = ffmpeg_path()
    base = [ff, "-hide_banner", "-nostdin", "-loglevel", "info", "-y"]
    target = f"I={TARGET_LUFS}:TP={TRUE_PEAK}:LRA={LRA}"
    first = _run(
        [*base, *_input(pcm, sample_rate), "-af", f"loudnorm={target}:print_format=json", "-f", "null", "-"],
        timeout,
    )
    m = {k: _finite(v) for k, v in _loudnorm_json(first).items()}
    if m.get("target_offset") is None:  # very short clips (under ~3 s) report an infinite offset
        m["target_offset"] = "0.0"
    if any(m.get(k) is None for k in ("input_i", "input_tp", "input_lra", "input_thresh")):
        norm = "anull"  # silence: nothing to normalize
    else:
        norm = (
            f"loudnorm={target}:measured_I={m['input_i']}:measured_TP={m['input_tp']}"
            f":measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}"
            f":offset={m['target_offset']}:linear=true:print_format=json"
        )
    opus, mp3 = out_dir / "audio.opus", out_dir / "audio.mp3"
    graph = f"[0:a]{norm},aresample=48000,asplit=2[o][m];[m]aresample={MP3_RATE}[m2]"
    second = _run(
        [
            *base,
            *_input(pcm, sample_rate),
            "-filter_complex",
            graph,
            "-map",
            "[o]",
            "-c:a",
            "libopus",
            "-b:a",
            OPUS_BITRATE,
            "-ac",
            "1",
            "-application",
            "voip",
            "-f",
            "ogg",
            str(opus),
            "-map",
            "[m2]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            MP3_BITRATE,
            "-ac",
            "1",
            "-f",
            "mp3",
            str(mp3),
        ],
        timeout,
    )
    loudness = TARGET_LUFS
    if norm != "anull":
        out = _loudnorm_json(second)
        try:
            loudness = float(out.get("output_i", TARGET_LUFS))
        except ValueError:
            loudness = TARGET_LUFS
    return Encoded(opus=opus, mp3=mp3, loudness_lufs=loudness)
