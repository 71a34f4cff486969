"""Test content made through the JSON API (a writer, a story, chapters, published and certified), for
the page tests: the pages must show what the API made, so the API makes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Writer:
    username: str
    headers: dict[str, str]
    id: str


@dataclass
class Made:
    story_id: str
    chapters: list[dict[str, Any]] = field(default_factory=list)


def writer(client: Any, name: str | None = None) -> Writer:
    name = name or f"w{uuid.uuid4().hex[:10]}"
    r = client.post("/auth/register", json={"email": f"{name}@example.com", "username": name,
                                            "password": "password-123", "role": "writer"})
    assert r.status_code == 201, r.text
    login = client.post("/auth/login", json={"email": name, "password": "password-123"})
    token = login.json()["access_token"]
    return Writer(name, {"Authorization": f"Bearer {token}"}, r.json()["id"])


def story(client: Any, w: Writer, title: str, texts: list[tuple[str, str, int]], *, language: str = "en",
          genre: str = "fantasy", publish: bool = True, description: str = "A story.") -> Made:
    """``texts``: (chapter title, text, price in coins); every chapter published unless told not to."""
    r = client.post("/stories", headers=w.headers, json={"title": title, "description": description,
                                                          "genre": genre, "language": language})
    assert r.status_code == 201, r.text
    made = Made(r.json()["id"])
    for ch_title, text, price in texts:
        c = client.post(f"/stories/{made.story_id}/chapters", headers=w.headers,
                        json={"title": ch_title, "content": text, "price_coins": price})
        assert c.status_code == 201, c.text
        chapter = c.json()
        if publish:
            p = client.post(f"/chapters/{chapter['id']}/publish", headers=w.headers)
            assert p.status_code == 200, p.text
            chapter = p.json()
        made.chapters.append(chapter)
    return made


def unique_text(words: int = 120) -> str:
    """A text no other registration has (the registry refuses near-copies by another author)."""
    seed = uuid.uuid4().hex
    body = " ".join(f"{seed[i % 32]}{i}word{seed[(i * 7) % 32]}" for i in range(words))
    return f"The night market opened at dusk {seed}.\n\n{body}\n\nAnd the lanterns went out one by one."
