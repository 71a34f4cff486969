"""The job's steps that need no database: speaking sentences into a raw file, hashing files.

Kept apart from ``jobs.py`` (claiming, leases, retries) so ``scripts/bench_audio.py`` runs exactly the
code the job runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ai.errors import SpeechFailed
from ai.speech import sync
from ai.speech.sentences import Sentence
from ai.speech.synth.protocol import SpeechSynthesizer


def speak(
    synth: SpeechSynthesizer,
    sentences: list[Sentence],
    *,
    voice: str,
    rate: float,
    out: Path,
    heartbeat: Callable[[int], None] = lambda _done: None,
) -> tuple[list[sync.Cue], int, int]:
    """Speak ``sentences`` one by one into ``out`` (raw s16le mono), appending as they come so memory
    holds one sentence's samples at a time. Returns the cues, the duration in ms and the sample rate.
    ``heartbeat(done)`` runs after each sentence (the job extends its lease and checks for a cancel)."""
    starts, samples, sample_rate = [], 0, 0
    with out.open("wb") as fh:
        for i, sentence in enumerate(sentences):
            clip = synth.synthesize(sentence.text, voice=voice, rate=rate)
            if sample_rate and clip.sample_rate != sample_rate:
                raise SpeechFailed("The engine changed its sample rate mid-chapter.")
            sample_rate = clip.sample_rate
            starts.append(samples * 1000 // sample_rate)
            fh.write(clip.pcm)
            samples += len(clip.pcm) // 2
            heartbeat(i + 1)
    duration_ms = samples * 1000 // sample_rate
    ends = [*starts[1:], duration_ms]
    cues = [
        sync.Cue(s.index, s.start, s.end, a, b, s.text)
        for s, a, b in zip(sentences, starts, ends, strict=True)
    ]
    return cues, duration_ms, sample_rate


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
