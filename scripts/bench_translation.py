#!/usr/bin/env python
"""Benchmark translation through Legato against the raw ``apertium`` command, same text, same run.

    .venv/bin/python scripts/bench_translation.py                       # 10,000 words, then 100,000
    .venv/bin/python scripts/bench_translation.py --words 20000 --big 0

1. Throughput: an English chapter of ``--words`` words (paragraphs of ~80 words, numbers and names in
   them) is translated en→es (a) by ``apertium -f txt eng-spa`` on the whole text, and (b) through
   Legato's real path: a temporary deployment (SQLite, embedded TSA) where the chapter is published,
   a translation requested, and the worker's job run — decrypting the version, chunked engine calls,
   alignment, quality report, sealing and writing the draft. Each is run three times alternately; the
   best wall time of each is compared (overhead goal ≤ 20%). CPU seconds (this process plus children)
   are printed beside, since wall time on a shared machine carries other processes' load.
2. Memory: the same Legato job on a ``--big``-word chapter: Python's peak (tracemalloc) and the
   largest child (Apertium stage) resident set.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "the",
    "old",
    "trader",
    "walked",
    "to",
    "the",
    "market",
    "with",
    "baskets",
    "of",
    "salt",
    "and",
    "the",
    "children",
    "sang",
    "near",
    "the",
    "river",
    "while",
    "the",
    "rain",
    "came",
    "in",
    "the",
    "evening",
    "her",
    "mother",
    "counted",
    "coins",
    "at",
    "the",
    "gate",
    "a",
    "stranger",
    "opened",
    "his",
    "basket",
    "of",
    "blue",
    "cloth",
    "they",
    "waited",
    "for",
    "the",
    "caravan",
    "before",
    "dawn",
]


def chapter(words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    paragraphs, n = [], 0
    while n < words:
        size = min(80, words - n)
        body = [rng.choice(WORDS) for _ in range(size - 4)] + [
            str(rng.randint(2, 2000)),
            "Amara",
            "and",
            "Kwesi",
        ]
        rng.shuffle(body)
        paragraphs.append(" ".join(body).capitalize() + ".")
        n += size
    return "\n\n".join(paragraphs)


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def raw(text: str) -> tuple[float, float]:
    c, t = cpu(), time.perf_counter()
    subprocess.run(["apertium", "-f", "txt", "eng-spa"], input=text.encode(), capture_output=True, check=True)
    return time.perf_counter() - t, cpu() - c


class Deployment:
    """A throwaway Legato on SQLite with one published chapter per text."""

    def __init__(self, tmp: Path) -> None:
        from api.migrate import upgrade
        from api.settings import Settings
        from api.wiring import Container

        settings = Settings(
            data_dir=tmp,
            argon2_time_cost=1,
            argon2_memory_cost_kib=8,
            run_worker=False,
            jwt_secret="bench-secret-0123456789abcdef0123456789",
            max_text_chars=5_000_000,
        )
        self.c = Container(settings)
        upgrade(self.c.engine)
        with self.c.session_factory() as s, s.begin():
            self.writer = self.c.accounts.register(
                s, email="w@example.org", username="bench", password="x" * 12, role="writer"
            )

    def job(self, text: str) -> tuple[float, float]:
        from api.db import session_scope
        from content import chapters, publishing, stories

        with session_scope(self.c.session_factory) as s:
            story = stories.create_story(
                s, self.writer, {"title": "Bench", "language": "en", "status": "ongoing"}
            )
            ch = chapters.create_chapter(s, self.c.content_cipher, story, title="c", content=text)
            publishing.publish(s, self.c.content_cipher, self.c.registry, ch, story)
            # the bench text repeats: register each run as its own work, not as a copy
            writer = s.merge(self.writer)
            self.c.translations.request(s, writer, ch.id, "es")
        c, t = cpu(), time.perf_counter()
        out = self.c.translation_jobs.run_once(self.c.session_factory, limit=1)
        wall, used = time.perf_counter() - t, cpu() - c
        assert out["done"] == 1, out
        return wall, used


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from ai.translation.apertium import ApertiumTranslator
    from ai.translation.protocol import Pair

    if Pair("en", "es") not in ApertiumTranslator().pairs():
        sys.exit("apertium and apertium-eng-spa are needed (scripts/_setup.sh installs them)")
    with tempfile.TemporaryDirectory() as tmp:
        dep = Deployment(Path(tmp))
        rows = []
        for run in range(args.runs):
            text = chapter(args.words, seed=run)
            rows.append(("raw", *raw(text)))
            rows.append(("legato", *dep.job(text)))
        best = {k: min((r for r in rows if r[0] == k), key=lambda r: r[1]) for k in ("raw", "legato")}
        for k, (_, wall, used) in best.items():
            print(
                f"{k:<7} {args.words:>7} words  wall {wall:6.2f} s  {args.words / wall:8.0f} words/s  "
                f"cpu {used:6.2f} s"
            )
        overhead = best["legato"][1] / best["raw"][1] - 1
        print(f"overhead (wall, best of {args.runs}): {overhead:+.1%}  (goal ≤ +20%)")
        if args.big:
            text = chapter(args.big, seed=99)
            tracemalloc.start()
            wall, _ = dep.job(text)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(
                f"{args.big} words through Legato: {wall:.1f} s, Python peak {peak / 2**20:.1f} MiB, "
                f"largest Apertium stage {kids:.0f} MiB resident"
            )
        dep.c.close()


if __name__ == "__main__":
    main()
