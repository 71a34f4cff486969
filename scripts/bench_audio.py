#!/usr/bin/env python3
"""Chapter narration cost: Legato's pipeline against the raw commands, on the same text in the same run.

* ``legato``: what the audio job runs (``ai.speech``): split into sentences, libespeak-ng through
  ctypes sentence by sentence into a raw file, then two-pass ``loudnorm`` and Opus + MP3 with ffmpeg.
* ``raw``: ``espeak-ng --stdout`` on the whole text, then the same two ffmpeg passes by hand.

Each side runs in a child process of its own, so its CPU time (user + system, with its ffmpeg children)
and peak resident memory come from ``wait4`` cleanly. Reported: seconds of audio per CPU second for each,
Legato's overhead (goal ≤ 25 %), bytes per minute of audio of each file, peak memory.

    ./scripts/bench_audio.py                       # 20,000 characters of English
    ./scripts/bench_audio.py --chars 500000        # the longest chapter (slow: hours of audio)
    ./scripts/bench_audio.py --voice sw --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "the",
    "river",
    "carried",
    "lanterns",
    "past",
    "the",
    "market",
    "while",
    "children",
    "counted",
    "boats",
    "and",
    "the",
    "old",
    "ferryman",
    "sang",
    "about",
    "storms",
    "that",
    "never",
    "came",
    "home",
    "again",
    "under",
    "a",
    "patient",
    "sky",
    "of",
    "copper",
    "light",
]


def make_text(chars: int, seed: int = 7) -> str:
    rng, out, size = random.Random(seed), [], 0
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize() + "."
        if rng.random() < 0.2:
            sentence += "\n\n"
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)[:chars]


def run_legato(text_path: Path, out_dir: Path, voice: str) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from ai.speech.encode import encode
    from ai.speech.pipeline import speak
    from ai.speech.sentences import split_sentences
    from ai.speech.synth.espeak import EspeakSynthesizer

    text = text_path.read_text(encoding="utf-8")
    sentences = list(split_sentences(text))
    raw = out_dir / "speech.raw"
    _cues, duration_ms, rate = speak(EspeakSynthesizer(), sentences, voice=voice, rate=1.0, out=raw)
    encoded = encode(raw, rate, out_dir)
    return {
        "duration_ms": duration_ms,
        "sentences": len(sentences),
        "opus": encoded.opus.stat().st_size,
        "mp3": encoded.mp3.stat().st_size,
        "lufs": encoded.loudness_lufs,
    }


def run_raw(text_path: Path, out_dir: Path, voice: str) -> dict[str, object]:
    raw = out_dir / "speech.wav"
    with raw.open("wb") as fh:
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "175", "--stdout", "-f", str(text_path)], stdout=fh, check=True
        )
    target = "I=-16:TP=-1.5:LRA=11"
    first = subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostdin",
            "-i",
            str(raw),
            "-af",
            f"loudnorm={target}:print_format=json",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    m = json.loads(first[first.rindex("{") : first.rindex("}") + 1])
    norm = (
        f"loudnorm={target}:measured_I={m['input_i']}:measured_TP={m['input_tp']}:measured_LRA="
        f"{m['input_lra']}:measured_thresh={m['input_thresh']}:offset={m['target_offset']}:linear=true"
    )
    opus, mp3 = out_dir / "raw.opus", out_dir / "raw.mp3"
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(raw),
            "-filter_complex",
            f"[0:a]{norm},aresample=48000,asplit=2[o][m];[m]aresample=24000[m2]",
            "-map",
            "[o]",
            "-c:a",
            "libopus",
            "-b:a",
            "24k",
            "-ac",
            "1",
            "-application",
            "voip",
            str(opus),
            "-map",
            "[m2]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "48k",
            "-ac",
            "1",
            str(mp3),
        ],
        check=True,
    )
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(opus)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {"duration_ms": round(float(probe) * 1000), "opus": opus.stat().st_size, "mp3": mp3.stat().st_size}


def measured(mode: str, text_path: Path, voice: str) -> dict[str, object]:
    """Run one side in a child process; its own and its children's CPU and peak memory via wait4."""
    out_file = text_path.with_suffix(f".{mode}.json")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--text",
            str(text_path),
            "--voice",
            voice,
            "--out",
            str(out_file),
        ]
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{mode} failed with status {status}")
    result = json.loads(out_file.read_text())
    result.update(
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        wall_s=round(time.perf_counter() - started, 2),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
    )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chars", type=int, default=20_000)
    ap.add_argument("--voice", default="en-us")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=["legato", "raw"])
    ap.add_argument("--text")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        out_dir = Path(tempfile.mkdtemp(prefix=f"bench-audio-{args.child}-"))
        fn = run_legato if args.child == "legato" else run_raw
        Path(args.out).write_text(json.dumps(fn(Path(args.text), out_dir, args.voice)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        text_path = Path(tmp) / "chapter.txt"
        text_path.write_text(make_text(args.chars), encoding="utf-8")
        results = {mode: measured(mode, text_path, args.voice) for mode in ("raw", "legato")}
    for r in results.values():
        minutes = r["duration_ms"] / 60000
        r["audio_s_per_cpu_s"] = round(r["duration_ms"] / 1000 / r["cpu_s"], 1)
        r["opus_bytes_per_min"] = round(r["opus"] / minutes)
        r["mp3_bytes_per_min"] = round(r["mp3"] / minutes)
    overhead = results["legato"]["cpu_s"] / results["raw"]["cpu_s"] - 1
    summary = {
        "chars": args.chars,
        "voice": args.voice,
        "results": results,
        "legato_cpu_overhead_pct": round(overhead * 100, 1),
        "goal_pct": 25,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{args.chars} characters, voice {args.voice}")
    for mode, r in results.items():
        print(
            f"  {mode:6}  audio {r['duration_ms'] / 1000:8.1f} s  cpu {r['cpu_s']:7.2f} s  "
            f"{r['audio_s_per_cpu_s']:6.1f} s audio / cpu s  opus {r['opus_bytes_per_min']:,} B/min  "
            f"mp3 {r['mp3_bytes_per_min']:,} B/min  peak {r['peak_rss_mb']} MB"
        )
    print(
        f"  Legato CPU overhead over the raw commands: {summary['legato_cpu_overhead_pct']} % (goal ≤ 25 %)"
    )


if __name__ == "__main__":
    main()
