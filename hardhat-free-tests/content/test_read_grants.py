"""Who reads a paid chapter is decided by content with the ``ReadGrants`` it is given: no global, so two
sets of grants side by side give two answers, and the Container's are the marketplace's."""

from __future__ import annotations

import pytest
from factories import grant_coins, make_chapter, make_story, make_user

from content.access import can_read_chapter, reads_by_subscription, require_readable
from content.errors import ChapterLocked


class Grants:
    def __init__(self, *, unlocked: bool = False, subscribed: bool = False) -> None:
        self.unlocked, self.subscribed, self.asked = unlocked, subscribed, []

    def has_unlocked(self, session, reader_id, chapter_id):  # type: ignore[no-untyped-def]
        self.asked.append(("unlocked", reader_id, chapter_id))
        return self.unlocked

    def is_subscribed(self, session, user_id):  # type: ignore[no-untyped-def]
        self.asked.append(("subscribed", user_id))
        return self.subscribed


@pytest.fixture
def paid(session, container):
    author = make_user(session, container)
    story = make_story(session, container, author)
    return author, story, make_chapter(session, container, story, published=True, price_coins=5)


def test_the_grants_passed_in_decide(session, container, paid):
    author, story, chapter = paid
    reader = make_user(session, container, role="reader")
    nothing, unlocked, subscribed = Grants(), Grants(unlocked=True), Grants(subscribed=True)
    assert not can_read_chapter(session, nothing, reader, chapter)
    assert can_read_chapter(session, unlocked, reader, chapter)
    assert can_read_chapter(session, subscribed, reader, chapter)
    assert unlocked.asked == [("unlocked", reader.id, chapter.id)]
    story.in_subscription = False  # the writer took the story out of the catalog
    assert not can_read_chapter(session, subscribed, reader, chapter)
    assert not reads_by_subscription(session, subscribed, reader, story)
    nothing.asked.clear()
    assert can_read_chapter(session, nothing, author, chapter) and nothing.asked == []  # authors never ask
    with pytest.raises(ChapterLocked) as e:
        require_readable(session, nothing, reader, chapter, "Unlock it.")
    assert e.value.code == "CHAPTER_LOCKED" and e.value.details == {"chapter_id": chapter.id}


def test_the_containers_grants_are_the_marketplaces(session, container, paid):
    author, _, chapter = paid
    reader = make_user(session, container, role="reader")
    grants = container.read_grants
    assert not grants.has_unlocked(session, reader.id, chapter.id)
    assert not grants.is_subscribed(session, reader.id)
    grant_coins(session, reader.id, 5)
    container.unlocks.unlock(session, reader_id=reader.id, writer_id=author.id, chapter_id=chapter.id,
                             price_coins=5)
    assert grants.has_unlocked(session, reader.id, chapter.id)
    assert can_read_chapter(session, grants, reader, chapter)
