"""Keyset pages: every row exactly once, in order, in both directions, even when times tie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import make_story, make_user
from sqlalchemy import select

from content.models.stories import Story
from content.pagination import keyset_page


@pytest.mark.parametrize("newest_first", [True, False])
def test_walks_every_row_once_with_tied_times(session, container, newest_first):
    author = make_user(session, container)
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    stories = [make_story(session, container, author, title=f"Tied {i}") for i in range(7)]
    for i, story in enumerate(stories):
        story.created_at = moment + timedelta(seconds=i // 3)  # three share each time
    session.commit()
    query = select(Story).where(Story.author_id == author.id)
    seen, cursor = [], None
    while True:
        page = keyset_page(session, query, time_col=Story.created_at, id_col=Story.id, cursor=cursor, limit=2,
                           key=lambda s: (s.created_at, s.id), newest_first=newest_first)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(stories, key=lambda s: (s.created_at, s.id), reverse=newest_first)
    assert [s.id for s in seen] == [s.id for s in expected]


def test_joined_rows_come_back_as_tuples(session, container):
    author = make_user(session, container)
    story = make_story(session, container, author)
    from accounts.models import User

    query = select(Story, User).join(User, User.id == Story.author_id).where(Story.id == story.id)
    page = keyset_page(session, query, time_col=Story.created_at, id_col=Story.id, cursor=None, limit=5,
                       key=lambda r: (r[0].created_at, r[0].id))
    assert page.items == [(story, author)] and page.next_cursor is None
