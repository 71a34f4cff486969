"""A published translation is a registered derivative work: its certificate names the original's
certificate and SHA-256, the translator and the engine; verification checks the link; another writer
registering the translated text as their own is refused like any copy."""

from __future__ import annotations

import json

import pytest
from factories import auth_headers, make_user
from test_translation_workflow import ENGINE, TEXT, _publish_chapter, _run_jobs

from ai.translation.protocol import Pair
from registry.certificate_verify import verify_certificate

pytestmark = pytest.mark.skipif(
    Pair("en", "es") not in ENGINE.pairs(), reason="Debian apertium and apertium-eng-spa are not installed"
)


LONG = TEXT + (
    "\n\nThe caravan left the city before dawn. The camels were tired, but the road was long and the "
    "merchants wanted to reach the well before the heat of the day.\n\n"
    "Her mother had told her never to trust a stranger who sells cloth at night, and she remembered "
    "those words when the man with the blue turban opened his basket.\n\n"
    "At the gate of the old town the soldiers asked for papers. Amara showed them the letter from her "
    "brother, and they let her pass without a word."
)


def test_published_translation_is_a_verified_derivative(client, session, container):
    writer, copier = make_user(session, container), make_user(session, container)
    h = auth_headers(container, writer)
    story, chapter = _publish_chapter(client, h, content=LONG)
    original_cert = client.get(f"/stories/{story['id']}/chapters/{chapter['id']}").json()["certificate_id"]
    tid = client.post(f"/chapters/{chapter['id']}/translations", json={"language": "es"}, headers=h).json()[
        "translation"
    ]["id"]
    _run_jobs(container)
    client.put(f"/translations/{tid}", json={"review_all": True}, headers=h)
    meta = client.post(f"/translations/{tid}/publish", headers=h).json()
    assert meta["certificate_id"] and meta["certificate_id"] != original_cert

    data = container.latest_certificate_bytes(meta["certificate_id"])
    cert = json.loads(data)
    link = cert["derived_from"]
    assert link["certificate_id"] == original_cert and link["engine"] == "apertium"
    assert link["sha256"] == chapter_sha(client, story, chapter)
    assert link["translator"]["id"] == writer.id and link["language"] == "es"
    assert cert["content"]["sha256"] == meta["sha256"]

    report = container.verify_certificate(data, None, None)  # the server finds the original itself
    checks = {r.check: r.status for r in report.results}
    assert checks["derived_from"] == "pass" and report.ok, report.results

    # the original's certificate has no derived_from and skips the check
    plain = container.verify_certificate(container.latest_certificate_bytes(original_cert), None, None)
    assert {r.check: r.status for r in plain.results}["derived_from"] == "skip"

    # offline: without the original it fails; with another certificate it fails; with it, it passes
    kw = {"trust": container.trust(), "chain": container.chain}
    assert verify_certificate(data, **kw).first_failure.check == "derived_from"
    wrong = verify_certificate(data, original=data, **kw)
    assert wrong.first_failure is not None and wrong.first_failure.check == "derived_from"
    right = verify_certificate(data, original=container.latest_certificate_bytes(original_cert), **kw)
    assert {r.check: r.status for r in right.results}["derived_from"] == "pass"
    forged = json.loads(container.latest_certificate_bytes(original_cert))
    forged["content"]["sha256"] = "0" * 64
    broken = verify_certificate(data, original=json.dumps(forged).encode(), **kw)
    assert broken.first_failure.check == "derived_from" and "does not verify" in broken.first_failure.detail

    # another writer who registers the Spanish text as their own is refused
    spanish = client.get(f"/stories/{story['id']}/chapters/{chapter['id']}?lang=es").json()["content"]
    hc = auth_headers(container, copier)
    s2 = client.post("/stories", json={"title": "Mine", "status": "ongoing"}, headers=hc).json()
    c2 = client.post(
        f"/stories/{s2['id']}/chapters", json={"title": "Mine", "content": spanish}, headers=hc
    ).json()
    refused = client.post(f"/chapters/{c2['id']}/publish", headers=hc)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "PLAGIARISM_SUSPECTED"
    assert LONG not in json.dumps(refused.json())


def chapter_sha(client, story, chapter):
    return client.get(f"/chapters/{chapter['id']}/versions").json()["items"][0]["sha256"]
