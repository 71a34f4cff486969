#!/usr/bin/env python3
"""Time to lay out a certificate PDF page (fpdf2 + segno), cold and warm, for Latin-only names and for
names in Arabic, Ethiopic and CJK (whose fonts load only when needed; the CJK collection is large).

    scripts/bench_certificate_pdf.py [--rounds 5]

Prints milliseconds per page; the server keeps rendered pages per CID (render_pdf_cached), so a repeat
request costs a cache lookup.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry.certificate_pdf import render_pdf, render_pdf_cached


def certificate(name: str, title: str) -> bytes:
    return json.dumps({
        "id": "3f0c1c7e-0000-4000-8000-000000000000", "issued_at": "2026-12-01T01:00:00.000000Z",
        "work": {"title": title, "version": 1}, "author": {"display_name": name},
        "content": {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "length": 10241, "canonicalization": "legato-text-v1"},
        "timestamp": {"gen_time": "2026-12-01T01:00:00Z", "tsa": "embedded"},
        "anchor": {"chain_id": 4998471, "contract": "0x" + "ab" * 20, "tx_hash": "0x" + "cd" * 32,
                   "block_number": 12, "block_timestamp": 1796086800, "merkle_root": "0x" + "ef" * 32},
        "signature": {"key_id": "0cac0b86a1d2e3f4", "alg": "Ed25519"},
    }).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    cases = {
        "latin": certificate("Amina Yusuf", "Chapter 1: The Harmattan"),
        "arabic+ethiopic+cjk": certificate("أمينة يوسف · ሰላም ገብሩ · 山田 太郎", "東京 · ፍቅር · القصيدة"),
    }
    for label, body in cases.items():
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            render_pdf(body, cid="bafkreiexample", public_url="https://legato.example")
            times.append((time.perf_counter() - start) * 1000)
        render_pdf_cached(body, "bafkreiexample", "https://legato.example")
        start = time.perf_counter()
        render_pdf_cached(body, "bafkreiexample", "https://legato.example")
        cached = (time.perf_counter() - start) * 1000
        median = statistics.median(times)
        print(f"{label:<22} first {times[0]:7.0f} ms  median of {args.rounds} {median:7.0f} ms"
              f"  cached {cached:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
