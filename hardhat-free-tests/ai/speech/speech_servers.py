"""Loopback stand-ins for Google Cloud Text-to-Speech and Amazon Polly at their HTTP boundary.

They speak the wire formats the production adapters use — SSML marks in, LINEAR16 WAV and timepoints
out (Google); SigV4-signed JSON in, raw PCM or newline-separated word marks with UTF-8 byte offsets out
(Polly) — and make "speech" of 60 ms per character divided by the rate, a quiet tone so durations and
times are predictable. ``down`` makes them answer 503, ``calls`` records what they were asked.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import struct
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loopback import serving

from ai.speech.synth.sigv4 import sign

GOOGLE_KEY = "test-google-key"
AWS_KEY, AWS_SECRET, AWS_REGION = "AKIDTEST", "secret/test/key", "eu-west-1"
MS_PER_CHAR = 60
GOOGLE_VOICES = [
    {"languageCodes": ["sw-KE"], "name": "sw-KE-Standard-A", "ssmlGender": "FEMALE"},
    {"languageCodes": ["sw-KE"], "name": "sw-KE-Standard-B", "ssmlGender": "MALE"},
    {"languageCodes": ["fr-FR"], "name": "fr-FR-Standard-A", "ssmlGender": "FEMALE"},
    {"languageCodes": ["en-US"], "name": "en-US-Standard-C", "ssmlGender": "NEUTRAL"},
]
POLLY_VOICES = [
    [
        {"Id": "Zuri", "Name": "Zuri", "LanguageCode": "sw-KE", "Gender": "Female"},
        {"Id": "Baraka", "Name": "Baraka", "LanguageCode": "sw-KE", "Gender": "Male"},
    ],
    [
        {"Id": "Lea", "Name": "Léa", "LanguageCode": "fr-FR", "Gender": "Female"},
        {"Id": "Joanna", "Name": "Joanna", "LanguageCode": "en-US", "Gender": "Female"},
    ],
]
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w[\w'’-]*")


def _tone(ms: int, rate: int) -> bytes:
    n = rate * ms // 1000
    return b"".join(struct.pack("<h", int(3000 * math.sin(i / 8))) for i in range(n))


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _speak_google(body: dict[str, Any]) -> dict[str, Any]:
    ssml, rate = body["input"]["ssml"], float(body["audioConfig"].get("speakingRate", 1.0))
    sample_rate = int(body["audioConfig"].get("sampleRateHertz", 24000))
    chars, points = 0, []
    for piece in re.split(r"(<[^>]*>)", ssml):
        m = re.fullmatch(r'<mark name="([^"]+)"/>', piece)
        if m:
            points.append({"markName": m.group(1), "timeSeconds": chars * MS_PER_CHAR / rate / 1000})
        elif not piece.startswith("<"):
            chars += len(_unescape(piece))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(_tone(round(chars * MS_PER_CHAR / rate), sample_rate))
    return {"audioContent": base64.b64encode(out.getvalue()).decode(), "timepoints": points}


def _speak_polly(body: dict[str, Any]) -> tuple[bytes, str]:
    ssml = body["Text"]
    m = re.search(r'rate="(\d+)%"', ssml)
    rate = int(m.group(1)) / 100 if m else 1.0
    text, marks, chars = "", [], 0
    for piece in re.finditer(r"<[^>]*>|[^<]+", ssml):
        if piece.group().startswith("<"):
            continue
        for w in _WORD.finditer(piece.group()):
            start = len(ssml[: piece.start() + w.start()].encode())
            end = len(ssml[: piece.start() + w.end()].encode())
            before = chars + len(_unescape(piece.group()[: w.start()]))
            marks.append(
                {
                    "time": round(before * MS_PER_CHAR / rate),
                    "type": "word",
                    "start": start,
                    "end": end,
                    "value": w.group(),
                }
            )
        chars += len(_unescape(piece.group()))
        text += piece.group()
    if body["OutputFormat"] == "json":
        return b"", "\n".join(json.dumps(x) for x in marks)
    return _tone(round(chars * MS_PER_CHAR / rate), int(body.get("SampleRate", 16000))), ""


class FakeSpeechServer:
    def __init__(self) -> None:
        self.down = False
        self.calls: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _polly_signed(self, body: bytes) -> bool:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                headers = {"content-type": self.headers["content-type"]} if body else {}
                from datetime import UTC, datetime

                now = datetime.strptime(self.headers.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(
                    tzinfo=UTC
                )
                want = sign(
                    method=self.command,
                    host=self.headers["host"],
                    path=url.path,
                    query=query,
                    headers=headers,
                    body=body,
                    access_key=AWS_KEY,
                    secret_key=AWS_SECRET,
                    region=AWS_REGION,
                    service="polly",
                    now=now,
                )
                return self.headers.get("authorization") == want["Authorization"]

            def _route(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                outer.calls.append(f"{self.command} {urlsplit(self.path).path}")
                if outer.down:
                    return self._send(503, b'{"error": "down"}')
                path = urlsplit(self.path).path
                if path in ("/v1/voices", "/v1beta1/text:synthesize") and self.headers.get("x-goog-api-key"):
                    if self.headers["x-goog-api-key"] != GOOGLE_KEY:
                        return self._send(403, b'{"error": "bad key"}')
                    if path == "/v1/voices":
                        return self._send(200, json.dumps({"voices": GOOGLE_VOICES}).encode())
                    body = json.loads(raw)
                    if not body["input"]["ssml"].startswith("<speak>"):
                        return self._send(400, b'{"error": "bad ssml"}')
                    return self._send(200, json.dumps(_speak_google(body)).encode())
                if not self._polly_signed(raw):
                    return self._send(403, b'{"message": "signature mismatch"}')
                if path == "/v1/voices":
                    token = parse_qs(urlsplit(self.path).query).get("NextToken", ["0"])[0]
                    page = int(token)
                    out = {"Voices": POLLY_VOICES[page], **({"NextToken": "1"} if page == 0 else {})}
                    return self._send(200, json.dumps(out).encode())
                if path == "/v1/speech":
                    pcm, marks = _speak_polly(json.loads(raw))
                    if marks or json.loads(raw)["OutputFormat"] == "json":
                        return self._send(200, marks.encode(), "application/x-json-stream")
                    return self._send(200, pcm, "audio/pcm")
                return self._send(404, b"{}")

            do_GET = do_POST = _route

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@contextmanager
def fake_speech_server() -> Iterator[FakeSpeechServer]:
    server = FakeSpeechServer()
    with serving(server.httpd):
        yield server
