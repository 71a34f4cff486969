"""Two uploads of one manuscript into one story at the same moment, with real commits on separate
connections: the story row lock serializes them, so the manuscript lands once and the other upload is
409 ``MANUSCRIPT_ALREADY_IMPORTED``. Works on its own committed rows and deletes them afterwards."""

from __future__ import annotations

import threading

from factories import auth_headers, make_story, make_user
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accounts.models import User
from api.http.app import create_app
from api.wiring import Container
from content.models.stories import Chapter

UPLOADS = 4
BOOK = b"# One\n\nThe first text of the race.\n\n# Two\n\nThe second text of the race."


def test_racing_imports_of_one_manuscript_add_it_once(engine, settings, test_chain, test_tsa):
    # Not the ``container`` fixture: its per-test transaction would hold SQLite's write lock.
    container = Container(settings, engine=engine)
    container.chain, container.timestamper = test_chain, test_tsa
    with Session(engine, expire_on_commit=False) as s:
        writer = make_user(s, container)
        story = make_story(s, container, writer)
    headers = auth_headers(container, writer)
    try:
        with TestClient(create_app(container=container), raise_server_exceptions=False) as client:
            barrier = threading.Barrier(UPLOADS)
            codes: list[int] = [0] * UPLOADS

            def upload(i: int) -> None:
                barrier.wait()
                r = client.post(f"/stories/{story.id}/import",
                                files={"file": ("book.md", BOOK, "text/markdown")}, headers=headers)
                codes[i] = r.status_code

            threads = [threading.Thread(target=upload, args=(i,)) for i in range(UPLOADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert sorted(codes) == [201] + [409] * (UPLOADS - 1), codes
        with Session(engine) as s:
            count = select(func.count()).select_from(Chapter).where(Chapter.story_id == story.id)
            assert s.scalar(count) == 2
    finally:
        with Session(engine) as s:
            s.execute(delete(User).where(User.id == writer.id))  # stories and chapters cascade
            s.commit()
