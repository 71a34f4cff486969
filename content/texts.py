"""A chapter's text at rest: sealed with the content cipher under its row's associated data, and counted
in words as it is sealed.

Both the chapter edits (:mod:`content.chapters`) and publishing (:mod:`content.publishing`) read and
replace texts, and chapter edits hand published text to publishing; keeping the sealing here lets both
import it without importing each other.

Reading time assumes 238 words per minute, the mean silent reading rate for adults in English
(Brysbaert, 2019, *Journal of Memory and Language* 109), rounded up to whole minutes.
"""

from __future__ import annotations

import math
import re

from content.crypto import ContentCipher, Sealed, chapter_aad, version_aad
from content.models.stories import Chapter, ChapterVersion

WORDS_PER_MINUTE = 238
_WORD = re.compile(r"\w+(?:['’.-]\w+)*")


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def reading_minutes(word_count: int) -> int:
    return math.ceil(word_count / WORDS_PER_MINUTE) if word_count > 0 else 0


def seal_text(cipher: ContentCipher, chapter: Chapter, text: str) -> None:
    """Store ``text`` as the chapter's body under its current revision, and its word count."""
    sealed = cipher.seal(text, chapter_aad(chapter.id, chapter.revision))
    chapter.key_id, chapter.body_enc = sealed.key_id, sealed.blob
    chapter.word_count = count_words(text)


def replace_text(cipher: ContentCipher, chapter: Chapter, text: str) -> None:
    """New text under a new revision, so the old ciphertext no longer opens in this row."""
    chapter.revision += 1
    seal_text(cipher, chapter, text)


def chapter_text(cipher: ContentCipher, chapter: Chapter) -> str:
    return cipher.open(Sealed(chapter.key_id, chapter.body_enc), chapter_aad(chapter.id, chapter.revision))


def version_text(cipher: ContentCipher, version: ChapterVersion) -> str:
    sealed = Sealed(version.key_id, version.body_enc)
    return cipher.open(sealed, version_aad(version.chapter_id, version.version))
