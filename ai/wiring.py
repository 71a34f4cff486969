"""Builders for the ``ai`` ports, called by the gateway's Container with explicit keyword arguments.

``ai`` never reads the environment: ``api/settings.py`` does, and ``api/wiring.py`` passes the values
here. Each builder names the adapter it chose (``.name``) so the Container can log it and ``/health``
can report it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ai.errors import UnknownAdapter
from ai.speech.jobs import SpeechJobs
from ai.speech.media.local import LocalMediaStore
from ai.speech.media.protocol import MediaStore
from ai.speech.synth.protocol import SpeechSynthesizer
from ai.translation.models import Translation
from ai.translation.protocol import Translator
from ai.translation.service import Translations
from content.crypto import ContentCipher
from registry.service import Registry

TRANSLATION_ENGINES = ("apertium", "apertium-apy", "libretranslate", "deepl", "google")


def build_translator(
    *,
    engine: str = "apertium",
    url: str | None = None,
    api_key: str | None = None,
    google_project: str | None = None,
    apertium_modes_dir: Path | None = None,
    timeout_seconds: float = 30.0,
) -> Translator:
    """The ``Translator`` adapter ``engine`` names (``LEGATO_TRANSLATION_ENGINE``)."""
    if engine == "apertium":
        from ai.translation.apertium import DEFAULT_MODES_DIR, ApertiumTranslator

        return ApertiumTranslator(
            modes_dir=apertium_modes_dir or DEFAULT_MODES_DIR, timeout_seconds=timeout_seconds
        )
    if engine in ("apertium-apy", "libretranslate"):
        from ai.translation.http_servers import ApertiumApyTranslator, LibreTranslateTranslator

        if not url:
            raise UnknownAdapter(f"The {engine} engine needs LEGATO_TRANSLATION_URL.")
        if engine == "apertium-apy":
            return ApertiumApyTranslator(url=url, timeout_seconds=timeout_seconds)
        return LibreTranslateTranslator(url=url, api_key=api_key, timeout_seconds=timeout_seconds)
    if engine == "deepl":
        from ai.translation.deepl_adapter import DeepLTranslator

        if not api_key:
            raise UnknownAdapter("The deepl engine needs LEGATO_TRANSLATION_API_KEY.")
        return DeepLTranslator(auth_key=api_key, server_url=url, timeout_seconds=timeout_seconds)
    if engine == "google":
        from ai.translation.google_v3 import GoogleTranslator

        if not api_key or not google_project:
            raise UnknownAdapter(
                "The google engine needs LEGATO_TRANSLATION_API_KEY (an OAuth access token "
                "or API key) and LEGATO_TRANSLATION_GOOGLE_PROJECT."
            )
        return GoogleTranslator(
            project=google_project, token=api_key, endpoint=url, timeout_seconds=timeout_seconds
        )
    raise UnknownAdapter(
        f"Unknown translation engine {engine!r}.", details={"engines": list(TRANSLATION_ENGINES)}
    )


def build_translations(
    *,
    translator: Translator,
    cipher: Callable[[], ContentCipher],
    registry: Callable[[], Registry] | None = None,
) -> Translations:
    """``registry``: when given, a published translation is registered as a derivative work."""
    on_publish = None
    if registry is not None:
        from ai.translation.derivative import register_translation

        def on_publish(session: Session, translation: Translation, text: str) -> None:
            register_translation(registry(), session, translation, text)

    return Translations(translator=translator, cipher=cipher, on_publish=on_publish)

SPEECH_ENGINES = ("espeak-ng", "google", "polly")
MEDIA_STORES = ("local", "s3")


def build_synthesizer(
    *,
    engine: str,
    google_api_key: str | None = None,
    google_url: str | None = None,
    polly_region: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    polly_endpoint: str | None = None,
    polly_engine: str = "standard",
) -> SpeechSynthesizer:
    if engine == "espeak-ng":
        from ai.speech.synth.espeak import EspeakSynthesizer

        return EspeakSynthesizer()
    if engine == "google":
        from ai.speech.synth.google import DEFAULT_URL, GoogleSynthesizer

        if not google_api_key:
            raise UnknownAdapter("The google speech engine needs an API key.")
        return GoogleSynthesizer(api_key=google_api_key, base_url=google_url or DEFAULT_URL)
    if engine == "polly":
        from ai.speech.synth.polly import PollySynthesizer

        if not (polly_region and aws_access_key_id and aws_secret_access_key):
            raise UnknownAdapter("The polly speech engine needs a region and AWS credentials.")
        return PollySynthesizer(
            region=polly_region,
            access_key_id=aws_access_key_id,
            secret_access_key=aws_secret_access_key,
            endpoint=polly_endpoint,
            engine=polly_engine,
        )
    raise UnknownAdapter(f"Unknown speech engine {engine!r}; one of {', '.join(SPEECH_ENGINES)}.")


def build_media_store(
    *,
    store: str,
    data_dir: Path,
    s3_endpoint: str | None = None,
    s3_bucket: str | None = None,
    s3_region: str = "us-east-1",
    s3_access_key_id: str | None = None,
    s3_secret_access_key: str | None = None,
) -> MediaStore:
    if store == "local":
        return LocalMediaStore(data_dir / "media")
    if store == "s3":
        from ai.speech.media.s3 import S3MediaStore

        if not (s3_endpoint and s3_bucket and s3_access_key_id and s3_secret_access_key):
            raise UnknownAdapter("The s3 media store needs an endpoint, a bucket and credentials.")
        return S3MediaStore(
            endpoint=s3_endpoint,
            bucket=s3_bucket,
            region=s3_region,
            access_key_id=s3_access_key_id,
            secret_access_key=s3_secret_access_key,
        )
    raise UnknownAdapter(f"Unknown media store {store!r}; one of {', '.join(MEDIA_STORES)}.")


@dataclass
class Speech:
    """What the gateway needs of narration: the engine, the store and the job runner."""

    synth: SpeechSynthesizer
    store: MediaStore
    jobs: SpeechJobs


def build_speech(
    *,
    engine: str,
    media_store: str,
    data_dir: Path,
    cipher: ContentCipher,
    max_chars: int,
    max_attempts: int,
    lease_seconds: float,
    retry_base_seconds: float,
    media_options: dict[str, Any] | None = None,
    **engine_options: Any,
) -> Speech:
    """``engine_options`` are the keyword arguments of :func:`build_synthesizer` (keys, endpoints),
    ``media_options`` those of :func:`build_media_store`."""
    synth = build_synthesizer(engine=engine, **engine_options)
    store = build_media_store(store=media_store, data_dir=data_dir, **(media_options or {}))
    jobs = SpeechJobs(
        synth=synth,
        store=store,
        cipher=cipher,
        work_dir=data_dir / "speech-work",
        lease_seconds=lease_seconds,
        max_attempts=max_attempts,
        retry_base_seconds=retry_base_seconds,
        max_chars=max_chars,
    )
    return Speech(synth=synth, store=store, jobs=jobs)
