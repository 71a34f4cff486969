"""Content refuses with its own errors (stable codes, no HTTP statuses); the HTTP layer maps each code."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_chapter, make_story, make_user

from api.http.errors import STATUS_BY_CODE
from content import access, importer, publishing, social
from content.crypto import CiphertextInvalid, Keyring, KeyringError
from content.errors import (
    ContentError,
    Forbidden,
    InvalidCursor,
    InvalidRequest,
    InvalidStateTransition,
    ManuscriptTooLarge,
    NotFound,
)
from content.models.stories import ChapterStatus
from content.pagination import decode_cursor, keyset_page
from content.wiring import build_content_cipher


def _subclasses(root: type) -> list[type]:
    out, todo = [], [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


def test_every_content_code_is_mapped_once_and_server_faults_are_the_key_errors():
    codes = {cls: cls.code for cls in _subclasses(ContentError)}
    assert all(code in STATUS_BY_CODE for code in codes.values()), codes
    server_faults = {cls for cls, code in codes.items() if STATUS_BY_CODE[code] >= 500}
    assert server_faults == {KeyringError, CiphertextInvalid}


def test_lookups_and_permissions(session, container):
    author, other = make_user(session, container), make_user(session, container)
    story = make_story(session, container, author)
    with pytest.raises(NotFound) as e:
        access.visible_story(session, "no-such-story", author)
    assert e.value.code == "NOT_FOUND" and e.value.details == {"story_id": "no-such-story"}
    with pytest.raises(Forbidden) as e:
        access.editable_story(session, story.id, other)
    assert e.value.code == "FORBIDDEN"
    draft = make_story(session, container, author, status="draft")
    with pytest.raises(NotFound):  # another user's draft does not exist for them
        access.visible_story(session, draft.id, other)


def test_a_chapter_under_another_story_does_not_exist(session, container):
    author = make_user(session, container)
    one, two = make_story(session, container, author), make_story(session, container, author)
    chapter = make_chapter(session, container, one, published=True)
    assert access.story_chapter(session, one.id, chapter.id, None)[0].id == chapter.id
    with pytest.raises(NotFound) as e:
        access.story_chapter(session, two.id, chapter.id, None)
    assert e.value.details == {"story_id": two.id, "chapter_id": chapter.id}


def test_following_yourself_or_a_reader_is_an_invalid_request(session, container):
    writer, reader = make_user(session, container), make_user(session, container, role="reader")
    with pytest.raises(InvalidRequest) as e:
        social.follow(session, writer, writer.id)
    assert e.value.code == "BAD_REQUEST" and STATUS_BY_CODE[e.value.code] == 400
    with pytest.raises(InvalidRequest):
        social.follow(session, writer, reader.id)
    with pytest.raises(NotFound):
        social.follow(session, writer, "nobody")


def test_scheduling_a_published_chapter_is_an_invalid_transition(session, container):
    author = make_user(session, container)
    chapter = make_chapter(session, container, make_story(session, container, author), published=True)
    with pytest.raises(InvalidStateTransition) as e:
        publishing.schedule(chapter, datetime.now(UTC) + timedelta(days=1))
    assert e.value.details == {"from": ChapterStatus.published.value, "to": "scheduled"}


def test_a_manuscript_beyond_the_limit_is_too_large():
    with pytest.raises(ManuscriptTooLarge) as e:
        importer.parse_manuscript("big.md", b"x" * (importer.MAX_MANUSCRIPT_BYTES + 1), max_chapter_chars=10)
    assert e.value.code == "PAYLOAD_TOO_LARGE" and STATUS_BY_CODE[e.value.code] == 413


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("forged", [
    "%%%", _cursor([1, 2]), _cursor({"t": "2026-01-01T00:00:00+00:00"}), "[" * 300,
    _cursor(json.loads("[" * 150 + "]" * 150)),
])
def test_forged_cursors_are_invalid(forged):
    with pytest.raises(InvalidCursor):
        values = decode_cursor(forged, "t", "id")
        raise AssertionError(values)


@pytest.mark.parametrize("forged_id", ["\ud800", "a\x00b", "x" * 65, 7])
def test_cursor_ids_a_database_cannot_take_are_invalid(session, container, forged_id):
    from sqlalchemy import select

    from content.models.stories import Story

    cursor = _cursor({"t": "2026-01-01T00:00:00+00:00", "id": forged_id})
    with pytest.raises(InvalidCursor):
        keyset_page(session, select(Story), time_col=Story.created_at, id_col=Story.id, cursor=cursor,
                    limit=2, key=lambda s: (s.created_at, s.id))


def test_keyring_errors_belong_to_content(tmp_path):
    with pytest.raises(KeyringError) as e:
        build_content_cipher(content_key="not base64!", keys_dir=tmp_path)
    assert isinstance(e.value, ContentError) and e.value.code == "CONTENT_KEYRING_INVALID"
    cipher = build_content_cipher(content_key=None, keys_dir=tmp_path / "keys")
    assert isinstance(cipher.keyring, Keyring) and (tmp_path / "keys" / "content.keyring").exists()
