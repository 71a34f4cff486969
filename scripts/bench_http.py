#!/usr/bin/env python3
"""HTTP load benchmark: chapter reads on ``legato serve`` (SQLite and PostgreSQL) beside a bare app.

Each server is a real subprocess on a free loopback port with a fresh data dir (and, for PostgreSQL, a
fresh database it drops afterwards). One published free 10 KB chapter is created over the API, then
``wrk`` (Debian package ``wrk``; ``scripts/_setup.sh`` installs it) reads
``GET /stories/{sid}/chapters/{cid}`` for a fixed duration at each connection count. The bare app is
uvicorn + FastAPI returning the same response bytes from memory, the ceiling for this machine.

    ./scripts/bench_http.py                       # sqlite, postgresql, bare at 4, 64, 256, 1024
    ./scripts/bench_http.py --backends sqlite --levels 64 --duration 3
    ./scripts/bench_http.py --workers 2           # PostgreSQL with two uvicorn processes

The load generator runs on the same cores as the server, so every figure is a lower bound; the ratio to
the bare app, measured in the same run, is the figure to compare across machines. The PostgreSQL URL is
``--pg-url`` or ``LEGATO_BENCH_DATABASE_URL`` (default the local ``postgres`` superuser), which must be
allowed to create databases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

BARE_APP = """
import sys
from fastapi import FastAPI, Response
import uvicorn
body = open(sys.argv[2], "rb").read()
app = FastAPI()
@app.get("/stories/{sid}/chapters/{cid}")
def chapter(sid: str, cid: str) -> Response:
    return Response(body, media_type="application/json")
@app.get("/health")
def health() -> dict:
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
"""


@dataclass
class Level:
    server: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, body: object = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise SystemExit("server not healthy in time")


def chapter_text(size: int = 10_000) -> str:
    """Random words, so the plagiarism check never sees two runs' chapters as copies."""
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < size:
        words.append(secrets.token_hex(secrets.randbelow(4) + 2))
    return " ".join(words)[:size]


def seed(base: str) -> tuple[str, str]:
    """A writer, a story, one published free chapter; returns the chapter's path."""
    name = "bench" + secrets.token_hex(4)
    password = secrets.token_urlsafe(16)
    call(base, "POST", "/auth/register",
         {"email": f"{name}@example.com", "username": name, "password": password, "role": "writer"})
    token = call(base, "POST", "/auth/login", {"email": name, "password": password})["access_token"]
    story = call(base, "POST", "/stories", {"title": "Load"}, token)
    chapter = call(base, "POST", f"/stories/{story['id']}/chapters",
                   {"title": "One", "content": chapter_text()}, token)
    call(base, "POST", f"/chapters/{chapter['id']}/publish", None, token)
    return f"/stories/{story['id']}/chapters/{chapter['id']}", token


def fetch(base: str, path: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(base + path, timeout=30) as r:
        return r.read(), r.headers.get("ETag")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(url: str, connections: int, duration: float, headers: list[str]) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s", "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 60)
    out = done.stdout
    if "Requests/sec" not in out:
        raise SystemExit(f"wrk failed: {done.stderr or out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return {"rps": rps, "requests": total, "p50": _ms(p.get("50", "nan")), "p99": _ms(p.get("99", "nan")),
            "errors": errors}


class Server:
    def __init__(self, name: str, cmd: Callable[[int], list[str]], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(cmd(self.port), env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=ROOT)
        wait_healthy(self.base, self.proc)

    def stop(self) -> float:
        """SIGTERM; returns how long the process took to exit (killed after 30 s)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        return time.monotonic() - started

    def server_errors(self) -> int:
        return len(re.findall(rb'"status": 5\d\d', self.log.read_bytes()))


def legato_server(name: str, workdir: Path, database_url: str | None, workers: int) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    env["LEGATO_DATA_DIR"] = str(workdir / name)
    if database_url:
        env["LEGATO_DATABASE_URL"] = database_url
    extra = ["--workers", str(workers)] if workers > 1 else []
    return Server(name, lambda port: [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *extra],
                  env, workdir / f"{name}.log")


def pg_database(admin_url: str, name: str, *, create: bool) -> str:
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drain(server: Server, path: str, headers: list[str]) -> None:
    """Wait until the server answers again, so one run's backlog does not count against the next."""
    req = urllib.request.Request(server.base + path)
    for h in headers:
        name, _, value = h.partition(": ")
        req.add_header(name, value)
    with contextlib.suppress(urllib.error.HTTPError):  # a 304 is an answer too
        urllib.request.urlopen(req, timeout=120).read()


def bench(server: Server, path: str, n: int, duration: float, headers: list[str], label: str) -> Level:
    r = run_wrk(server.base + path, n, duration, headers)
    drain(server, path, headers)
    print(f"  {label:<22} {n:>5} conns  {r['rps']:>8.0f} req/s  p50 {r['p50']:>7.1f} ms  "
          f"p99 {r['p99']:>7.1f} ms  errors {r['errors']}", file=sys.stderr, flush=True)
    return Level(label, n, r["rps"], r["p50"], r["p99"], r["errors"], r["requests"])


def table(rows: list[Level], bare_best: dict[int, float]) -> str:
    out = ["| server | conns | req/s | p50 ms | p99 ms | errors | vs bare |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = r.requests_per_s / bare_best[r.connections] if bare_best.get(r.connections) else float("nan")
        out.append(f"| {r.server} | {r.connections} | {r.requests_per_s:.0f} | {r.p50_ms:.1f} | "
                   f"{r.p99_ms:.1f} | {r.errors} | {ratio:.0%} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="sqlite,postgresql,bare")
    ap.add_argument("--levels", default="4,64,256,1024")
    ap.add_argument("--duration", type=float, default=5.0, help="Seconds per level.")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn processes (PostgreSQL only).")
    ap.add_argument("--pg-url", default=os.environ.get("LEGATO_BENCH_DATABASE_URL", DEFAULT_PG))
    ap.add_argument("--revalidate", action="store_true",
                    help="Also measure reads that send If-None-Match (304 answers).")
    ap.add_argument("--json", type=Path, help="Write the rows here as JSON as well.")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (scripts/_setup.sh does it as root)", file=sys.stderr)
        return 2
    levels = [int(x) for x in args.levels.split(",")]
    backends = args.backends.split(",")
    rows: list[Level] = []
    # (label, server, path, extra headers); all servers run at once and each level visits every one
    # of them in turn, so a neighbour's load on the machine hits them alike.
    targets: list[tuple[str, Server, str, list[str]]] = []
    databases: list[str] = []
    stops: dict[str, float] = {}
    errors_in_log: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="legato-bench-") as tmp:
        work = Path(tmp)
        try:
            body = None
            for backend in [b for b in backends if b != "bare"]:
                url = None
                if backend == "postgresql":
                    databases.append(f"legato_bench_{os.getpid()}")
                    url = pg_database(args.pg_url, databases[-1], create=True)
                workers = args.workers if backend == "postgresql" else 1
                label = backend if workers == 1 else f"{backend} x{workers}"
                print(f"{label}: starting", file=sys.stderr, flush=True)
                server = legato_server(backend, work, url, workers)
                path, token = seed(server.base)
                targets.append((label, server, path, []))
                # The author's own read: never cached, so every request runs the route and the database.
                targets.append((f"{label} (token)", server, path, [f"Authorization: Bearer {token}"]))
                body, etag = fetch(server.base, path)
                if args.revalidate and etag:
                    targets.append((f"{label} (304)", server, path, [f"If-None-Match: {etag}"]))
            if "bare" in backends:
                body_file = work / "body.json"
                body_file.write_bytes(body or json.dumps({"content": chapter_text()}).encode())
                print("bare: starting", file=sys.stderr, flush=True)
                server = Server(
                    "bare", lambda port: [sys.executable, "-c", BARE_APP, str(port), str(body_file)],
                    dict(os.environ), work / "bare.log",
                )
                targets.append(("bare FastAPI", server, "/stories/x/chapters/y", []))
            for n in levels:
                for label, server, path, headers in targets:
                    rows.append(bench(server, path, n, args.duration, headers, label))
        finally:
            for label, server, _, _headers in targets:
                if server.proc.poll() is None:
                    stops[label] = server.stop()
                    errors_in_log[label] = server.server_errors()
            for name in databases:
                pg_database(args.pg_url, name, create=False)
    bare = {r.connections: r.requests_per_s for r in rows if r.server == "bare FastAPI"}
    print(table(rows, bare))
    print("\nSIGTERM to exit after the run: " + ", ".join(f"{k} {v:.1f} s" for k, v in stops.items()))
    print("5xx lines in the server logs: " + ", ".join(f"{k} {v}" for k, v in errors_in_log.items()))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
