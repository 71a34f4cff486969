"""Google Cloud Translation v3 over its REST API (``projects/{project}/locations/global:translateText``).

Authenticated with a bearer token (an OAuth access token the operator mints, e.g. from a service
account; ``LEGATO_TRANSLATION_API_KEY``). Paragraphs go as ``contents`` (at most 50 per request), as
``text/html`` so glossary renderings in ``<span translate="no">`` pass untouched. ``endpoint`` points
elsewhere than ``https://translation.googleapis.com`` (the contract suite's loopback server).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ai.errors import ProviderError
from ai.translation import markup
from ai.translation.http_servers import _Cached, call
from ai.translation.languages import try_normalize
from ai.translation.protocol import Pair, Segment, for_pair

DEFAULT_ENDPOINT = "https://translation.googleapis.com"
MAX_BATCH = 50


class GoogleTranslator:
    name = "google"

    def __init__(
        self, *, project: str, token: str, endpoint: str | None = None, timeout_seconds: float = 30.0
    ) -> None:
        self.base = f"{(endpoint or DEFAULT_ENDPOINT).rstrip('/')}/v3/projects/{project}/locations/global"
        self.client = httpx.Client(timeout=timeout_seconds, headers={"Authorization": f"Bearer {token}"})
        self._pairs = _Cached()

    def _load_pairs(self) -> dict[Pair, tuple[str, str]]:
        answer = call(self.client, "GET", f"{self.base}/supportedLanguages", self.name)
        try:
            langs = answer["languages"]
            sources = [lang["languageCode"] for lang in langs if lang.get("supportSource")]
            targets = [lang["languageCode"] for lang in langs if lang.get("supportTarget")]
        except (TypeError, KeyError) as e:
            raise ProviderError("Google's language list is malformed.") from e
        out: dict[Pair, tuple[str, str]] = {}
        for src in sources:
            for dst in targets:
                s, d = try_normalize(src), try_normalize(dst)
                if s and d and s != d:
                    out.setdefault(Pair(s, d), (src, dst))
        return out

    def pairs(self) -> list[Pair]:
        return sorted(self._pairs.get(self._load_pairs))

    def translate(
        self,
        paragraphs: Sequence[str],
        *,
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[Segment]:
        pairs = self._pairs.get(self._load_pairs)
        codes = for_pair(pairs, source, target, engine="Google")
        out: list[Segment] = []
        for start in range(0, len(paragraphs), MAX_BATCH):
            batch = [
                markup.protect(p, glossary or {}, **markup.SPAN)
                for p in paragraphs[start : start + MAX_BATCH]
            ]
            answer = call(
                self.client,
                "POST",
                f"{self.base}:translateText",
                self.name,
                json={
                    "contents": batch,
                    "sourceLanguageCode": codes[0],
                    "targetLanguageCode": codes[1],
                    "mimeType": "text/html",
                },
            )
            texts = answer.get("translations") if isinstance(answer, dict) else None
            if not isinstance(texts, list) or len(texts) != len(batch):
                raise ProviderError("Google did not return one translation per paragraph.")
            try:
                out.extend(Segment(text=markup.restore(str(t["translatedText"]), tag="span")) for t in texts)
            except (TypeError, KeyError) as e:
                raise ProviderError("Google's answer is malformed.") from e
        return out

    def health(self) -> dict[str, Any]:
        return {"engine": self.name, "pairs": len(self.pairs())}

    def close(self) -> None:
        self.client.close()
