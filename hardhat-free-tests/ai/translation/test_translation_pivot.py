"""Copies across languages: a Spanish translation of another author's registered English chapter is
refused (409 with the evidence, marked as found through a translation); an unrelated Spanish chapter
is not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import make_settings
from factories import auth_headers, make_user
from fastapi.testclient import TestClient
from test_translation_workflow import ENGINE, _publish_chapter

from ai.translation import text
from ai.translation.protocol import Pair
from api.app import create_app
from registry.fingerprint_key import FingerprintKey

sys.path.insert(0, str(Path(__file__).parents[2] / "registry"))  # the plagiarism test set's generator
from plagiarism_corpus.generator import ChapterWriter

# ~30,000 characters: long enough that the LSH finds a round-tripped machine translation every time
# (docs/plagiarism.md: whole-chapter recall at this length).
LONG = ChapterWriter(4242).chapter(30_000)

pytestmark = pytest.mark.skipif(
    not {Pair("en", "es"), Pair("es", "en")} <= set(ENGINE.pairs()),
    reason="Debian apertium and apertium-eng-spa are not installed",
)

OTHER = (
    "The lighthouse keeper climbed the stairs every night to light the lamp for the fishing boats.\n\n"
    "His daughter counted the ships that came back from the sea and wrote their names in a blue book.\n\n"
    "One winter a storm broke the glass of the lantern, and the whole village carried candles to the "
    "rocks so that the boats could find the harbour in the dark.\n\n"
    "In the spring the keeper built a new lantern from copper and salt-white glass, and the children "
    "painted the door of the tower red."
)


def _spanish(english: str) -> str:
    return text.join([s.text for s in ENGINE.translate(text.split(english), source="en", target="es")])


def _publish(client, h, content):
    story = client.post("/stories", json={"title": "Mía", "status": "ongoing"}, headers=h).json()
    chapter = client.post(
        f"/stories/{story['id']}/chapters", json={"title": "Uno", "content": content}, headers=h
    ).json()
    return client.post(f"/chapters/{chapter['id']}/publish", headers=h)


@pytest.fixture
def pinned(tmp_path, container_factory):
    """A container whose fingerprint key is fixed: LSH candidates depend on the key, so a fixed key makes
    this test as deterministic as its text (the recall over many keys is in docs/plagiarism.md)."""
    FingerprintKey(b"pivot-test-fingerprint-key-0001!").install(tmp_path)
    c = container_factory(make_settings(tmp_path))
    with TestClient(create_app(container=c), raise_server_exceptions=False) as client:
        yield c, client


def test_translated_copy_is_refused_unrelated_text_is_not(pinned, session):
    container, client = pinned
    assert container.registry.pivot is not None
    author, copier = make_user(session, container), make_user(session, container)
    _publish_chapter(client, auth_headers(container, author), content=LONG)
    hc = auth_headers(container, copier)
    refused = _publish(client, hc, _spanish(LONG))
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "PLAGIARISM_SUSPECTED"
    assert error["details"]["evidence"]["via_translation"] == {"from": "es"}
    assert error["details"]["evidence"]["author_id"] == author.id
    assert _publish(client, hc, _spanish(OTHER)).status_code == 200


def test_pivot_off_or_same_language_does_nothing(container):
    assert container.plagiarism_pivot("The river was old and the market was closed. " * 20) is None
