"""Manuscript import: Markdown, DOCX and EPUB (made here with python-docx and ebooklib) split into draft
chapters, over HTTP and with ``legato import``; bad files are 400 with a clear code."""

from __future__ import annotations

import io
import zipfile

import pytest
from factories import auth_headers, make_story, make_user
from typer.testing import CliRunner

from api.http.errors import STATUS_BY_CODE
from content import importer
from content.errors import ContentError, InvalidManuscript, ManuscriptTooLarge
from content.importer import parse_manuscript

LIMIT = 500_000


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("The Salt Archive", level=0)  # Title style: a book title, no text of its own
    document.add_heading("Chapter One: Tide", level=1)
    document.add_paragraph("The tide came in twice that morning.")
    document.add_paragraph("Nobody on the quay said a word about it.")
    document.add_heading("Chapter Two: Ledger", level=2)
    document.add_paragraph("The harbourmaster's ledger had a page missing.")
    document.add_heading("Notes", level=3)  # below level 2: part of chapter two
    document.add_paragraph("Written in pencil.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_epub() -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("legato-test-book")
    book.set_title("Lanterns")
    book.set_language("en")
    c1 = epub.EpubHtml(title="Lantern One", file_name="c1.xhtml", lang="en")
    c1.content = "<h1>The First Lantern</h1><p>It was lit at dusk.</p><div><p>Its glass was blue.</p></div>"
    c2 = epub.EpubHtml(title="Second Night", file_name="c2.xhtml", lang="en")
    c2.content = ("<p>No heading here, the spine document names it.</p><h2>The Third Lantern</h2>"
                  "<blockquote><p>Quoted line.</p></blockquote><ul><li>a list</li></ul>")
    book.add_item(c1)
    book.add_item(c2)
    book.toc = (c1, c2)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", c1, c2]
    buf = io.BytesIO()
    epub.write_epub(buf, book)
    return buf.getvalue()


def test_markdown_splits_at_h1_and_h2_not_inside_code():
    md = (b"# The Book\n\n## One\n\nFirst *chapter*.\n\n```\n# not a heading\n```\n\n"
          b"## Two ##\nSecond.\n\n### Sub\nStill two.\n")
    chapters = parse_manuscript("book.md", md, max_chapter_chars=LIMIT)
    assert [c.title for c in chapters] == ["One", "Two"]
    assert "# not a heading" in chapters[0].content and "First *chapter*." in chapters[0].content
    assert "### Sub\nStill two." in chapters[1].content
    plain = parse_manuscript("notes.txt", b"Just text, no headings.", max_chapter_chars=LIMIT)
    assert [(c.title, c.content) for c in plain] == [("notes", "Just text, no headings.")]


def test_docx_splits_at_heading_styles():
    chapters = parse_manuscript("book.docx", make_docx(), max_chapter_chars=LIMIT)
    assert [c.title for c in chapters] == ["Chapter One: Tide", "Chapter Two: Ledger"]
    assert chapters[0].content == (
        "The tide came in twice that morning.\n\nNobody on the quay said a word about it."
    )
    assert "Notes\n\nWritten in pencil." in chapters[1].content


def test_epub_follows_the_spine_and_headings():
    chapters = parse_manuscript("book.epub", make_epub(), max_chapter_chars=LIMIT)
    assert [c.title for c in chapters] == ["The First Lantern", "Second Night", "The Third Lantern"]
    assert chapters[0].content == "It was lit at dusk.\n\nIts glass was blue."
    assert chapters[2].content == "Quoted line.\n\na list"


def test_bad_files_are_refused_with_a_code():
    for name, data, code in (
        ("book.pdf", b"%PDF-1.7 ...", "UNSUPPORTED_MANUSCRIPT_FORMAT"),
        ("book.docx", b"PK\x03\x04 not really a zip", "INVALID_MANUSCRIPT"),
        ("book.epub", b"not an epub at all", "INVALID_MANUSCRIPT"),
        ("book.md", b"\xff\xfe\x00bad utf-8 \xc3", "INVALID_MANUSCRIPT"),
        ("book.md", b"# Only a heading\n", "INVALID_MANUSCRIPT"),
        ("book.md", b"", "INVALID_MANUSCRIPT"),
    ):
        with pytest.raises(ContentError) as e:
            parse_manuscript(name, data, max_chapter_chars=LIMIT)
        assert e.value.code == code and STATUS_BY_CODE[e.value.code] == 400, name


def test_docx_that_is_a_zip_of_something_else_and_zip_bombs(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<not-word/>")
    with pytest.raises(InvalidManuscript):
        parse_manuscript("x.docx", buf.getvalue(), max_chapter_chars=LIMIT)
    monkeypatch.setattr(importer, "MAX_UNCOMPRESSED_BYTES", 100_000)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"0" * (importer.MAX_UNCOMPRESSED_BYTES + 1))
    with pytest.raises(ManuscriptTooLarge):
        parse_manuscript("x.docx", bomb.getvalue(), max_chapter_chars=LIMIT)
    with pytest.raises(InvalidManuscript):
        parse_manuscript("long.md", b"# A\n\n" + b"x" * 101, max_chapter_chars=100)


def test_http_import_creates_draft_chapters_after_existing_ones(client, session, container):
    writer = make_user(session, container)
    wh = auth_headers(container, writer)
    story = make_story(session, container, writer)
    client.post(f"/stories/{story.id}/chapters", json={"title": "Prologue", "content": "Before."}, headers=wh)
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    url = f"/stories/{story.id}/import"
    r = client.post(url, files={"file": ("book.docx", make_docx(), docx_type)}, headers=wh)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "docx" and body["count"] == 2
    assert [(c["number"], c["status"]) for c in body["chapters"]] == [(2, "draft"), (3, "draft")]
    listed = client.get(f"/stories/{story.id}/chapters", headers=wh).json()["items"]
    assert [c["title"] for c in listed] == ["Prologue", "Chapter One: Tide", "Chapter Two: Ledger"]
    assert client.get(f"/stories/{story.id}/chapters").json()["items"] == []  # nothing published
    first_id = body["chapters"][0]["id"]
    text = client.get(f"/stories/{story.id}/chapters/{first_id}", headers=wh).json()["content"]
    assert text.startswith("The tide came in twice")

    bad = client.post(url, files={"file": ("b.epub", b"junk", "application/epub+zip")}, headers=wh)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_MANUSCRIPT"
    epub_r = client.post(url, files={"file": ("l.epub", make_epub(), "application/epub+zip")}, headers=wh)
    assert epub_r.status_code == 201 and epub_r.json()["count"] == 3
    assert client.post(url, headers=wh).status_code == 422


def test_cli_import_with_progress(tmp_path, monkeypatch):
    from sqlalchemy import text

    from api.cli import app as cli_app
    from api.db import make_engine

    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGATO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (id, email, username, password_hash, role, is_active, created_at, updated_at) "
            "VALUES ('u1', 'u@x.org', 'u1', 'x', 'writer', 1, '2026-01-01', '2026-01-01')"))
        conn.execute(text(
            "INSERT INTO stories (id, author_id, title, description, content_rating, status, created_at, "
            "updated_at) VALUES ('s1', 'u1', 'T', '', 'everyone', 'draft', '2026-01-01', '2026-01-01')"))
    manuscript = tmp_path / "book.epub"
    manuscript.write_bytes(make_epub())
    result = runner.invoke(cli_app, ["import", str(manuscript), "--story", "s1", "--json"])
    assert result.exit_code == 0, result.output
    assert "importing book.epub" in result.stderr
    assert '"number": 3' in result.stdout
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT number, title, status FROM chapters ORDER BY number")).all()
    assert [tuple(r) for r in rows] == [(1, "The First Lantern", "draft"), (2, "Second Night", "draft"),
                                         (3, "The Third Lantern", "draft")]
    missing = runner.invoke(cli_app, ["import", str(manuscript), "--story", "nope"])
    assert missing.exit_code == 1
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"junk")
    refused = runner.invoke(cli_app, ["import", str(bad), "--story", "s1"])
    assert refused.exit_code == 1 and "INVALID_MANUSCRIPT" in refused.output
    engine.dispose()
