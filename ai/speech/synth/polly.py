"""Amazon Polly over its REST API, signed with SigV4 (``sigv4.py``).

Two calls per sentence: ``OutputFormat=pcm`` (16 kHz signed 16-bit mono, no container) for the audio,
and ``OutputFormat=json`` with ``SpeechMarkTypes=["word"]`` for the word marks, newline-separated JSON
objects whose ``start`` is a byte offset into the SSML that was sent; ``ssml_char_index`` maps it back
to a character of the sentence. Errors as for Google: unreachable, throttled (429, 400
``ThrottlingException``) or 5xx → ``SpeechUnavailable``; other 400s → ``SpeechFailed``.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ai.errors import SpeechFailed, SpeechUnavailable, VoiceUnknown
from ai.speech.synth.protocol import MAX_RATE, MIN_RATE, Clip, Voice, WordMark
from ai.speech.synth.sigv4 import sign
from ai.speech.synth.words import ssml_char_index

SAMPLE_RATE = 16000


class PollySynthesizer:
    name = "polly"

    def __init__(
        self,
        *,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        endpoint: str | None = None,
        engine: str = "standard",
        timeout: float = 30.0,
    ) -> None:
        self._endpoint = (endpoint or f"https://polly.{region}.amazonaws.com").rstrip("/")
        self._host = urlsplit(self._endpoint).netloc
        self._region, self._key, self._secret, self._engine = region, access_key_id, secret_access_key, engine
        self._client = httpx.Client(timeout=timeout)
        self._voices: list[Voice] | None = None
        self._lock = threading.Lock()

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"content-type": "application/json"} if body is not None else {}
        headers.update(
            sign(
                method=method,
                host=self._host,
                path=path,
                query=query or {},
                headers=headers,
                body=data,
                access_key=self._key,
                secret_key=self._secret,
                region=self._region,
                service="polly",
                now=datetime.now(UTC),
            )
        )
        try:
            response = self._client.request(
                method, self._endpoint + path, params=query, content=data, headers=headers
            )
        except httpx.HTTPError as e:
            raise SpeechUnavailable("Polly cannot be reached.") from e
        throttled = response.status_code == 400 and b"Throttling" in response.content[:500]
        if response.status_code == 400 and not throttled:
            raise SpeechFailed("Polly refused the request.", details={"status": 400})
        if response.status_code >= 300 or throttled:
            raise SpeechUnavailable("Polly is not available.", details={"status": response.status_code})
        return response

    def voices(self) -> list[Voice]:
        with self._lock:
            if self._voices is None:
                found, token = [], None
                for _page in range(50):
                    query = {"Engine": self._engine, **({"NextToken": token} if token else {})}
                    try:
                        page = self._call("GET", "/v1/voices", query=query).json()
                    except ValueError as e:
                        raise SpeechUnavailable("Polly answered with something else than JSON.") from e
                    for v in page.get("Voices", []):
                        if isinstance(v.get("Id"), str) and isinstance(v.get("LanguageCode"), str):
                            gender = str(v.get("Gender", "")).lower()
                            found.append(
                                Voice(
                                    v["Id"],
                                    str(v.get("Name", v["Id"])),
                                    v["LanguageCode"].lower(),
                                    gender if gender in ("male", "female") else None,
                                    self.name,
                                )
                            )
                    token = page.get("NextToken")
                    if not token:
                        break
                self._voices = sorted(found, key=lambda x: x.id)
            return list(self._voices)

    def synthesize(self, text: str, *, voice: str, rate: float) -> Clip:
        if voice not in {v.id for v in self.voices()}:
            raise VoiceUnknown("Polly offers no such voice.", details={"voice": voice[:64]})
        if not MIN_RATE <= rate <= MAX_RATE:
            raise SpeechFailed("Rate out of bounds.", details={"rate": rate})
        ssml, index = ssml_char_index(text, rate)
        base = {
            "Text": ssml,
            "TextType": "ssml",
            "VoiceId": voice,
            "Engine": self._engine,
            "SampleRate": str(SAMPLE_RATE),
        }
        pcm = self._call("POST", "/v1/speech", body={**base, "OutputFormat": "pcm"}).content
        marks = self._call(
            "POST", "/v1/speech", body={**base, "OutputFormat": "json", "SpeechMarkTypes": ["word"]}
        ).text
        words = []
        for line in marks.splitlines()[:100_000]:
            try:
                mark = json.loads(line)
                start, end, ms = int(mark["start"]), int(mark["end"]), int(mark["time"])
            except (ValueError, KeyError, TypeError):
                continue
            if mark.get("type") != "word" or not 0 <= start < end <= len(index) or index[start] < 0:
                continue
            first, last = index[start], index[end - 1]
            words.append(WordMark(first, last - first + 1, ms))
        return Clip(pcm=pcm[: len(pcm) // 2 * 2], sample_rate=SAMPLE_RATE, words=words)

    def health(self) -> dict[str, Any]:
        return {"engine": self.name, "voices": len(self.voices())}

    def close(self) -> None:
        self._client.close()
