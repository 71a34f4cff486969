"""Every content route × every role, with the status each must get.

One world per route: an author's published story (a free, a paid, a draft and a scheduled chapter), the
same author's draft story, a reader's comment and report. Each role's request runs inside a savepoint
that is rolled back, so every role meets the same world.

Roles: anonymous, a reader, another writer, the author, a studio, an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import auth_headers, make_chapter, make_story, make_user

from api.wiring import Container
from content.crypto import version_aad
from content.models.community import Comment, Report, ReportReason, ReportTarget
from content.models.stories import ChapterStatus, ChapterVersion

ROLES = ("anon", "reader", "other", "author", "studio", "admin")
FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()
MD = ("book.md", b"# One\n\nFirst chapter text.\n\n# Two\n\nSecond chapter text.\n", "text/markdown")
NEW_CHAPTER = {"title": "Next", "content": "More text."}


def S(anon: int, reader: int, other: int, author: int, studio: int, admin: int) -> dict[str, int]:
    return dict(zip(ROLES, (anon, reader, other, author, studio, admin), strict=True))


ALL_200 = S(200, 200, 200, 200, 200, 200)
SIGNED_IN = S(401, 200, 200, 200, 200, 200)
SIGNED_IN_204 = S(401, 204, 204, 204, 204, 204)
EDITOR = S(401, 403, 403, 200, 403, 200)
EDITOR_HIDDEN = S(401, 404, 404, 200, 404, 200)
VIEW_HIDDEN = S(404, 404, 404, 200, 404, 200)
ADMIN_ONLY = S(401, 403, 403, 403, 403, 200)

# (method, path, json body or "files" for an upload, expected status per role)
ROUTES: list[tuple[str, str, Any, dict[str, int]]] = [
    ("POST", "/stories", {"title": "New story"}, S(401, 403, 201, 201, 403, 201)),
    ("GET", "/stories", None, ALL_200),
    ("GET", "/stories/{story}", None, ALL_200),
    ("GET", "/stories/{draft_story}", None, VIEW_HIDDEN),
    ("PUT", "/stories/{story}", {"title": "Renamed"}, EDITOR),
    ("PUT", "/stories/{draft_story}", {"title": "Renamed"}, EDITOR_HIDDEN),
    ("PUT", "/stories/{story}/rating", {"stars": 5}, S(401, 200, 200, 403, 200, 200)),
    ("DELETE", "/stories/{story}/rating", None, SIGNED_IN_204),
    ("POST", "/stories/{story}/chapters", NEW_CHAPTER, S(401, 403, 403, 201, 403, 201)),
    ("POST", "/stories/{draft_story}/chapters", NEW_CHAPTER, S(401, 404, 404, 201, 404, 201)),
    ("GET", "/stories/{story}/chapters", None, ALL_200),
    ("GET", "/stories/{draft_story}/chapters", None, VIEW_HIDDEN),
    ("GET", "/stories/{story}/chapters/{free}", None, ALL_200),
    ("GET", "/stories/{story}/chapters/{paid}", None, ALL_200),
    ("GET", "/stories/{story}/chapters/{draft}", None, VIEW_HIDDEN),
    ("GET", "/stories/{draft_story}/chapters/{hidden}", None, VIEW_HIDDEN),
    ("POST", "/stories/{story}/import", "files", S(401, 403, 403, 201, 403, 201)),
    ("POST", "/stories/{draft_story}/import", "files", S(401, 404, 404, 201, 404, 201)),
    ("PUT", "/chapters/{free}", {"title": "Retitled"}, EDITOR),
    ("PUT", "/chapters/{draft}", {"content": "Rewritten draft."}, EDITOR_HIDDEN),
    ("PUT", "/chapters/{hidden}", {"title": "Retitled"}, EDITOR_HIDDEN),
    ("POST", "/chapters/{draft}/publish", None, EDITOR_HIDDEN),
    ("POST", "/chapters/{free}/publish", None, EDITOR),
    ("POST", "/chapters/{draft}/schedule", {"publish_at": FUTURE}, EDITOR_HIDDEN),
    ("DELETE", "/chapters/{scheduled}/schedule", None, EDITOR_HIDDEN),
    ("GET", "/chapters/{free}/versions", None, ALL_200),
    ("GET", "/chapters/{draft}/versions", None, VIEW_HIDDEN),
    ("GET", "/chapters/{free}/versions/1", None, EDITOR),
    ("PUT", "/chapters/{free}/progress", {"percentage": 40, "seconds": 60}, SIGNED_IN),
    ("PUT", "/chapters/{paid}/progress", {"percentage": 40, "seconds": 60}, EDITOR),
    ("PUT", "/chapters/{draft}/progress", {"percentage": 40, "seconds": 60}, EDITOR_HIDDEN),
    ("POST", "/chapters/{paid}/unlock", None, S(401, 402, 402, 400, 402, 402)),
    ("POST", "/chapters/{draft}/unlock", None, S(401, 404, 404, 400, 404, 400)),
    ("PUT", "/chapters/{free}/bookmark", {"position": 12.5}, SIGNED_IN),
    ("PUT", "/chapters/{hidden}/bookmark", {"position": 12.5}, EDITOR_HIDDEN),
    ("DELETE", "/chapters/{free}/bookmark", None, SIGNED_IN_204),
    ("POST", "/chapters/{free}/comments", {"body": "Lovely."}, S(401, 201, 201, 201, 201, 201)),
    ("POST", "/chapters/{paid}/comments", {"body": "Lovely."}, S(401, 403, 403, 201, 403, 201)),
    ("POST", "/chapters/{draft}/comments", {"body": "Lovely."}, S(401, 404, 404, 201, 404, 201)),
    ("GET", "/chapters/{free}/comments", None, ALL_200),
    ("GET", "/chapters/{hidden}/comments", None, VIEW_HIDDEN),
    ("PUT", "/comments/{comment}", {"body": "Edited."}, S(401, 200, 403, 403, 403, 403)),
    ("DELETE", "/comments/{comment}", None, S(401, 204, 403, 204, 403, 204)),
    ("POST", "/comments/{comment}/pin", None, EDITOR),
    ("DELETE", "/comments/{comment}/pin", None, EDITOR),
    ("POST", "/reports", {"target_type": "story", "target_id": "{story}", "reason": "spam"},
     S(401, 201, 201, 201, 201, 201)),
    ("POST", "/reports", {"target_type": "story", "target_id": "{draft_story}", "reason": "spam"},
     S(401, 404, 404, 201, 404, 201)),
    ("GET", "/admin/reports", None, ADMIN_ONLY),
    ("POST", "/admin/reports/{report}/resolve", {"status": "dismissed"}, ADMIN_ONLY),
    ("GET", "/me/library", None, SIGNED_IN),
    ("PUT", "/me/library/{story}", None, SIGNED_IN),
    ("PUT", "/me/library/{draft_story}", None, EDITOR_HIDDEN),
    ("DELETE", "/me/library/{story}", None, SIGNED_IN_204),
    ("GET", "/me/bookmarks", None, SIGNED_IN),
    ("GET", "/me/history", None, SIGNED_IN),
    ("GET", "/me/following", None, SIGNED_IN),
    ("GET", "/me/followers", None, SIGNED_IN),
    ("GET", "/me/blocks", None, SIGNED_IN),
    ("PUT", "/users/{author_id}/follow", None, S(401, 204, 204, 400, 204, 204)),
    ("DELETE", "/users/{author_id}/follow", None, SIGNED_IN_204),
    ("PUT", "/users/{reader_id}/follow", None, S(401, 400, 400, 400, 400, 400)),
    ("PUT", "/users/{other_id}/block", None, S(401, 204, 400, 204, 204, 204)),
    ("DELETE", "/users/{other_id}/block", None, SIGNED_IN_204),
    ("GET", "/search?q=lighthouse", None, ALL_200),
]


@dataclass
class World:
    ids: dict[str, str]
    headers: dict[str, dict[str, str]]


def build_world(session, container: Container) -> World:
    users = {role: make_user(session, container, role=role) for role in ("reader", "studio", "admin")}
    users["author"] = make_user(session, container, role="writer")
    users["other"] = make_user(session, container, role="writer")
    author = users["author"]
    story = make_story(session, container, author, title="The Lighthouse Keeper")
    free = make_chapter(session, container, story, published=True, content="The lamp turned all night long.")
    paid = make_chapter(session, container, story, published=True, price_coins=50)
    draft = make_chapter(session, container, story)
    scheduled = make_chapter(session, container, story)
    scheduled.status, scheduled.publish_at = ChapterStatus.scheduled, datetime.now(UTC) + timedelta(days=2)
    draft_story = make_story(session, container, author, status="draft")
    hidden = make_chapter(session, container, draft_story)
    sealed = container.content_cipher.seal("The lamp turned all night long.", version_aad(free.id, 1))
    session.add(ChapterVersion(
        chapter_id=free.id, version=1, title=free.title, word_count=6, key_id=sealed.key_id,
        body_enc=sealed.blob, sha256="0" * 64, registration_id="r", certificate_id="c",
    ))
    free.current_version = 1
    comment = Comment(chapter_id=free.id, story_id=story.id, author_id=users["reader"].id, body="First!")
    session.add(comment)
    session.flush()
    report = Report(reporter_id=users["reader"].id, target_type=ReportTarget.comment, target_id=comment.id,
                    reason=ReportReason.spam)
    session.add(report)
    session.commit()
    ids = {
        "story": story.id, "draft_story": draft_story.id, "free": free.id, "paid": paid.id, "draft": draft.id,
        "scheduled": scheduled.id, "hidden": hidden.id, "comment": comment.id, "report": report.id,
        "author_id": author.id, "reader_id": users["reader"].id, "other_id": users["other"].id,
    }
    headers = {role: auth_headers(container, u) for role, u in users.items()}
    headers["anon"] = {}
    return World(ids, headers)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), ROUTES,
    ids=[f"{m} {p}" + (f" {b['target_id']}" if isinstance(b, dict) and "target_id" in b else "")
         for m, p, b, _ in ROUTES],
)
def test_route_status_for_each_role(client, session, container, connection, method, path, body, expected):
    world = build_world(session, container)
    got = {}
    for role in ROLES:
        savepoint = connection.begin_nested()
        try:
            kwargs: dict[str, Any] = {"headers": world.headers[role]}
            if body == "files":
                kwargs["files"] = {"file": MD}
            elif body is not None:
                kwargs["json"] = _fill(body, world.ids)
            response = client.request(method, _fill(path, world.ids), **kwargs)
            got[role] = response.status_code
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, response.text
        finally:
            savepoint.rollback()
    assert got == expected


def test_every_content_route_is_in_the_table(app):
    """A new content route without a row here fails this test, so the table stays complete."""
    covered = {(m, p.split("?")[0]) for m, p, *_ in ROUTES}
    normalized = {(m, _normalize(p)) for m, p in covered}
    prefixes = (
        "/stories", "/chapters", "/comments", "/reports", "/admin/reports", "/me/", "/users/", "/search",
    )
    missing = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith(prefixes):
            continue
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
            if (method, _normalize(path)) not in normalized:
                missing.append(f"{method} {path}")
    assert missing == []


def _normalize(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "{}", path)
