"""Time the JSON input guard on bodies built to be slow, next to ``json.loads`` of the same body.

    .venv/bin/python scripts/bench_inputguard.py

Goal: the guard stays linear, within a small multiple of parsing the body, for every body up to the
2 MB request limit (a quadratic scan of escaped quotes took 59 s for 40 KB before the fix).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.http.inputguard import JsonRefused, check_json_bytes

SIZE = 2_000_000
BODIES = {
    "one long string": b'{"content": "' + b"a" * SIZE + b'"}',
    "escaped quotes, unterminated": b'"' + b'\\"' * (SIZE // 2),
    "many small strings": b"[" + b'"x",' * (SIZE // 4) + b"1]",
    "many surrogate pairs": b"[" + b'"\\ud83d\\ude00",' * (SIZE // 15) + b"1]",
    "many empty arrays": b"[" + b"[]," * (SIZE // 3) + b"1]",
    "70,000 open brackets": b"[" * 70_000,
    "digits and letters": (b"1" * 20 + b"x") * (SIZE // 21),
    "16-digit numbers": b"[" + b"9007199254740991," * (SIZE // 17) + b"1]",
}


def timed(fn, body: bytes) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        fn(body)
        outcome = "ok"
    except (JsonRefused, ValueError, RecursionError) as e:
        outcome = getattr(e, "code", type(e).__name__)
    return time.perf_counter() - started, outcome


def main() -> None:
    print(f"{'body':32} {'bytes':>9} {'guard s':>8} {'loads s':>8}  guard outcome")
    for name, body in BODIES.items():
        guard, outcome = timed(check_json_bytes, body)
        parse, _ = timed(json.loads, body) if outcome == "ok" else (float("nan"), "")
        print(f"{name:32} {len(body):9d} {guard:8.3f} {parse:8.3f}  {outcome}")


if __name__ == "__main__":
    main()
