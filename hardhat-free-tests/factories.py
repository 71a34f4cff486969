"""Factories for test data: each makes a valid object with unique fields, overridable by keyword."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from accounts.models import Role, User
from api.wiring import Container

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_user(session: Session, container: Container, *, role: str = "writer", **fields: Any) -> User:
    n = next(_seq)
    values: dict[str, Any] = {
        "email": f"user{n}@example.org",
        "username": f"user{n}",
        "password": PASSWORD,
        "role": Role(role),
    }
    values.update(fields)
    user = container.accounts.register(session, **values)
    session.commit()
    return user


def auth_headers(container: Container, user: User) -> dict[str, str]:
    token = container.tokens.issue_access(user_id=user.id, role=user.role.value)
    return {"Authorization": f"Bearer {token}"}


def make_story(session: Session, container: Container, author: User, **fields: Any) -> Any:
    """A story by ``author``; ``status`` defaults to ``ongoing`` so it is visible (pass ``"draft"``)."""
    from content.stories import create_story

    n = next(_seq)
    values: dict[str, Any] = {"title": f"Story {n}", "description": f"Description {n}", "status": "ongoing"}
    values.update(fields)
    story = create_story(session, author, values)
    session.commit()
    return story


def make_chapter(
    session: Session, container: Container, story: Any, *, content: str | None = None, **fields: Any
) -> Any:
    """A draft chapter (pass ``published=True`` to mark it published without the registry)."""
    from content.chapters import create_chapter
    from content.models.stories import ChapterStatus

    n = next(_seq)
    published = fields.pop("published", False)
    chapter = create_chapter(
        session,
        container.content_cipher,
        story,
        title=fields.pop("title", f"Chapter {n}"),
        content=content or f"Chapter body number {n}. It has a few words.",
        price_coins=fields.pop("price_coins", 0),
    )
    if published:
        chapter.status = ChapterStatus.published
        chapter.published_at = chapter.created_at
    session.commit()
    return chapter


def grant_coins(session: Session, user_id: str, coins: int) -> None:
    """Coins in a wallet with the postings a purchase makes, without a checkout."""
    from marketplace.money import ledger
    from marketplace.money.ledger import TransferKind

    ledger.transfer(
        session,
        key=f"test-grant:{user_id}:{next(_seq)}",
        kind=TransferKind.coin_purchase,
        legs=[
            (ledger.coin_issuance(), -coins),
            (ledger.wallet(user_id), coins),
            (ledger.gateway_payments("local"), -coins),
            (ledger.coin_float(), coins),
        ],
    )
    session.commit()


_VOCABULARY = [
    "river",
    "dust",
    "market",
    "lantern",
    "harmattan",
    "caravan",
    "salt",
    "indigo",
    "well",
    "drum",
    "night",
    "morning",
    "city",
    "gate",
    "song",
    "mother",
    "brother",
    "sister",
    "elder",
    "trader",
    "weaver",
    "poet",
    "soldier",
    "child",
    "stranger",
    "horse",
    "camel",
    "boat",
    "road",
    "roof",
    "window",
    "letter",
    "promise",
    "debt",
    "secret",
    "rumour",
    "storm",
    "rain",
    "heat",
    "shadow",
    "fire",
    "smoke",
    "bread",
    "tea",
    "cloth",
    "gold",
    "silver",
    "copper",
    "knife",
    "rope",
    "basket",
    "mat",
    "door",
    "wall",
    "tower",
    "mosque",
    "church",
    "school",
    "court",
    "prison",
    "garden",
    "field",
    "walked",
    "waited",
    "carried",
    "whispered",
    "laughed",
    "counted",
    "remembered",
    "forgot",
    "buried",
    "opened",
    "closed",
    "crossed",
    "watched",
    "followed",
    "answered",
    "refused",
    "promised",
    "sold",
    "bought",
    "borrowed",
    "lost",
    "found",
    "burned",
    "mended",
    "sang",
    "slowly",
    "quietly",
    "suddenly",
    "again",
    "never",
    "always",
    "almost",
    "only",
    "still",
    "already",
    "perhaps",
    "together",
    "alone",
    "red",
    "blue",
    "old",
    "young",
    "tired",
    "proud",
    "hungry",
    "bright",
    "dark",
    "narrow",
    "wide",
    "heavy",
    "quiet",
    "loud",
    "sweet",
    "bitter",
]


def chapter_text(seed: int, *, paragraphs: int = 6, words: int = 70) -> str:
    """A chapter of random words from one seed: two seeds share no five-word run, so unrelated
    chapters never look alike to the plagiarism check, while one seed always gives the same text."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        chosen = [rng.choice(_VOCABULARY) for _ in range(words)]
        out.append(" ".join(chosen).capitalize() + ".")
    return "\n\n".join(out)
