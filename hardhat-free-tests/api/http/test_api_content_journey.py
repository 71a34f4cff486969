"""The issue's "done when", end to end over HTTP: a writer publishes chapters whose certificates
``legato verify`` accepts with the chapter text; a reader lists, searches, reads, comments and rates;
nobody else can write."""

from __future__ import annotations

from factories import auth_headers, make_user
from typer.testing import CliRunner

from api.cli import app as cli_app

CHAPTERS = [
    ("The Cartographer", "Odile drew the coastline from memory every morning, and every morning it was "
     "different: a cove where there had been a cliff, a lighthouse that had walked two miles north."),
    ("The Survey", "The surveyors arrived in October with brass instruments and polite questions. They "
     "measured the bay three times and wrote three different numbers in their ledger, then left quietly."),
]


def test_writer_publishes_verifiable_chapters_and_a_reader_takes_part(client, session, container, tmp_path,
                                                                       monkeypatch):
    writer = make_user(session, container, role="writer")
    wh = auth_headers(container, writer)
    story = client.post("/stories", json={"title": "Maps of Shifting Coasts", "genre": "literary",
                                          "tags": ["sea", "maps"]}, headers=wh).json()
    published = []
    for title, text in CHAPTERS:
        ch = client.post(f"/stories/{story['id']}/chapters", json={"title": title, "content": text},
                         headers=wh).json()
        r = client.post(f"/chapters/{ch['id']}/publish", headers=wh)
        assert r.status_code == 200, r.text
        published.append((r.json(), text))

    ca = client.get("/registry/tsa/ca.pem")
    assert ca.status_code == 200
    (tmp_path / "tsa.pem").write_bytes(ca.content)
    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "verifier"))
    trust = str(tmp_path / "trust.json")  # pinned once, from the platform's well-known URL
    (tmp_path / "trust.json").write_bytes(client.get("/.well-known/legato-trust.json").content)
    runner = CliRunner()
    for n, (_, text) in enumerate(published):
        (tmp_path / f"text{n}.txt").write_text(text, encoding="utf-8")
    for n, (chapter, _) in enumerate(published):
        cert = client.get(f"/registry/certificates/{chapter['certificate_id']}")
        assert cert.status_code == 200
        cert_file, pem = str(tmp_path / f"cert{n}.json"), str(tmp_path / "tsa.pem")
        (tmp_path / f"cert{n}.json").write_bytes(cert.content)
        result = runner.invoke(cli_app, ["verify", cert_file, "--text", str(tmp_path / f"text{n}.txt"),
                                         "--tsa-ca", pem, "--trust", trust])
        assert result.exit_code == 0, result.output
        wrong = runner.invoke(cli_app, ["verify", cert_file, "--text", str(tmp_path / f"text{1 - n}.txt"),
                                        "--trust", trust])
        assert wrong.exit_code == 1 and "content_hash" in wrong.output

    reader = make_user(session, container, role="reader")
    rh = auth_headers(container, reader)
    assert story["id"] in [s["id"] for s in client.get("/stories", headers=rh).json()["items"]]
    found = client.get("/search", params={"q": "shifting coast"}).json()["items"]
    assert [s["id"] for s in found] == [story["id"]]
    listed = client.get(f"/stories/{story['id']}/chapters", headers=rh).json()["items"]
    assert [c["title"] for c in listed] == [t for t, _ in CHAPTERS]
    first = client.get(f"/stories/{story['id']}/chapters/{listed[0]['id']}", headers=rh).json()
    assert first["content"] == CHAPTERS[0][1]
    assert first["certificate_id"] == published[0][0]["certificate_id"]
    comment = client.post(f"/chapters/{first['id']}/comments", json={"body": "Haunting."}, headers=rh)
    assert comment.status_code == 201
    rated = client.put(f"/stories/{story['id']}/rating", json={"stars": 5}, headers=rh)
    assert rated.json()["average"] == 5.0
    assert client.post("/stories", json={"title": "Mine"}, headers=rh).status_code == 403

    rival = auth_headers(container, make_user(session, container, role="writer"))
    assert client.put(f"/stories/{story['id']}", json={"title": "Stolen"}, headers=rival).status_code == 403
    edit = client.put(f"/chapters/{first['id']}", json={"content": "Mine now."}, headers=rival)
    assert edit.status_code == 403
