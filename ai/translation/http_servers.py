"""Self-hosted translation servers over HTTP: LibreTranslate and Apertium-APy.

* **LibreTranslate** (``GET /languages``, ``POST /translate`` with ``q`` as a list, ``format=html`` so
  glossary renderings in ``<span translate="no">`` pass untouched, optional ``api_key``).
* **Apertium-APy** (``GET /listPairs``, ``POST /translate`` with ``langpair=eng|spa`` and
  ``markUnknown=yes``): the same engine as the embedded default, run as a service; unknown words come
  back marked and glossary terms travel as placeholders exactly as with the local binary.

Both are asked for their pairs at most once a minute. Timeouts, refused connections, 429 and 5xx
are ``TRANSLATION_PROVIDER_UNAVAILABLE`` (the job retries later); other refusals and malformed answers
are ``TRANSLATION_PROVIDER_ERROR``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ai.errors import ProviderError, ProviderUnavailable
from ai.translation import markup, placeholders, text
from ai.translation.languages import try_normalize
from ai.translation.protocol import Pair, Segment, for_pair

PAIRS_TTL_SECONDS = 60.0
MAX_BATCH = 50  # paragraphs per request


def call(client: httpx.Client, method: str, url: str, name: str, **kw: Any) -> Any:
    """One request; errors sorted into try-again-later and will-not-work. Returns the JSON answer."""
    try:
        response = client.request(method, url, **kw)
    except httpx.HTTPError as e:
        raise ProviderUnavailable(f"{name} cannot be reached.", details={"error": type(e).__name__}) from e
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderUnavailable(f"{name} is unavailable.", details={"status": response.status_code})
    if response.status_code >= 400:
        raise ProviderError(
            f"{name} refused the request.",
            details={"status": response.status_code, "body": response.text[:300]},
        )
    try:
        return response.json()
    except ValueError as e:
        raise ProviderError(f"{name} answered with something other than JSON.") from e


class _Cached:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = 0.0
        self._value: dict[Pair, tuple[str, str]] = {}

    def get(self, load: Any) -> dict[Pair, tuple[str, str]]:
        with self._lock:
            if time.monotonic() - self._at > PAIRS_TTL_SECONDS or not self._value:
                self._value, self._at = load(), time.monotonic()
            return self._value


def _pair_map(raw: list[tuple[str, str]]) -> dict[Pair, tuple[str, str]]:
    out: dict[Pair, tuple[str, str]] = {}
    for src, dst in raw:
        s, d = try_normalize(src), try_normalize(dst)
        if s and d and s != d:
            out.setdefault(Pair(s, d), (src, dst))
    return out


class _HttpTranslator:
    name = "http"

    def __init__(self, *, url: str, timeout_seconds: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(timeout=timeout_seconds)
        self._pairs = _Cached()

    def _load_pairs(self) -> dict[Pair, tuple[str, str]]:
        raise NotImplementedError

    def _codes(self, source: str, target: str) -> tuple[str, str]:
        pairs = self._pairs.get(self._load_pairs)
        codes = for_pair(pairs, source, target, engine=self.name)
        return codes

    def pairs(self) -> list[Pair]:
        return sorted(self._pairs.get(self._load_pairs))

    def health(self) -> dict[str, Any]:
        return {"engine": self.name, "url": self.url, "pairs": len(self.pairs())}

    def close(self) -> None:
        self.client.close()


class LibreTranslateTranslator(_HttpTranslator):
    name = "libretranslate"

    def __init__(self, *, url: str, api_key: str | None = None, timeout_seconds: float = 30.0) -> None:
        super().__init__(url=url, timeout_seconds=timeout_seconds)
        self.api_key = api_key

    def _load_pairs(self) -> dict[Pair, tuple[str, str]]:
        langs = call(self.client, "GET", f"{self.url}/languages", self.name)
        try:
            return _pair_map([(lang["code"], t) for lang in langs for t in lang.get("targets", [])])
        except (TypeError, KeyError) as e:
            raise ProviderError("LibreTranslate's language list is malformed.") from e

    def translate(
        self,
        paragraphs: Sequence[str],
        *,
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[Segment]:
        src, dst = self._codes(source, target)
        out: list[Segment] = []
        for start in range(0, len(paragraphs), MAX_BATCH):
            batch = [
                markup.protect(p, glossary or {}, **markup.SPAN)
                for p in paragraphs[start : start + MAX_BATCH]
            ]
            body: dict[str, Any] = {"q": batch, "source": src, "target": dst, "format": "html"}
            if self.api_key:
                body["api_key"] = self.api_key
            answer = call(self.client, "POST", f"{self.url}/translate", self.name, json=body)
            texts = answer.get("translatedText") if isinstance(answer, dict) else None
            if not isinstance(texts, list) or len(texts) != len(batch):
                raise ProviderError("LibreTranslate did not return one translation per paragraph.")
            out.extend(Segment(text=markup.restore(str(t), tag="span")) for t in texts)
        return out


class ApertiumApyTranslator(_HttpTranslator):
    name = "apertium-apy"

    def _load_pairs(self) -> dict[Pair, tuple[str, str]]:
        answer = call(self.client, "GET", f"{self.url}/listPairs", self.name)
        try:
            data = answer["responseData"]
            return _pair_map([(p["sourceLanguage"], p["targetLanguage"]) for p in data])
        except (TypeError, KeyError) as e:
            raise ProviderError("Apertium-APy's pair list is malformed.") from e

    def translate(
        self,
        paragraphs: Sequence[str],
        *,
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[Segment]:
        src, dst = self._codes(source, target)
        out: list[Segment] = []
        for original in paragraphs:  # APy translates one text per request
            protected, codes = placeholders.protect(original, glossary or {})
            answer = call(
                self.client,
                "POST",
                f"{self.url}/translate",
                self.name,
                data={"q": protected, "langpair": f"{src}|{dst}", "markUnknown": "yes"},
            )
            try:
                translated = str(answer["responseData"]["translatedText"])
            except (TypeError, KeyError) as e:
                raise ProviderError("Apertium-APy's answer is malformed.") from e
            clean, unknown = text.strip_marks(original, translated)
            unknown = [w for w in unknown if not w.startswith(placeholders.PREFIX)]
            out.append(Segment(text=placeholders.restore(clean, codes).strip(), unknown=unknown))
        return out
