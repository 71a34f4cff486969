"""Helpers for the licensing tests: a story whose chapters went through the real registry (published over
HTTP, optionally anchored), studios, terms, and paying an agreement through the local gateway."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from factories import auth_headers, chapter_text, make_user
from sqlalchemy.orm import Session

from accounts.models import User
from api.wiring import Container

# Chapter texts must never resemble each other (the registry would refuse a copy), in this run or any.
_seeds = itertools.count(random.SystemRandom().randrange(10**9))


def licensable_story(
    client: Any, session: Session, container: Container, *, chapters: int = 2, writer: User | None = None,
    title: str = "The Salt Road",
) -> tuple[User, str, list[dict]]:
    """A writer's story with ``chapters`` chapters published (so registered, each with a certificate)."""
    writer = writer or make_user(session, container, role="writer")
    wh = auth_headers(container, writer)
    story = client.post("/stories", json={"title": title, "genre": "adventure",
                                          "description": "Caravans cross the desert."}, headers=wh)
    assert story.status_code == 201, story.text
    published = []
    for n in range(chapters):
        ch = client.post(f"/stories/{story.json()['id']}/chapters",
                         json={"title": f"Part {n + 1}", "content": chapter_text(next(_seeds))}, headers=wh)
        assert ch.status_code == 201, ch.text
        r = client.post(f"/chapters/{ch.json()['id']}/publish", headers=wh)
        assert r.status_code == 200, r.text
        published.append(r.json())
    return writer, story.json()["id"], published


def studio(session: Session, container: Container, **fields: Any) -> tuple[User, dict[str, str]]:
    user = make_user(session, container, role="studio", **fields)
    return user, auth_headers(container, user)


def terms(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"media": "film", "territory": "worldwide", "exclusive": True,
                              "start": "2027-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z",
                              "fee_cents": 1_000_000, "revenue_share_pct": 2}
    values.update(overrides)
    return values


def listing_body(story_id: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"story_id": story_id, "media": ["film", "tv", "games"],
                              "territory": "worldwide", "exclusive": True, "asking_fee_cents": 2_500_000}
    values.update(overrides)
    return values


def pay(client: Any, agreement: dict[str, Any]) -> Any:
    """What the studio does at the local gateway's "hosted page": POST the confirm URL (the studio's view
    of the agreement carries it; the writer's has only the checkout id, which names the same page)."""
    if agreement.get("checkout_url"):
        return client.post(urlsplit(agreement["checkout_url"]).path)
    return client.post(f"/payments/test-gateway/checkouts/{agreement['checkout_id']}/confirm")


def unix(moment: str) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def market(client: Any, session: Session, container: Container, *, chapters: int = 1) -> dict[str, Any]:
    """A listed story (film, tv, games; exclusive available), its writer and a studio, with headers."""
    writer, story_id, published = licensable_story(client, session, container, chapters=chapters)
    wh = auth_headers(container, writer)
    listing = client.post("/marketplace/listings", json=listing_body(story_id), headers=wh)
    assert listing.status_code == 201, listing.text
    acme, sh = studio(session, container)
    return {"writer": wh, "writer_user": writer, "studio": sh, "studio_user": acme, "listing": listing.json(),
            "story_id": story_id, "chapters": published}


def agree(client: Any, market: dict[str, Any], *, studio_headers: dict[str, str] | None = None,
          **term_overrides: Any) -> Any:
    """A studio's offer accepted by the writer; returns the accept response (201 or the refusal)."""
    sh = studio_headers or market["studio"]
    offer = client.post(f"/marketplace/listings/{market['listing']['id']}/offers",
                        json=terms(**term_overrides), headers=sh)
    assert offer.status_code == 201, offer.text
    return client.post(f"/marketplace/offers/{offer.json()['id']}/accept", headers=market["writer"])


def agreement(client: Any, market: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    return client.get(f"/marketplace/agreements/{agreement_id}", headers=market["studio"]).json()
