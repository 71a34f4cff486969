"""Each story's glossary: names and terms the writer wants rendered one way (or kept as written).

Bounded (500 terms of at most 100 characters, renderings likewise), stored as one row per story.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ai.errors import InvalidRequest
from ai.translation.languages import normalize
from ai.translation.models import StoryGlossary

MAX_TERMS = 500
MAX_TERM_CHARS = 100


def get_terms(session: Session, story_id: str) -> list[dict[str, Any]]:
    row = session.get(StoryGlossary, story_id)
    return list(row.terms) if row is not None else []


def glossary_for(session: Session, story_id: str, language: str) -> dict[str, str]:
    """``term → rendering`` for one target language (the term itself when it has none)."""
    return {
        t["term"]: t.get("translations", {}).get(language, t["term"]) for t in get_terms(session, story_id)
    }


def set_terms(session: Session, story_id: str, terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(terms) > MAX_TERMS:
        raise InvalidRequest(f"A glossary holds at most {MAX_TERMS} terms.", details={"count": len(terms)})
    clean: dict[str, dict[str, Any]] = {}
    for entry in terms:
        term = str(entry.get("term", "")).strip()
        translations = entry.get("translations") or {}
        if not term or len(term) > MAX_TERM_CHARS or "\n" in term:
            raise InvalidRequest(
                "Each term is one line of 1 to 100 characters.", details={"term": term[:100]}
            )
        rendered: dict[str, str] = {}
        for lang, value in dict(translations).items():
            value = str(value).strip()
            if not value or len(value) > MAX_TERM_CHARS or "\n" in value:
                raise InvalidRequest(
                    "Each rendering is one line of 1 to 100 characters.",
                    details={"term": term, "language": str(lang)[:35]},
                )
            rendered[normalize(str(lang))] = value
        clean[term] = {"term": term, "translations": dict(sorted(rendered.items()))}
    row = session.get(StoryGlossary, story_id)
    if row is None:
        row = StoryGlossary(story_id=story_id, terms=[])
        session.add(row)
    row.terms = list(clean.values())
    session.flush()
    return row.terms
