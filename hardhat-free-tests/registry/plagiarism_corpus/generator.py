"""A seeded chapter generator and the edits a copier makes, so the test set is big and reproducible.

Chapters are built from sentence templates whose slots draw on the shared fantasy vocabulary in
``words.py``; a few stock phrases recur on purpose. Two chapters from different seeds therefore read
alike (same names, same places, same clichés) without one being copied from the other: the hard
negative case for a plagiarism detector. The same seed always yields the same text.
"""

from __future__ import annotations

import random
import re

from plagiarism_corpus import words as W

_TEMPLATES = [
    "{Name} {verb} the {adj} {noun} and {intrans} {adv}.",
    "{Time}, {name} {intrans} {prep} the {noun} of {place}.",
    "The {noun} was {adj}, {adj2} and {adj3}, like a {noun2} {prep} the {noun3}.",
    "{Name} had never seen a {noun} so {adj}; {pron} {verb} it {adv} and {intrans}.",
    "Nobody in {place} {verb} the {noun} of the {adj} {noun2} any more.",
    "\"{exclaim},\" {name} said, and {pron} {verb} the {noun} {adv}.",
    "\"{exclaim}!\" {Name} {intrans} {prep} the {adj} {noun}.",
    "{Name} and {name2} {intrans} {time} while the {noun} {intrans2} {prep} them.",
    "There was a {adj} {noun} {prep} the {noun2}, and beside it a {adj2} {noun3} that nobody {verb}.",
    "{Stock}, {name} {verb} the {noun} of {place}.",
    "It was {feeling} that {name} felt, {stock}, when the {noun} {intrans}.",
    "The {adj} {noun} {intrans} {adv}; {stock}.",
    "In {place} they say the {noun} {verb} a {adj} {noun2} {time}.",
    "{Name} {verb} the {noun} {prep} the {noun2}, {adv}, as {name2} had told {pron2} to.",
    "Beyond {place} the road {intrans} {prep} a {adj} {noun} and a {adj2} {noun2}.",
    "{Pron} thought of the {noun} in {place}, of {name2} and the {adj} {noun2}, and {intrans}.",
    "\"Where is the {noun}?\" asked {name}. \"{exclaim},\" answered {name2} {adv}.",
    "Every {noun} in the {noun2} had been {verb} by the {adj} {noun3} of {place}.",
    "{Name}'s {noun} {intrans} {adv}, {adj} with {feeling}.",
    "When the {noun} {intrans}, {name} {verb} the {adj} {noun2} {prep} the {noun3}.",
    "{Time} the {noun}s of {place} {intrans} {adv}, and the {adj} {noun2} {intrans2}.",
    "{Name} could not say why the {adj} {noun} filled {pron2} with {feeling}.",
]

_PRONOUNS = [("he", "him"), ("she", "her"), ("they", "them")]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


class ChapterWriter:
    """Writes English chapters of ~``target`` characters from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # Each chapter has a small cast and a few places, like a real chapter.
        self.cast = self.rng.sample(W.NAMES, 4)
        self.places = self.rng.sample(W.PLACES, 3)

    def _slot(self, name: str) -> str:
        r = self.rng
        lower = name.lower()
        pick = {
            "name": lambda: r.choice(self.cast), "name2": lambda: r.choice(self.cast),
            "place": lambda: r.choice(self.places), "noun": lambda: r.choice(W.NOUNS),
            "noun2": lambda: r.choice(W.NOUNS), "noun3": lambda: r.choice(W.NOUNS),
            "adj": lambda: r.choice(W.ADJECTIVES), "adj2": lambda: r.choice(W.ADJECTIVES),
            "adj3": lambda: r.choice(W.ADJECTIVES), "verb": lambda: r.choice(W.VERBS),
            "intrans": lambda: r.choice(W.INTRANSITIVE), "intrans2": lambda: r.choice(W.INTRANSITIVE),
            "adv": lambda: r.choice(W.ADVERBS), "prep": lambda: r.choice(W.PREPOSITIONS),
            "time": lambda: r.choice(W.TIMES), "feeling": lambda: r.choice(W.FEELINGS),
            "stock": lambda: r.choice(W.STOCK), "exclaim": lambda: r.choice(W.EXCLAMATIONS),
            "pron": lambda: self._pron[0], "pron2": lambda: self._pron[1],
        }[lower]()
        return _cap(pick) if name[0].isupper() else pick

    def sentence(self) -> str:
        self._pron = self.rng.choice(_PRONOUNS)
        template = self.rng.choice(_TEMPLATES)
        return re.sub(r"\{(\w+)\}", lambda m: self._slot(m.group(1)), template)

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 7)))

    def chapter(self, target: int = 10_000) -> str:
        paragraphs: list[str] = []
        while sum(len(p) + 2 for p in paragraphs) < target:
            paragraphs.append(self.paragraph())
        return "\n\n".join(paragraphs)


class ChineseWriter:
    """Writes Chinese chapters (no spaces between words) from one seed."""

    _TEMPLATES: tuple[str, ...] = (
        "{time}，{name}{verb}了那把{adj}{noun}。",
        "{name}站在{place}的{noun}旁边，{intrans}。",
        "没有人知道{adj}{noun}为什么会出现在{place}。",
        "“{name}，”{name2}{intrans}，“{noun}在哪里？”",
        "{name}{verb}{noun}，又{verb2}{adj}{noun2}，然后{intrans}。",
        "{place}的人都说，{adj}{noun}会在{time}{intrans}。",
        "{name}想起了{place}的{noun}和{name2}的{noun2}，不禁{intrans}。",
        "风从{place}吹来，{adj}{noun}轻轻摇晃，{name}{intrans}。",
    )

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.cast = self.rng.sample(W.ZH_NAMES, 4)
        self.places = self.rng.sample(W.ZH_PLACES, 3)

    def sentence(self) -> str:
        r = self.rng
        pick = {
            "name": lambda: r.choice(self.cast), "name2": lambda: r.choice(self.cast),
            "place": lambda: r.choice(self.places), "noun": lambda: r.choice(W.ZH_NOUNS),
            "noun2": lambda: r.choice(W.ZH_NOUNS), "adj": lambda: r.choice(W.ZH_ADJECTIVES),
            "verb": lambda: r.choice(W.ZH_VERBS), "verb2": lambda: r.choice(W.ZH_VERBS),
            "intrans": lambda: r.choice(W.ZH_INTRANSITIVE), "time": lambda: r.choice(W.ZH_TIMES),
        }
        return re.sub(r"\{(\w+)\}", lambda m: pick[m.group(1)](), r.choice(self._TEMPLATES))

    def chapter(self, target: int = 3_000) -> str:
        paragraphs: list[str] = []
        while sum(len(p) + 1 for p in paragraphs) < target:
            paragraphs.append("".join(self.sentence() for _ in range(self.rng.randint(3, 6))))
        return "\n".join(paragraphs)


# --- what a copier does ---------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z]+")


def paragraphs_of(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def light_edit(text: str, rng: random.Random, *, per_paragraph: tuple[int, int] = (2, 4)) -> str:
    """Change a few words in every paragraph (English: other vocabulary words; Chinese: characters)."""
    out = []
    joiner = "\n\n" if "\n\n" in text else "\n"
    pool = W.NOUNS + W.ADJECTIVES + W.VERBS
    zh_pool = "".join(W.ZH_NOUNS)
    for para in paragraphs_of(text):
        edits = rng.randint(*per_paragraph)
        words = list(_WORD.finditer(para))
        if words:
            chosen = sorted(rng.sample(range(len(words)), min(edits, len(words))), reverse=True)
            for i in chosen:
                m = words[i]
                para = para[: m.start()] + rng.choice(pool) + para[m.end() :]
        else:
            chars = list(para)
            for i in rng.sample(range(len(chars)), min(edits, len(chars))):
                chars[i] = rng.choice(zh_pool)
            para = "".join(chars)
        out.append(para)
    return joiner.join(out)


def reorder(text: str, rng: random.Random) -> str:
    paras = paragraphs_of(text)
    rng.shuffle(paras)
    return ("\n\n" if "\n\n" in text else "\n").join(paras)


def excerpt(
    text: str, rng: random.Random, share: float, *, within: tuple[float, float] = (0.0, 1.0)
) -> str:
    """A run of consecutive paragraphs holding at least ``share`` of the text's characters.

    ``within`` limits where the run may start and end (as fractions of the paragraphs), so two
    excerpts taken from different halves never overlap.
    """
    paras = paragraphs_of(text)
    lo, hi = int(within[0] * len(paras)), int(within[1] * len(paras))
    need = share * sum(len(p) for p in paras)
    length = 1
    while sum(len(p) for p in paras[lo : lo + length]) < need and lo + length < hi:
        length += 1
    start = rng.randint(lo, max(lo, hi - length))
    return ("\n\n" if "\n\n" in text else "\n").join(paras[start : start + length])


def embed(passage: str, host: str, rng: random.Random) -> str:
    """Insert a passage between two paragraphs of new material."""
    paras = paragraphs_of(host)
    at = rng.randint(1, max(1, len(paras) - 1))
    joiner = "\n\n" if "\n\n" in host else "\n"
    return joiner.join([*paras[:at], passage, *paras[at:]])
