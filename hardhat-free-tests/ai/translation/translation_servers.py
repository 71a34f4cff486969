"""Loopback stand-ins for the translation providers, speaking each one's real HTTP protocol, so the
production adapters run their real code up to the socket (no public network, ever).

They "translate" English to Spanish word by word from a small dictionary, copy unknown words (APy
marks them ``*word`` when asked), leave protected markup untouched (``<span translate="no">``;
DeepL's ``ignore_tags``), and can be told to fail (``server.fail = 500`` / ``403``) or to check a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from loopback import serving

WORDS = {
    "the": "el",
    "market": "mercado",
    "salt": "sal",
    "walked": "caminó",
    "to": "a",
    "with": "con",
    "baskets": "cestas",
    "of": "de",
    "coins": "monedas",
    "counted": "contó",
    "old": "viejo",
    "trader": "comerciante",
    "and": "y",
    "whispered": "susurró",
    "a": "un",
    "secret": "secreto",
    "rain": "lluvia",
    "came": "vino",
    "in": "en",
    "evening": "tarde",
    "river": "río",
}
KEY = "test-key-0123"


def toy_translate(text: str, *, protected: str | None = None, mark_unknown: bool = False) -> str:
    parts = re.split(f"({protected})", text, flags=re.S) if protected else [text]
    out = []
    for i, part in enumerate(parts):
        if protected and i % 2 == 1:
            out.append(part)
            continue

        def word(m: re.Match[str]) -> str:
            w = m.group(0)
            if w.isdigit() or w.startswith("zzqgl"):
                return ("*" + w) if mark_unknown and w.startswith("zzqgl") else w
            t = WORDS.get(w.lower())
            if t is None:
                return ("*" + w) if mark_unknown else w
            return t.capitalize() if w[0].isupper() else t

        out.append(re.sub(r"(?<![<&/#\w])\w+(?![^<]*>)", word, part))
    return "".join(out)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "json" in (self.headers.get("Content-Type") or ""):
            return json.loads(raw or b"{}")
        return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(raw.decode()).items()}

    def _handle(self, method: str) -> None:
        self.server.requests.append((method, self.path))
        if self.server.fail:
            return self._send(self.server.fail, {"error": "forced"})
        url = urlparse(self.path)
        body = self._body() if method == "POST" else {}
        status, answer = self.server.route(self, method, url.path, parse_qs(url.query), body)
        self._send(status, answer)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


def libretranslate(handler: Any, method: str, path: str, query: Any, body: dict[str, Any]) -> tuple[int, Any]:
    if path == "/languages":
        return 200, [
            {"code": "en", "name": "English", "targets": ["es", "fr"]},
            {"code": "es", "name": "Spanish", "targets": ["en"]},
        ]
    if path == "/translate" and method == "POST":
        q = body["q"] if isinstance(body["q"], list) else [body["q"]]
        span = r'<span translate="no">.*?</span>' if body.get("format") == "html" else None
        return 200, {"translatedText": [toy_translate(t, protected=span) for t in q]}
    return 404, {"error": "not found"}


def apy(handler: Any, method: str, path: str, query: Any, body: dict[str, Any]) -> tuple[int, Any]:
    if path == "/listPairs":
        return 200, {
            "responseData": [
                {"sourceLanguage": "eng", "targetLanguage": "spa"},
                {"sourceLanguage": "spa", "targetLanguage": "eng"},
            ],
            "responseStatus": 200,
        }
    if path == "/translate":
        if body.get("langpair") != "eng|spa":
            return 400, {"status": "error", "message": "That pair is not installed"}
        text = toy_translate(body.get("q", ""), mark_unknown=body.get("markUnknown") == "yes")
        return 200, {"responseData": {"translatedText": text}, "responseStatus": 200}
    return 404, {}


def deepl_api(handler: Any, method: str, path: str, query: Any, body: dict[str, Any]) -> tuple[int, Any]:
    if handler.headers.get("Authorization") != f"DeepL-Auth-Key {KEY}":
        return 403, {"message": "Wrong auth key"}
    if path == "/v2/languages":
        if query.get("type") == ["target"] or body.get("type") == "target":
            return 200, [
                {"language": "ES", "name": "Spanish"},
                {"language": "EN-GB", "name": "English (British)"},
                {"language": "EN-US", "name": "English (American)"},
            ]
        return 200, [{"language": "EN", "name": "English"}, {"language": "ES", "name": "Spanish"}]
    if path == "/v2/translate":
        texts = body["text"] if isinstance(body["text"], list) else [body["text"]]
        ignore = body.get("ignore_tags") or []
        ignore = ignore if isinstance(ignore, list) else [ignore]
        tag = ignore[0] if ignore else None
        protected = f"<{tag}>.*?</{tag}>" if tag and body.get("tag_handling") == "xml" else None
        return 200, {
            "translations": [
                {
                    "detected_source_language": "EN",
                    "text": toy_translate(t, protected=protected),
                    "billed_characters": len(t),
                }
                for t in texts
            ]
        }
    return 404, {}


def google(handler: Any, method: str, path: str, query: Any, body: dict[str, Any]) -> tuple[int, Any]:
    if handler.headers.get("Authorization") != f"Bearer {KEY}":
        return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials."}}
    base = "/v3/projects/legato-test/locations/global"
    if path == f"{base}/supportedLanguages":
        return 200, {
            "languages": [
                {"languageCode": "en", "supportSource": True, "supportTarget": True},
                {"languageCode": "es", "supportSource": True, "supportTarget": True},
                {"languageCode": "pt-BR", "supportSource": False, "supportTarget": True},
            ]
        }
    if path == f"{base}:translateText" and method == "POST":
        span = r'<span translate="no">.*?</span>' if body.get("mimeType") == "text/html" else None
        return 200, {
            "translations": [{"translatedText": toy_translate(t, protected=span)} for t in body["contents"]]
        }
    return 404, {"error": {"code": 404}}


ROUTES = {"libretranslate": libretranslate, "apertium-apy": apy, "deepl": deepl_api, "google": google}


@contextmanager
def serve(kind: str) -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.route, server.fail, server.requests = ROUTES[kind], 0, []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield server
