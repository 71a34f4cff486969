"""The setting picks the engine: logged and reported by /health; a cloud engine narrates a chapter
end to end through the same job (its loopback stand-in at the HTTP boundary)."""

from __future__ import annotations

import pytest
from conftest import make_settings
from factories import auth_headers, make_user
from fastapi.testclient import TestClient
from speech_servers import AWS_KEY, AWS_REGION, AWS_SECRET, GOOGLE_KEY, fake_speech_server
from speech_support import needs_ffmpeg, run_worker, writer_story

from ai.errors import UnknownAdapter
from ai.wiring import build_synthesizer
from api.app import create_app


def test_default_engine_is_espeak_and_health_reports_it(client, session, container):
    assert container.describe_adapters()["speech"] == "espeak-ng"
    assert container.describe_adapters()["media"] == "local"
    admin = make_user(session, container, role="admin")
    deps = client.get("/health", headers=auth_headers(container, admin)).json()["dependencies"]
    assert deps["speech"]["status"] == "up" and deps["speech"]["engine"] == "espeak-ng"
    assert deps["media"]["status"] == "up"


def test_unknown_or_unconfigured_engines_are_refused():
    with pytest.raises(UnknownAdapter):
        build_synthesizer(engine="festival")
    with pytest.raises(UnknownAdapter):
        build_synthesizer(engine="google")
    with pytest.raises(UnknownAdapter):
        build_synthesizer(engine="polly", polly_region="eu-west-1")


@needs_ffmpeg
@pytest.mark.parametrize("speech_engine", ["google", "polly"])
def test_a_cloud_engine_narrates_a_chapter(speech_engine, shared_data_dir, container_factory, session):
    with fake_speech_server() as server:
        options = (
            {"google_tts_api_key": GOOGLE_KEY, "google_tts_url": server.url}
            if speech_engine == "google"
            else {
                "polly_region": AWS_REGION,
                "aws_access_key_id": AWS_KEY,
                "aws_secret_access_key": AWS_SECRET,
                "polly_endpoint": server.url,
            }
        )
        container = container_factory(make_settings(shared_data_dir, speech_engine=speech_engine, **options))
        with TestClient(create_app(container=container), raise_server_exceptions=False) as client:
            voices = client.get("/voices", params={"language": "sw"}).json()
            assert voices["engine"] == speech_engine and len(voices["voices"]) == 2
            _w, story, chapter, wh = writer_story(session, container)
            female = next(v["id"] for v in voices["voices"] if v["gender"] == "female")
            assert client.get(f"/stories/{story.id}/narration").json()["voice"] in {
                v["id"] for v in voices["voices"]
            }
            assert (
                client.put(f"/stories/{story.id}/narration", json={"voice": female}, headers=wh).status_code
                == 200
            )
            assert client.post(f"/chapters/{chapter.id}/audio", headers=wh).status_code == 202
            server.down = True
            assert run_worker(container)["status"] == "retry"  # the provider is down: waits, not lost
            server.down = False
            container.speech.jobs.retry_base_seconds = 0
            client.post(f"/chapters/{chapter.id}/audio", headers=wh)
            from sqlalchemy import update

            from ai.speech.jobs import now_utc
            from ai.speech.models import ChapterAudio

            session.execute(update(ChapterAudio).values(not_before=now_utc()))
            session.commit()
            assert run_worker(container)["status"] == "ready"
            meta = client.get(f"/chapters/{chapter.id}/audio").json()
            assert meta["engine"] == speech_engine and meta["voice"] == female and meta["sentences"] == 4
            doc = client.get(f"/chapters/{chapter.id}/audio.json").json()
            assert doc["sentences"][-1]["end_ms"] == doc["duration_ms"]


@needs_ffmpeg
def test_audio_kept_in_an_s3_store_is_served_with_ranges(shared_data_dir, container_factory, session):
    from s3_server import S3_BUCKET, S3_KEY, S3_REGION, S3_SECRET, fake_s3

    with fake_s3() as s3:
        settings = make_settings(
            shared_data_dir,
            media_store="s3",
            s3_endpoint=s3.url,
            s3_bucket=S3_BUCKET,
            s3_region=S3_REGION,
            s3_access_key_id=S3_KEY,
            s3_secret_access_key=S3_SECRET,
        )
        container = container_factory(settings)
        assert container.describe_adapters()["media"] == "s3"
        with TestClient(create_app(container=container), raise_server_exceptions=False) as client:
            _w, _story, chapter, wh = writer_story(session, container)
            client.post(f"/chapters/{chapter.id}/audio", headers=wh)
            assert run_worker(container)["status"] == "ready"
            assert sorted(k.rsplit(".", 1)[-1] for k in s3.objects) == ["mp3", "opus", "sync"]
            whole = client.get(f"/chapters/{chapter.id}/audio.opus")
            opus_key = next(k for k in s3.objects if k.endswith(".opus"))
            assert whole.content == s3.objects[opus_key]
            part = client.get(f"/chapters/{chapter.id}/audio.opus", headers={"Range": "bytes=100-199"})
            assert part.status_code == 206 and part.content == whole.content[100:200]
            assert client.get(f"/chapters/{chapter.id}/audio.json").json()["sentences"][0]["index"] == 0
    with pytest.raises(UnknownAdapter):
        from ai.wiring import build_media_store

        build_media_store(store="s3", data_dir=shared_data_dir)
