"""Migration 0006: legacy (format-1, unkeyed) fingerprints become sealed, keyed ones, without the text.

Runs on a fresh database of the suite's backend (a SQLite file, or its own PostgreSQL schema), migrated
to 0005 first, with a row as the registry wrote it before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from conftest import make_settings, own_schema_engine
from factories import chapter_text
from sqlalchemy import Engine, text

from api.db import make_engine
from api.migrate import alembic_config
from registry.canonical import canonicalize, content_sha256
from registry.fingerprint import Fingerprint, Signatures, fingerprint
from registry.fingerprint_key import FingerprintKey, sealed_key_id

TEST_DATABASE_URL = os.environ.get("LEGATO_TEST_DATABASE_URL")


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    if not TEST_DATABASE_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'mig.db'}")
        yield engine
        engine.dispose()
        return
    with own_schema_engine("fpmig") as engine:
        yield engine


def _migrate(engine: Engine, revision: str, key: FingerprintKey | None = None, *, down: bool = False) -> None:
    cfg = alembic_config(engine)
    if key is not None:
        cfg.attributes["fingerprint_key"] = key
    (command.downgrade if down else command.upgrade)(cfg, revision)


def _legacy_row(engine: Engine, canonical: str) -> tuple[str, bytes]:
    """A registration as the registry stored it before 0006 (format 1: unkeyed, unsealed)."""
    blob = fingerprint(canonical).to_bytes(version=1)
    now = datetime.now(UTC)
    reg_id = "00000000-0000-4000-8000-000000000001"
    table = sa.Table("registrations", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(table.insert().values(
            id=reg_id, certificate_id="00000000-0000-4000-8000-000000000002", work_id=reg_id, version=1,
            status="pending_anchor", title="Legacy", author_id="amina", author_name="Amina",
            sha256=content_sha256(canonical), length=len(canonical), fingerprint=blob,
            minhash="{}", leaf_nonce="00" * 16, attempts=0, created_at=now, updated_at=now,
        ))
    return reg_id, blob


def _stored(engine: Engine, reg_id: str) -> tuple[bytes, bytes | None]:
    with engine.connect() as conn:
        query = text("SELECT fingerprint, fingerprint_signatures FROM registrations WHERE id = :id")
        row = conn.execute(query, {"id": reg_id}).one()
    return bytes(row[0]), None if row[1] is None else bytes(row[1])


def test_a_legacy_row_is_sealed_and_still_confirms_a_copy(fresh_engine, tmp_path, container_factory) -> None:
    original = canonicalize(chapter_text(501))
    _migrate(fresh_engine, "0005_licensing")
    reg_id, legacy = _legacy_row(fresh_engine, original)

    container = container_factory(make_settings(tmp_path / "data"), engine_=fresh_engine)
    key = container.fingerprint_key
    _migrate(fresh_engine, "head", key)

    sealed, signatures = _stored(fresh_engine, reg_id)
    assert sealed_key_id(sealed) == key.key_id
    assert sealed != legacy and legacy[:4] not in sealed
    for h in fingerprint(original).sequence.tolist():  # no plain shingle hash survives in the row
        assert int(h).to_bytes(8, "little") not in sealed and int(h).to_bytes(8, "little") not in signatures
    sig = Signatures.from_bytes(signatures)
    assert sig.key_id == key.key_id
    assert sig.hashvalues.tolist() == key.fingerprinter(original).hashvalues.tolist()

    # The registry (rebuilding its index from the signatures) refuses another author's copy, with
    # passages located in the legacy registration's text.
    paragraphs = original.split("\n\n")
    copy = "\n\n".join([*paragraphs[:-1], chapter_text(502).split("\n\n")[0]])
    with container.session_factory() as session:
        report = container.registry.check(session, text=copy, author_id="kofi")
    assert report.refused and report.matches[0]["registration_id"] == reg_id
    passage = report.matches[0]["passages"][0]
    assert passage["old"][0] == 0 and passage["new"][0] == 0
    assert original[passage["old"][1] :].lstrip(".!?\n") == paragraphs[-1]  # up to the last copied word


def test_downgrade_writes_the_legacy_bytes_back(fresh_engine, tmp_path) -> None:
    original = canonicalize(chapter_text(503))
    _migrate(fresh_engine, "0005_licensing")
    reg_id, legacy = _legacy_row(fresh_engine, original)
    key = FingerprintKey.load_or_create(tmp_path)
    _migrate(fresh_engine, "head", key)
    assert _stored(fresh_engine, reg_id)[0] != legacy
    _migrate(fresh_engine, "0005_licensing", key, down=True)
    with fresh_engine.connect() as conn:
        blob = conn.execute(text("SELECT fingerprint FROM registrations")).scalar_one()
    assert bytes(blob) == legacy
    assert Fingerprint.from_bytes(bytes(blob)).key_id == ""


def test_an_empty_database_needs_no_key(fresh_engine, tmp_path, monkeypatch) -> None:
    """Fresh installs and the test suite migrate without a key file being created anywhere."""
    monkeypatch.chdir(tmp_path)
    _migrate(fresh_engine, "head")
    assert not (tmp_path / "var").exists()
