"""DeepL, through DeepL's own ``deepl`` library (its ``server_url`` points it at another endpoint, which
is how the contract suite runs it against a loopback server).

Paragraphs go as one list per request (50 at most). Glossary renderings travel inside ``<x>`` with
``tag_handling="xml"`` and ``ignore_tags=["x"]``, so DeepL leaves them exactly as the writer set them.
The library's own retries are turned off (``max_network_retries = 0``): the job queue retries with its
backoff, and a worker is never stuck in a library sleep. DeepL's regional targets (``EN-GB``, ``PT-BR``)
are asked for by base language (``en`` → ``EN-GB``, ``pt`` → ``PT-PT``…) as DeepL requires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import deepl
import deepl.http_client

from ai.errors import ProviderError, ProviderUnavailable
from ai.translation import markup
from ai.translation.languages import try_normalize
from ai.translation.protocol import Pair, Segment, for_pair

MAX_BATCH = 50
_PREFERRED = {"en": "EN-GB", "pt": "PT-PT", "zh": "ZH-HANS"}


def _wrap(e: Exception) -> Exception:
    if isinstance(e, deepl.exceptions.AuthorizationException | deepl.exceptions.QuotaExceededException):
        return ProviderError(f"DeepL refused: {type(e).__name__}.")
    if isinstance(e, deepl.exceptions.TooManyRequestsException | deepl.exceptions.ConnectionException):
        return ProviderUnavailable(f"DeepL is unavailable: {type(e).__name__}.")
    status = getattr(e, "http_status_code", None)
    if status is None or status >= 500:
        return ProviderUnavailable("DeepL is unavailable.", details={"status": status})
    return ProviderError("DeepL refused the request.", details={"status": status})


class DeepLTranslator:
    name = "deepl"

    def __init__(
        self, *, auth_key: str, server_url: str | None = None, timeout_seconds: float = 30.0
    ) -> None:
        deepl.http_client.max_network_retries = 0
        deepl.http_client.min_connection_timeout = timeout_seconds
        self.client = deepl.Translator(auth_key, server_url=server_url, send_platform_info=False)
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[Pair, tuple[str | None, str]]] = (0.0, {})

    def _pairs(self) -> dict[Pair, tuple[str | None, str]]:
        with self._lock:
            at, pairs = self._cache
            if pairs and time.monotonic() - at < 60:
                return pairs
            try:
                sources = [s.code for s in self.client.get_source_languages()]
                targets = [t.code for t in self.client.get_target_languages()]
            except deepl.exceptions.DeepLException as e:
                raise _wrap(e) from e
            by_base: dict[str, str] = {}
            for code in targets:
                base = try_normalize(code)
                if base and (base not in by_base or code.upper() == _PREFERRED.get(base)):
                    by_base[base] = code
            pairs = {}
            for src in sources:
                s = try_normalize(src)
                for d, code in by_base.items():
                    if s and s != d:
                        pairs[Pair(s, d)] = (src, code)
            self._cache = (time.monotonic(), pairs)
            return pairs

    def pairs(self) -> list[Pair]:
        return sorted(self._pairs())

    def translate(
        self,
        paragraphs: Sequence[str],
        *,
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[Segment]:
        pairs = self._pairs()
        codes = for_pair(pairs, source, target, engine="DeepL")
        out: list[Segment] = []
        for start in range(0, len(paragraphs), MAX_BATCH):
            batch = [
                markup.protect(p, glossary or {}, **markup.X) for p in paragraphs[start : start + MAX_BATCH]
            ]
            try:
                results: Any = self.client.translate_text(
                    batch, source_lang=codes[0], target_lang=codes[1], tag_handling="xml", ignore_tags=["x"]
                )
            except deepl.exceptions.DeepLException as e:
                raise _wrap(e) from e
            if not isinstance(results, list) or len(results) != len(batch):
                raise ProviderError("DeepL did not return one translation per paragraph.")
            out.extend(Segment(text=markup.restore(r.text, tag="x")) for r in results)
        return out

    def health(self) -> dict[str, Any]:
        return {"engine": self.name, "pairs": len(self.pairs())}
