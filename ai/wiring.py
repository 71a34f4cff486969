"""Builders of ``ai``: explicit keyword arguments in, live objects out. ``api/wiring.py`` (the Container)
calls them with values from Settings; nothing here reads the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from ai.errors import InvalidRequest
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
            raise InvalidRequest(f"The {engine} engine needs LEGATO_TRANSLATION_URL.")
        if engine == "apertium-apy":
            return ApertiumApyTranslator(url=url, timeout_seconds=timeout_seconds)
        return LibreTranslateTranslator(url=url, api_key=api_key, timeout_seconds=timeout_seconds)
    if engine == "deepl":
        from ai.translation.deepl_adapter import DeepLTranslator

        if not api_key:
            raise InvalidRequest("The deepl engine needs LEGATO_TRANSLATION_API_KEY.")
        return DeepLTranslator(auth_key=api_key, server_url=url, timeout_seconds=timeout_seconds)
    if engine == "google":
        from ai.translation.google_v3 import GoogleTranslator

        if not api_key or not google_project:
            raise InvalidRequest(
                "The google engine needs LEGATO_TRANSLATION_API_KEY (an OAuth access token "
                "or API key) and LEGATO_TRANSLATION_GOOGLE_PROJECT."
            )
        return GoogleTranslator(
            project=google_project, token=api_key, endpoint=url, timeout_seconds=timeout_seconds
        )
    raise InvalidRequest(
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
