"""Against a real uvicorn process: hostile input leaves it answering, a 500 leaves the connection open.

In-process test clients cannot show either: a C stack overflow kills the whole process (the test run
with it), and a dropped keep-alive connection is a transport matter the ASGI test client never sees.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SERVER = Path(__file__).with_name("hostile_server.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen]]:
    port = _free_port()
    log = tmp_path_factory.mktemp("hostile-server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(SERVER), str(port), str(tmp_path_factory.mktemp("hostile-data"))],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited {proc.returncode}: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not start: {log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _local_port(response: httpx.Response) -> int:
    """The client side of the TCP connection that carried ``response``: equal ports, same connection."""
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


@pytest.mark.parametrize("path, body", [
    ("/auth/login", b"[" * 70_000),
    ("/auth/login", b"{" * 500_000),
    ("/registry/verify", b'{"certificate": "' + b"[" * 200_000 + b'"}'),
])
def test_deep_json_leaves_the_server_answering(server, path, body):
    base, proc = server
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "JSON_TOO_DEEP", r.text
        assert c.get("/health").status_code == 200
    assert proc.poll() is None


def test_a_500_is_an_envelope_and_the_keep_alive_connection_survives(server):
    base, proc = server
    with httpx.Client(base_url=base, timeout=30) as c:
        first = c.get("/health")
        r = c.get("/__test/fault")
        assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL_ERROR"
        assert "injected fault" not in r.text
        assert r.headers.get("connection", "").lower() != "close"
        after = c.get("/health")
        assert after.status_code == 200
        assert _local_port(first) == _local_port(r) == _local_port(after)
    assert proc.poll() is None
