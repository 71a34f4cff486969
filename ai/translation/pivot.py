"""Copies across languages: a text is translated into the registry's pivot language before the
similarity check, so a Spanish translation of an English registered work is found like a copy.

The registry declares what it needs (a callable: text → pivot text and source language, or None) and
the wiring gives it this. Only a text py3langid is confident about, in another language than the pivot,
with a pair to the pivot, is translated. An engine that is down does not block registration (the check
is skipped with a warning): the direct similarity check still runs, and refusing every publication
while a translation service is down would be worse than missing a translated copy for that time.
"""

from __future__ import annotations

import logging

from ai.errors import AiError
from ai.translation import text
from ai.translation.detect import detect_language
from ai.translation.protocol import Pair, Translator

log = logging.getLogger("legato.ai.translation")


class Pivot:
    def __init__(self, *, translator: Translator, language: str = "en") -> None:
        self.translator = translator
        self.language = language

    def __call__(self, canonical: str) -> tuple[str, str] | None:
        source, _ = detect_language(canonical)
        if source is None or source == self.language:
            return None
        try:
            if Pair(source, self.language) not in self.translator.pairs():
                return None
            segments = self.translator.translate(text.split(canonical), source=source, target=self.language)
        except AiError as e:
            log.warning("pivot translation skipped", extra={"code": e.code, "source": source})
            return None
        return text.join([s.text for s in segments]), source
