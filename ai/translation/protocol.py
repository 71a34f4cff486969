"""The ``Translator`` port: one protocol for every engine, embedded (Apertium) or remote (DeepL, Google
Cloud Translation v3, LibreTranslate, Apertium-APy).

The unit is a list of paragraphs, not a blob: the workflow aligns source and translation paragraph by
paragraph (the quality report, review, and refreshing only the paragraphs that changed all depend on
it), so an adapter returns exactly one segment per paragraph it was given, in order. Glossary terms are
passed as ``source term → target term``; each adapter keeps them by the means its engine has (native
glossaries, ``translate="no"`` markup, or placeholders the engine copies through untouched).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from ai.errors import PairUnavailable

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Pair:
    source: str  # ISO 639-1 where one exists ("en"), else the engine's code
    target: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target}


def for_pair(pairs: Mapping[Pair, T], source: str, target: str, *, engine: str) -> T:
    """What an adapter keeps for ``source → target`` (a mode, the provider's language codes), or
    ``PairUnavailable`` naming every pair the engine has, so the writer sees what to ask for instead."""
    found = pairs.get(Pair(source, target))
    if found is None:
        raise PairUnavailable(
            f"{engine} has no {source}→{target} pair.",
            details={"source": source, "target": target, "available": [p.as_dict() for p in sorted(pairs)]},
        )
    return found


@dataclass
class Segment:
    """One translated paragraph, and the source words the engine could not translate (copied as is)."""

    text: str
    unknown: list[str] = field(default_factory=list)


@runtime_checkable
class Translator(Protocol):
    name: str

    def pairs(self) -> list[Pair]:
        """The pairs this engine can translate now (an empty list: none installed or reachable)."""
        ...

    def translate(
        self,
        paragraphs: Sequence[str],
        *,
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[Segment]:
        """Exactly one segment per paragraph. Raises ``PairUnavailable``, ``ProviderUnavailable`` (try
        again later) or ``ProviderError`` (do not)."""
        ...

    def health(self) -> dict[str, Any]: ...
