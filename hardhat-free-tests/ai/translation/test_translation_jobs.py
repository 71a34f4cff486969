"""The job queue on its own: retries with backoff while the engine is down, a refusal fails with its
reason, an expired lease is taken over and the first worker's late result is dropped, and every ai
error code has an HTTP status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import auth_headers, make_chapter, make_story, make_user

import ai.errors
from ai.errors import AiError, PairUnavailable, ProviderUnavailable
from ai.translation import jobs, quality
from ai.translation.apertium import ApertiumTranslator
from ai.translation.models import JobStatus, Translation, TranslationJob, TranslationStatus
from api.http.errors import STATUS_BY_CODE


def _job(session, container, kind="draft"):
    writer = make_user(session, container)
    story = make_story(session, container, writer)
    chapter = make_chapter(session, container, story, published=True)
    t = Translation(
        chapter_id=chapter.id,
        story_id=story.id,
        language="es",
        source_language="en",
        source_version=1,
        engine="test",
        segments=[],
    )
    session.add(t)
    session.flush()
    job = jobs.enqueue(session, t, kind, writer.id)
    session.commit()
    return t, job


def test_retry_with_backoff_then_fail(session, container):
    t, job = _job(session, container)
    calls = []

    def down(job, lease):
        calls.append(job.id)
        raise ProviderUnavailable("engine down")

    runner = jobs.JobRunner(execute=down, max_attempts=2, worker="w1")
    assert runner.run_once(container.session_factory) == {
        "done": 0,
        "retrying": 1,
        "failed": 0,
        "cancelled": 0,
    }
    session.expire_all()
    row = session.get(TranslationJob, job.id)
    assert row.status == JobStatus.queued and row.error["code"] == "TRANSLATION_PROVIDER_UNAVAILABLE"
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=5)  # backoff: not due yet
    assert runner.run_once(container.session_factory)["retrying"] == 0 and len(calls) == 1
    row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    assert runner.run_once(container.session_factory)["failed"] == 1
    session.expire_all()
    assert session.get(TranslationJob, job.id).status == JobStatus.failed
    assert session.get(Translation, t.id).status == TranslationStatus.failed


def test_refusal_fails_at_once(session, container):
    _, job = _job(session, container)

    def refuse(job, lease):
        raise PairUnavailable("no pair")

    assert jobs.JobRunner(execute=refuse, worker="w1").run_once(container.session_factory)["failed"] == 1
    session.expire_all()
    assert session.get(TranslationJob, job.id).error["code"] == "LANGUAGE_PAIR_UNAVAILABLE"


def test_expired_lease_is_taken_over_and_the_late_result_dropped(session, container):
    _, job = _job(session, container)
    first = jobs.JobRunner(execute=lambda j, lease: None, worker="w1")
    claimed = first.claim(container.session_factory)
    assert claimed is not None and claimed.id == job.id
    assert jobs.JobRunner(execute=lambda j, lease: None, worker="w2").claim(container.session_factory) is None
    row = session.get(TranslationJob, job.id)
    row.lease_until = datetime.now(UTC) - timedelta(seconds=1)  # w1 died
    session.commit()
    applied = []
    second = jobs.JobRunner(
        execute=lambda j, lease: lease.finish(lambda s: applied.append("w2")), worker="w2"
    )
    assert second.run_once(container.session_factory)["done"] == 1
    late = jobs.Lease(container.session_factory, job.id, "w1", timedelta(seconds=60))
    with pytest.raises(jobs.Cancelled):
        late.finish(lambda s: applied.append("w1"))
    assert applied == ["w2"]
    session.expire_all()
    assert session.get(TranslationJob, job.id).attempts == 2


def test_no_engine_is_a_clear_503(client, session, container, tmp_path):
    container.translator = ApertiumTranslator(modes_dir=tmp_path)  # an empty modes directory
    container.__dict__.pop("translations", None)
    r = client.get("/translation/languages")
    assert r.status_code == 503 and r.json()["error"]["code"] == "TRANSLATION_ENGINE_UNAVAILABLE"
    writer = make_user(session, container)
    story = make_story(session, container, writer, language="en")
    chapter = make_chapter(session, container, story)
    h = auth_headers(container, writer)
    assert client.post(f"/chapters/{chapter.id}/publish", headers=h).status_code == 200
    r = client.post(f"/chapters/{chapter.id}/translations", json={"language": "es"}, headers=h)
    assert r.status_code == 503 and "apertium" in r.json()["error"]["message"]


def test_every_ai_code_has_a_status():
    codes = {
        cls.code
        for cls in vars(ai.errors).values()
        if isinstance(cls, type) and issubclass(cls, AiError) and cls is not AiError
    }
    assert codes and codes <= set(STATUS_BY_CODE), codes - set(STATUS_BY_CODE)


def test_quality_report_flags():
    sources = ["Amara sold 1,250 baskets of salt at the old market near the river.", "Short."]
    good = ["Amara vendió 1.250 cestas de sal en el viejo mercado cerca del río.", "Corto."]
    r = quality.report(sources, good, glossary={"Amara": "Amara"})
    assert r["score"] == 100.0 and r["flagged"] == [] and r["aligned"]
    bad = ["Vendió 125 cestas.", "Corto.", "Extra."]
    r = quality.report(sources, bad, unknown=[["salt"], []], glossary={"Amara": "Amara"})
    checks = {i["check"] for i in r["flagged"][0]["issues"]}
    assert (
        checks == {"untranslated", "length", "glossary", "numbers"} and not r["aligned"] and r["score"] <= 50
    )
