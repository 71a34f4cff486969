"""Glossary terms through engines that translate markup: the writer's rendering goes in an element
the engine is told to leave alone, and the markup comes off afterwards.

Google Cloud Translation and LibreTranslate skip ``<span translate="no">``; DeepL skips the tags named
in ``ignore_tags`` (we use ``<x>``). The rest of the paragraph is escaped so a ``<`` in a story is text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from ai.translation.placeholders import term_pattern


def protect(paragraph: str, glossary: Mapping[str, str], *, open_tag: str, close_tag: str) -> str:
    pattern = term_pattern(list(glossary))
    if pattern is None:
        return html.escape(paragraph, quote=False)
    out, last = [], 0
    for m in pattern.finditer(paragraph):
        out.append(html.escape(paragraph[last : m.start()], quote=False))
        out.append(f"{open_tag}{html.escape(glossary[m.group(1)], quote=False)}{close_tag}")
        last = m.end()
    out.append(html.escape(paragraph[last:], quote=False))
    return "".join(out)


def restore(output: str, *, tag: str) -> str:
    """The engine's markup answer as plain text: the protecting tags dropped, entities decoded."""
    output = re.sub(rf"</?{tag}(?:\s[^>]*)?>", "", output)
    return html.unescape(output).strip()


SPAN = {"open_tag": '<span translate="no">', "close_tag": "</span>"}
X = {"open_tag": "<x>", "close_tag": "</x>"}
