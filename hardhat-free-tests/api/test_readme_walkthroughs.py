"""README's walkthroughs run as written: the command line and HTTP ones register different example texts
(the same text under two authors is refused, 409), the HTTP one logs in by username and uses ``$BASE``,
and the certificate it publishes verifies against the trust document it downloads."""

from __future__ import annotations

import re
from pathlib import Path

from registry.certificate_verify import verify_certificate
from registry.service import Author
from registry.trust import Trust

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    return README[start:README.index("\n## ", start + 1)]


def test_walkthroughs_use_distinct_shipped_examples_base_and_username_login():
    cli, http = _section("## A first certificate, from the command line"), _section("## Over HTTP")
    cli_files = set(re.findall(r"examples/[\w.-]+\.txt", cli))
    http_files = set(re.findall(r"examples/[\w.-]+\.txt", http))
    assert cli_files and http_files and not cli_files & http_files
    assert all((ROOT / f).is_file() for f in cli_files | http_files)
    assert "localhost:8000" not in http and "$BASE/" in http
    login = next(line for line in http.splitlines() if '"password"' in line and "email" not in line)
    assert '"username":"wanjiru"' in login


def test_both_walkthroughs_succeed_in_one_deployment(client, container, session):
    cli_text = (ROOT / "examples/harmattan-chapter1.txt").read_bytes()
    container.registry.register(session, text=cli_text, title="Chapter 1",
                                author=Author(id="local:amina yusuf", display_name="Amina Yusuf"))
    session.commit()
    r = client.post("/auth/register", json={"email": "wanjiru@example.org", "username": "wanjiru",
                                            "password": "a long password", "role": "writer"})
    assert r.status_code == 201, r.text
    login = client.post("/auth/login", json={"username": "wanjiru", "password": "a long password"})
    auth = {"authorization": f"Bearer {login.json()['access_token']}"}
    story = client.post("/stories", headers=auth,
                        json={"title": "River Songs", "genre": "literary", "language": "en"}).json()["id"]
    text = (ROOT / "examples/river-songs-chapter1.txt").read_text(encoding="utf-8")
    ch = client.post(f"/stories/{story}/chapters", headers=auth, json={"title": "Chapter 1", "content": text})
    assert ch.status_code == 201, ch.text
    published = client.post(f"/chapters/{ch.json()['id']}/publish", headers=auth)
    assert published.status_code == 200, published.text  # not 409: a different text from the CLI's
    cert_id = published.json()["certificate_id"]
    cert = client.get(f"/registry/certificates/{cert_id}").content
    trust = Trust.parse(client.get("/.well-known/legato-trust.json").content)
    assert verify_certificate(cert, text=text, trust=trust).ok
    assert client.get(f"/verify/{cert_id}").json()["ok"] is True
