"""Chapter text at rest: AES-256-GCM sealing, row binding, keyrings, rotation, and no plaintext in the
database (checked on every table's values, and on the raw SQLite file bytes)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from conftest import make_settings
from factories import auth_headers, make_chapter, make_story, make_user
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text, update
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.db import make_engine
from api.http.app import create_app
from api.migrate import upgrade
from api.wiring import Container
from content.crypto import (
    CiphertextInvalid,
    ContentCipher,
    Keyring,
    KeyringError,
    Sealed,
    chapter_aad,
    key_id_for,
    new_key,
    version_aad,
)
from content.models.stories import Chapter
from content.rotation import reencrypt_all, rows_by_key
from content.texts import chapter_text

SENTENCES = [
    "Marguerite folded the ninth letter into a paper heron and set it on the sill.",
    "Nobody in Vellmouth had ever heard the foghorn sing in a minor key before.",
]
SECRET_TEXT = "\n\n".join(SENTENCES)


def env_keyring(*keys: bytes) -> Keyring:
    return Keyring.from_setting(",".join(base64.b64encode(k).decode() for k in keys))


# --- the cipher --------------------------------------------------------------------------------------
def test_seal_open_round_trip_and_fresh_nonces():
    cipher = ContentCipher(env_keyring(new_key()))
    a, b = cipher.seal(SECRET_TEXT, b"aad"), cipher.seal(SECRET_TEXT, b"aad")
    assert a.blob != b.blob
    assert SENTENCES[0].encode() not in a.blob
    assert cipher.open(a, b"aad") == SECRET_TEXT


def test_ciphertext_is_bound_to_its_row_and_tampering_fails():
    cipher = ContentCipher(env_keyring(new_key()))
    sealed = cipher.seal("text of chapter one", chapter_aad("ch-1", 1))
    with pytest.raises(CiphertextInvalid):
        cipher.open(sealed, chapter_aad("ch-2", 1))  # moved to another chapter
    with pytest.raises(CiphertextInvalid):
        cipher.open(sealed, chapter_aad("ch-1", 2))  # an old revision put back
    with pytest.raises(CiphertextInvalid):
        cipher.open(sealed, version_aad("ch-1", 1))  # swapped with a version row
    flipped = bytearray(sealed.blob)
    flipped[20] ^= 1
    with pytest.raises(CiphertextInvalid):
        cipher.open(Sealed(sealed.key_id, bytes(flipped)), chapter_aad("ch-1", 1))


def test_environment_keyring_first_key_seals_others_still_open():
    old, new = new_key(), new_key()
    sealed_old = ContentCipher(env_keyring(old)).seal("before", b"x")
    both = ContentCipher(env_keyring(new, old))
    assert both.keyring.current_id == key_id_for(new)
    assert both.open(sealed_old, b"x") == "before"
    assert both.seal("after", b"x").key_id == key_id_for(new)
    with pytest.raises(KeyringError):
        env_keyring(new).key(key_id_for(old))
    with pytest.raises(KeyringError):
        env_keyring(new).rotate()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_bad_environment_key_is_refused(value):
    with pytest.raises(KeyringError):
        Keyring.from_setting(value)


def test_file_keyring_is_private_rotates_and_other_processes_follow(tmp_path):
    path = tmp_path / "keys" / "content.keyring"
    first = Keyring.from_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = ContentCipher(first).seal("old text", b"a")
    server = Keyring.from_file(path)  # another process holding the same file
    new_id = first.rotate()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert new_id != sealed.key_id and set(first.key_ids) == {sealed.key_id, new_id}
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert server.current_id == new_id
    assert ContentCipher(server).open(sealed, b"a") == "old text"
    assert Keyring.from_file(path).current_id == new_id


# --- rows in the database ------------------------------------------------------------------------------
def test_reencrypt_moves_every_row_to_the_current_key(session, container, tmp_path, session_factory):
    cipher = ContentCipher(Keyring.from_file(tmp_path / "ring"))
    container.__dict__["content_cipher"] = cipher
    writer = make_user(session, container)
    story = make_story(session, container, writer)
    chapters = [make_chapter(session, container, story, content=f"{SENTENCES[0]} {n}") for n in range(3)]
    old = cipher.keyring.current_id
    new = cipher.keyring.rotate()
    assert rows_by_key(session).get(old) == 3
    report = reencrypt_all(session_factory, cipher, batch_size=2)
    assert report.chapters == 3
    session.expire_all()
    assert rows_by_key(session) == {new: 3}
    for n, ch in enumerate(chapters):
        assert chapter_text(cipher, session.get(Chapter, ch.id)) == f"{SENTENCES[0]} {n}"
    assert reencrypt_all(session_factory, cipher).chapters == 0


def test_swapped_ciphertexts_do_not_decrypt(session, container):
    writer = make_user(session, container)
    story = make_story(session, container, writer)
    a = make_chapter(session, container, story, content="Alpha text.")
    b = make_chapter(session, container, story, content="Beta text.")
    blob_a = session.scalar(select(Chapter.body_enc).where(Chapter.id == a.id))
    session.execute(update(Chapter).where(Chapter.id == b.id).values(body_enc=blob_a, key_id=a.key_id))
    session.expire_all()
    with pytest.raises(CiphertextInvalid):
        chapter_text(container.content_cipher, session.get(Chapter, b.id))


def _all_values(connection) -> str:
    """Every value of every table, as text, through the test's own connection (uncommitted rows too)."""
    parts = []
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    parts.append(bytes(value).decode("utf-8", "replace"))
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def test_no_chapter_sentence_in_any_table(client, session, container, connection):
    writer = make_user(session, container)
    h = auth_headers(container, writer)
    story = client.post("/stories", json={"title": "Letters to Vellmouth", "status": "ongoing"},
                        headers=h).json()
    chapter = client.post(f"/stories/{story['id']}/chapters",
                          json={"title": "Herons", "content": SECRET_TEXT}, headers=h).json()
    edited = SECRET_TEXT + "\n\nThe heron flew."
    assert client.put(f"/chapters/{chapter['id']}", json={"content": edited}, headers=h).status_code == 200
    published = client.post(f"/chapters/{chapter['id']}/publish", headers=h)
    assert published.status_code == 200 and published.json()["version"] == 1
    dump = _all_values(connection)
    assert "Letters to Vellmouth" in dump  # the scan does see the rows
    for sentence in SENTENCES:
        assert sentence not in dump
        assert sentence.split(" ", 3)[-1] not in dump
    raw = connection.execute(text("SELECT body_enc FROM chapters")).scalars().all()
    assert raw and all(SENTENCES[0].encode() not in bytes(b) for b in raw)


def test_raw_sqlite_file_holds_no_chapter_text(tmp_path, shared_data_dir):
    """A real file database, really committed: its bytes (and its WAL's) never contain a sentence."""
    db = tmp_path / "raw.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    container = Container(make_settings(shared_data_dir), engine=engine)
    with TestClient(create_app(container=container)) as client:
        reg = client.post("/auth/register", json={"email": "w@example.org", "username": "wri", "password":
                                                  "a long password", "role": "writer"})
        assert reg.status_code == 201
        token = client.post("/auth/login", json={"email": "wri", "password": "a long password"}).json()
        h = {"Authorization": f"Bearer {token['access_token']}"}
        story = client.post("/stories", json={"title": "Vellmouth Harbour Tales"}, headers=h).json()
        for n in range(3):
            r = client.post(f"/stories/{story['id']}/chapters",
                            json={"title": f"Part {n}", "content": SECRET_TEXT}, headers=h)
            assert r.status_code == 201
        first = client.get(f"/stories/{story['id']}/chapters", headers=h).json()["items"][0]
        assert client.post(f"/chapters/{first['id']}/publish", headers=h).status_code == 200
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in _sqlite_files(db))
    assert b"Vellmouth Harbour Tales" in raw
    for sentence in SENTENCES:
        assert sentence.encode() not in raw
        assert sentence.encode("utf-16-le") not in raw


def _sqlite_files(db: Path) -> list[Path]:
    return [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-journal")) if p.exists()]


def test_cli_keys_rotate_reencrypts_and_status_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGATO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["keys", "status"]).exit_code == 0  # creates the keyring and schema
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    ring = Keyring.from_file(tmp_path / "data" / "keys" / "content.keyring")
    cipher = ContentCipher(ring)
    sealed = cipher.seal("Kept secret.", chapter_aad("c1", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO users (id, email, username, password_hash, role, is_active, created_at, updated_at) "
            "VALUES ('u1', 'u@x.org', 'u1', 'x', 'writer', 1, '2026-01-01', '2026-01-01')")
        conn.exec_driver_sql(
            "INSERT INTO stories (id, author_id, title, description, content_rating, status, created_at, "
            "updated_at) VALUES ('s1', 'u1', 'T', '', 'everyone', 'draft', '2026-01-01', '2026-01-01')")
        conn.execute(text(
            "INSERT INTO chapters (id, story_id, number, title, status, price_coins, word_count, key_id, "
            "body_enc, revision, publish_attempts, created_at, updated_at) VALUES ('c1', 's1', 1, 'One', "
            "'draft', 0, 2, :kid, :blob, 1, 0, '2026-01-01', '2026-01-01')"),
            {"kid": sealed.key_id, "blob": sealed.blob})
    result = runner.invoke(cli_app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 chapters" in result.output
    with engine.connect() as conn:
        kid, blob = conn.execute(text("SELECT key_id, body_enc FROM chapters WHERE id = 'c1'")).one()
    engine.dispose()
    fresh = Keyring.from_file(tmp_path / "data" / "keys" / "content.keyring")
    assert kid == fresh.current_id != sealed.key_id
    assert ContentCipher(fresh).open(Sealed(kid, blob), chapter_aad("c1", 1)) == "Kept secret."
    status = runner.invoke(cli_app, ["keys", "status"])
    assert f"* {kid}  1 texts" in status.output
