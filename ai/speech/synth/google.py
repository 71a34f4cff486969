"""Google Cloud Text-to-Speech over its REST API (``v1beta1``: the version that returns timepoints).

Word timings come from SSML marks: a ``<mark name="w{i}"/>`` before each word and
``enableTimePointing: ["SSML_MARK"]`` give each word's start time. Audio is requested as LINEAR16 (a
WAV container) so the job joins raw samples exactly as it does the embedded engine's. Authentication
is an API key (``x-goog-api-key``). An unreachable service, 429 and 5xx are ``SpeechUnavailable``
(the job retries); 400 is ``SpeechFailed``; 401/403 (a wrong key) are ``SpeechUnavailable`` too, so
jobs wait for the operator rather than fail for good.
"""

from __future__ import annotations

import base64
import io
import threading
import wave
from typing import Any

import httpx

from ai.errors import SpeechFailed, SpeechUnavailable, VoiceUnknown
from ai.speech.synth.protocol import MAX_RATE, MIN_RATE, Clip, Voice, WordMark
from ai.speech.synth.words import ssml_with_marks, word_spans

DEFAULT_URL = "https://texttospeech.googleapis.com"
SAMPLE_RATE = 24000


def _raise_for(response: httpx.Response) -> None:
    if response.status_code == 400:
        raise SpeechFailed("Google TTS refused the request.", details={"status": 400})
    if response.status_code >= 300:
        raise SpeechUnavailable("Google TTS is not available.", details={"status": response.status_code})


class GoogleSynthesizer:
    name = "google"

    def __init__(self, *, api_key: str, base_url: str = DEFAULT_URL, timeout: float = 30.0) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, headers={"x-goog-api-key": api_key}
        )
        self._voices: list[Voice] | None = None
        self._languages: dict[str, str] = {}
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            raise SpeechUnavailable("Google TTS cannot be reached.") from e
        _raise_for(response)
        try:
            body: dict[str, Any] = response.json()
        except ValueError as e:
            raise SpeechUnavailable("Google TTS answered with something else than JSON.") from e
        return body

    def voices(self) -> list[Voice]:
        with self._lock:
            if self._voices is None:
                found = []
                for v in self._call("GET", "/v1/voices").get("voices", [])[:5000]:
                    codes = v.get("languageCodes") or []
                    if not codes or not isinstance(v.get("name"), str):
                        continue
                    gender = str(v.get("ssmlGender", "")).lower()
                    found.append(
                        Voice(
                            v["name"],
                            v["name"],
                            str(codes[0]).lower(),
                            gender if gender in ("male", "female") else None,
                            self.name,
                        )
                    )
                    self._languages[v["name"]] = str(codes[0])
                self._voices = sorted(found, key=lambda x: x.id)
            return list(self._voices)

    def synthesize(self, text: str, *, voice: str, rate: float) -> Clip:
        if voice not in {v.id for v in self.voices()}:
            raise VoiceUnknown("Google TTS offers no such voice.", details={"voice": voice[:64]})
        if not MIN_RATE <= rate <= MAX_RATE:
            raise SpeechFailed("Rate out of bounds.", details={"rate": rate})
        body = {
            "input": {"ssml": ssml_with_marks(text, 1.0)},
            "voice": {"languageCode": self._languages[voice], "name": voice},
            "audioConfig": {
                "audioEncoding": "LINEAR16",
                "sampleRateHertz": SAMPLE_RATE,
                "speakingRate": rate,
            },
            "enableTimePointing": ["SSML_MARK"],
        }
        answer = self._call("POST", "/v1beta1/text:synthesize", json=body)
        try:
            with wave.open(io.BytesIO(base64.b64decode(answer["audioContent"]))) as w:
                if w.getsampwidth() != 2 or w.getnchannels() != 1:
                    raise SpeechFailed("Google TTS sent audio that is not 16-bit mono.")
                sample_rate, pcm = w.getframerate(), w.readframes(w.getnframes())
        except (KeyError, ValueError, EOFError, wave.Error) as e:
            raise SpeechUnavailable("Google TTS sent unreadable audio.") from e
        spans = word_spans(text)
        words = []
        for point in answer.get("timepoints", []):
            name = str(point.get("markName", ""))
            if name.startswith("w") and name[1:].isdigit() and int(name[1:]) < len(spans):
                start, length = spans[int(name[1:])]
                words.append(WordMark(start, length, round(float(point.get("timeSeconds", 0)) * 1000)))
        return Clip(pcm=pcm, sample_rate=sample_rate, words=sorted(words, key=lambda w: w.start))

    def health(self) -> dict[str, Any]:
        return {"engine": self.name, "voices": len(self.voices())}

    def close(self) -> None:
        self._client.close()
