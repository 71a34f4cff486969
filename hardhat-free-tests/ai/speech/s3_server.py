"""A loopback stand-in for an S3-compatible store (path-style, SigV4-checked, Range on GET), enough for
the ``S3MediaStore`` adapter to run its real code at the HTTP boundary."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from loopback import serving

from ai.speech.synth.sigv4 import sign

S3_KEY, S3_SECRET, S3_REGION, S3_BUCKET = "minioadmin", "minio-secret", "us-east-1", "legato-media"


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if "Content-Length" not in (headers or {}):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _signed(self) -> bool:
                payload = self.headers.get("x-amz-content-sha256", "")
                now = datetime.strptime(self.headers.get("x-amz-date", "x"), "%Y%m%dT%H%M%SZ").replace(
                    tzinfo=UTC
                )
                want = sign(
                    method=self.command,
                    host=self.headers["host"],
                    path=urlsplit(self.path).path,
                    query={},
                    headers={"x-amz-content-sha256": payload},
                    body=b"",
                    access_key=S3_KEY,
                    secret_key=S3_SECRET,
                    region=S3_REGION,
                    service="s3",
                    now=now,
                    payload_sha256=payload,
                )
                return self.headers.get("authorization") == want["Authorization"]

            def _route(self) -> None:
                if outer.down:
                    return self._send(503)
                try:
                    ok = self._signed()
                except ValueError:
                    ok = False
                if not ok:
                    return self._send(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
                parts = unquote(urlsplit(self.path).path).lstrip("/").split("/", 1)
                if parts[0] != S3_BUCKET:
                    return self._send(404)
                key = parts[1] if len(parts) > 1 else None
                if key is None:
                    return self._send(200)
                if self.command == "PUT":
                    length = int(self.headers.get("content-length") or 0)
                    data = self.rfile.read(length)
                    if hashlib.sha256(data).hexdigest() != self.headers.get("x-amz-content-sha256"):
                        return self._send(400, b"<Error><Code>XAmzContentSHA256Mismatch</Code></Error>")
                    outer.objects[key] = data
                    return self._send(200)
                if key not in outer.objects:
                    return self._send(404)
                data = outer.objects[key]
                if self.command == "DELETE":
                    del outer.objects[key]
                    return self._send(204)
                if self.command == "HEAD":
                    return self._send(200, headers={"Content-Length": str(len(data))})
                wanted = self.headers.get("range", "")
                if wanted.startswith("bytes="):
                    first, _, last = wanted[6:].partition("-")
                    start, end = int(first), (int(last) + 1 if last else len(data))
                    return self._send(
                        206, data[start:end], {"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"}
                    )
                return self._send(200, data)

            do_GET = do_PUT = do_HEAD = do_DELETE = _route

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@contextmanager
def fake_s3() -> Iterator[FakeS3]:
    server = FakeS3()
    with serving(server.httpd):
        yield server
