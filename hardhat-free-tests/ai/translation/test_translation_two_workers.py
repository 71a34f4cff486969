"""Two worker processes on PostgreSQL share the translation queue: every job is done exactly once, and
the job of a worker killed mid-way is taken over after its lease and still applied once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_DATABASE_URL, _postgres_schema, own_schema_engine
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from accounts.models import Role, User
from ai.translation.models import JobStatus, Translation, TranslationJob
from api.migrate import upgrade
from content.models.stories import Chapter, Story

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (LEGATO_TEST_DATABASE_URL)"),
]
PROC = Path(__file__).with_name("translation_worker_proc.py")
JOBS = 12


def _seed(factory: sessionmaker) -> None:
    with factory() as s, s.begin():
        user = User(email="w@example.org", username="w", password_hash="x", role=Role.writer)
        s.add(user)
        s.flush()
        story = Story(author_id=user.id, title="S")
        s.add(story)
        s.flush()
        for n in range(JOBS):
            chapter = Chapter(
                story_id=story.id, number=n + 1, title="c", key_id="k", body_enc=b"", current_version=1
            )
            s.add(chapter)
            s.flush()
            t = Translation(
                chapter_id=chapter.id,
                story_id=story.id,
                language="es",
                source_language="en",
                source_version=1,
                engine="test",
                segments=[],
                revision=0,
            )
            s.add(t)
            s.flush()
            s.add(TranslationJob(translation_id=t.id, kind="draft", status=JobStatus.queued))


def _spawn(schema: str, name: str, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path])}
    return subprocess.Popen(
        [sys.executable, str(PROC), TEST_DATABASE_URL, schema, name, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_workers_one_killed(tmp_path):
    with own_schema_engine("tworkers") as engine:
        upgrade(engine)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        _seed(factory)
        schema = f"{_postgres_schema()}_tworkers"
        doomed, survivor = _spawn(schema, "doomed", 5.0), _spawn(schema, "survivor", 0.2)
        try:
            assert doomed.stdout.readline().startswith("start ")  # it holds a job now
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with factory() as s:
                    states = s.scalars(select(TranslationJob.status)).all()
                if all(st == JobStatus.done for st in states):
                    break
                time.sleep(0.3)
        finally:
            for p in (doomed, survivor):
                if p.poll() is None:
                    p.kill()
                    p.wait(10)
        with factory() as s:
            jobs = s.scalars(select(TranslationJob)).all()
            revisions = s.scalars(select(Translation.revision)).all()
        assert [j.status for j in jobs] == [JobStatus.done] * JOBS
        assert sorted(revisions) == [1] * JOBS  # each applied exactly once
        assert any(j.attempts == 2 for j in jobs)  # the killed worker's job was taken over
        assert {j.worker for j in jobs} == {"survivor"}
