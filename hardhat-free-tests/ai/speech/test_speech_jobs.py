"""Audio jobs: retries while the engine is down, cancel, leases, and no job run twice by racing workers
(a database of its own, so on PostgreSQL the racers commit for real)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from live_support import own_database, race
from speech_support import needs_ffmpeg, writer_story
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import sessionmaker

from ai.errors import SpeechUnavailable
from ai.speech.jobs import now_utc
from ai.speech.models import AudioStatus, ChapterAudio
from ai.speech.synth.protocol import Clip, Voice


class FlakySynth:
    """A synthesizer that is down for its first ``down`` calls, then speaks a tone-free silence of
    fixed length (the job's bookkeeping is under test here, not the voice)."""

    name = "espeak-ng"

    def __init__(self, down: int = 0) -> None:
        self.down, self.calls = down, 0

    def voices(self) -> list[Voice]:
        return [
            Voice("sw", "Swahili", "sw", "male", self.name),
            Voice("en-us", "English", "en-us", None, self.name),
        ]

    def synthesize(self, text: str, *, voice: str, rate: float) -> Clip:
        self.calls += 1
        if self.calls <= self.down:
            raise SpeechUnavailable("engine down")
        return Clip(pcm=b"\x10\x00\xf0\xff" * 8000, sample_rate=16000)

    def health(self) -> dict[str, Any]:
        return {"engine": self.name}


def _queue(client: Any, session: Any, container: Any, synth: FlakySynth) -> Any:
    container.speech.synth = container.speech.jobs.synth = synth
    _w, _s, chapter, wh = writer_story(session, container)
    assert client.post(f"/chapters/{chapter.id}/audio", headers=wh).status_code == 202
    return chapter, wh


def _row(session: Any, chapter_id: str) -> ChapterAudio:
    session.expire_all()
    row = session.scalar(select(ChapterAudio).where(ChapterAudio.chapter_id == chapter_id))
    assert row is not None
    return row


def _make_due(session: Any, chapter_id: str) -> None:
    session.execute(
        update(ChapterAudio)
        .where(ChapterAudio.chapter_id == chapter_id)
        .values(not_before=now_utc() - timedelta(seconds=1))
    )
    session.commit()


@needs_ffmpeg
def test_engine_down_is_retried_later_then_succeeds(client, session, container):
    chapter, wh = _queue(client, session, container, FlakySynth(down=1))
    jobs = container.speech.jobs
    assert jobs.run_due(container.session_factory) == {"ran": 1, "status": "retry"}
    row = _row(session, chapter.id)
    assert row.status == AudioStatus.queued and row.attempts == 1 and row.not_before > now_utc()
    job = client.get(f"/chapters/{chapter.id}/audio", headers=wh).json()["job"]
    assert job["error"]["code"] == "SPEECH_UNAVAILABLE" and job["not_before"]
    assert jobs.run_due(container.session_factory) == {"ran": 0}  # waits for its time
    _make_due(session, chapter.id)
    assert jobs.run_due(container.session_factory) == {"ran": 1, "status": "ready"}
    assert _row(session, chapter.id).attempts == 2


def test_an_outage_longer_than_the_attempts_fails_the_job(client, session, container):
    chapter, _wh = _queue(client, session, container, FlakySynth(down=10**6))
    jobs = container.speech.jobs
    for _ in range(jobs.max_attempts - 1):
        assert jobs.run_due(container.session_factory)["status"] == "retry"
        _make_due(session, chapter.id)
    assert jobs.run_due(container.session_factory)["status"] == "failed"
    assert _row(session, chapter.id).status == AudioStatus.failed


def test_cancel_a_queued_job_and_a_running_one(client, session, container, monkeypatch):
    chapter, wh = _queue(client, session, container, FlakySynth())
    cancelled = client.delete(f"/chapters/{chapter.id}/audio/job", headers=wh)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert container.speech.jobs.run_due(container.session_factory) == {"ran": 0}

    assert client.post(f"/chapters/{chapter.id}/audio", headers=wh).status_code == 202  # asked again
    claimed = container.speech.jobs.claim(container.session_factory)
    assert claimed is not None
    assert client.delete(f"/chapters/{chapter.id}/audio/job", headers=wh).json()["job"]["cancel_requested"]
    monkeypatch.setattr("ai.speech.jobs.HEARTBEAT_SECONDS", 0.0)
    assert container.speech.jobs.run(container.session_factory, *claimed) == "cancelled"
    assert _row(session, chapter.id).status == AudioStatus.cancelled
    other = client.delete(f"/chapters/{chapter.id}/audio/job")
    assert other.status_code == 401


@needs_ffmpeg
def test_an_expired_lease_is_claimed_again_and_the_old_run_cannot_write(client, session, container):
    chapter, _wh = _queue(client, session, container, FlakySynth())
    jobs = container.speech.jobs
    first = jobs.claim(container.session_factory)
    assert first is not None and jobs.claim(container.session_factory) is None  # held
    session.execute(
        update(ChapterAudio)
        .where(ChapterAudio.chapter_id == chapter.id)
        .values(lease_until=now_utc() - timedelta(seconds=1))
    )
    session.commit()
    second = jobs.claim(container.session_factory)
    assert second is not None and second[1] != first[1]
    assert jobs.run(container.session_factory, *first) == "lease lost"
    assert _row(session, chapter.id).status == AudioStatus.running
    assert jobs.run(container.session_factory, *second) == "ready"
    assert _row(session, chapter.id).attempts == 2


@pytest.fixture(scope="module")
def racing_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from own_database(tmp_path_factory, "speech_race")


def test_racing_workers_claim_a_job_once(racing_engine, shared_data_dir, test_chain, test_tsa):
    from conftest import make_settings

    from api.wiring import Container

    container = Container(make_settings(shared_data_dir), engine=racing_engine)
    container.chain, container.timestamper = test_chain, test_tsa
    container.speech.synth = container.speech.jobs.synth = FlakySynth()
    with container.session_factory() as session:
        _w, story, chapter, _h = writer_story(session, container)
        session.add(
            ChapterAudio(
                chapter_id=chapter.id,
                story_id=story.id,
                engine="espeak-ng",
                voice="sw",
                rate=1.0,
                chapter_revision=1,
            )
        )
        session.commit()
    factory = sessionmaker(bind=racing_engine, expire_on_commit=False)
    results = race(6, lambda _i: container.speech.jobs.claim(factory))
    won = [r for r in results if r is not None]
    assert all(not isinstance(r, Exception) for r in results), results
    assert len(won) == 1
    with factory() as session:
        row = session.scalar(select(ChapterAudio).where(ChapterAudio.chapter_id == chapter.id))
        assert row is not None and row.attempts == 1 and row.lease_token == won[0][1]


@needs_ffmpeg
def test_the_lease_is_kept_while_ffmpeg_encodes(client, session, container, monkeypatch):
    """Encoding a long chapter outlasts a lease: the job renews it meanwhile, so no other worker takes
    the job while it is still being encoded."""
    import time as _time

    from ai.speech import jobs as jobs_module

    chapter, _wh = _queue(client, session, container, FlakySynth())
    jobs = container.speech.jobs
    real_encode, renewals, encoding = jobs_module.encode, [], []

    def slow_encode(*args: Any, **kwargs: Any) -> Any:
        encoding.append(True)
        _time.sleep(1.0)
        out = real_encode(*args, **kwargs)
        encoding.append(False)
        return out

    real_write = type(jobs)._write

    def spy(self: Any, factory: Any, audio_id: str, token: str, **values: Any) -> Any:
        if "lease_until" in values and values.get("status") is None and encoding[-1:] == [True]:
            renewals.append(values["lease_until"])
        return real_write(self, factory, audio_id, token, **values)

    monkeypatch.setattr(jobs_module, "encode", slow_encode)
    monkeypatch.setattr(jobs_module, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(type(jobs), "_write", spy)
    assert jobs.run_due(container.session_factory) == {"ran": 1, "status": "ready"}
    assert renewals  # the lease was renewed while ffmpeg ran
    assert _row(session, chapter.id).status == AudioStatus.ready
