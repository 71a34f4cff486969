"""Manuscript import: Markdown, DOCX or EPUB split into draft chapters at its headings.

* Markdown: ATX headings ``#`` and ``##`` start chapters (lines inside fenced code blocks are not
  headings); the body keeps its Markdown.
* DOCX: paragraphs styled Title, Heading 1 or Heading 2 start chapters; other paragraphs are joined
  with blank lines.
* EPUB: spine documents in reading order; each document starts a chapter (titled by its heading when
  it opens with one, else by its table-of-contents entry or ``<title>``) and every ``h1``/``h2`` inside
  starts another.

A section with a heading but no text (a book title above the first chapter, a part divider) is dropped.
Imported chapters are drafts: nothing is registered or published until the author publishes.

Uploaded bytes are untrusted: the file is never handed to a parser by name, archives are checked for
their uncompressed size before parsing (zip bombs), and any parser failure is a 400
``INVALID_MANUSCRIPT``, never a 500.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy.orm import Session

from api.content.chapters import create_chapter
from api.content.crypto import ContentCipher
from api.content.errors import InvalidManuscript, UnsupportedManuscript
from api.errors import PayloadTooLarge
from api.models.content import Chapter, Story

MAX_MANUSCRIPT_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_CHAPTERS = 1000
MAX_TITLE_CHARS = 300
FORMATS = ("markdown", "docx", "epub")
_EXTENSIONS = {
    ".md": "markdown", ".markdown": "markdown", ".txt": "markdown", ".docx": "docx", ".epub": "epub",
}
_ATX = re.compile(r"^ {0,3}(#{1,2})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


@dataclass(frozen=True)
class ManuscriptChapter:
    title: str
    content: str


class _Sections:
    """Collects (title, paragraphs) and drops sections without text."""

    def __init__(self) -> None:
        self.items: list[tuple[str, list[str]]] = []

    def start(self, title: str) -> None:
        self.items.append((" ".join(title.split())[:MAX_TITLE_CHARS], []))

    def add(self, text: str, default_title: Callable[[], str]) -> None:
        if not text.strip():
            return
        if not self.items:
            self.start(default_title())
        self.items[-1][1].append(text)

    def chapters(self, joiner: str) -> list[ManuscriptChapter]:
        out = []
        for n, (title, parts) in enumerate(self.items, 1):
            body = joiner.join(parts).strip("\n")
            if body.strip():
                out.append(ManuscriptChapter(title or f"Chapter {n}", body))
        return out


def detect_format(filename: str, data: bytes) -> str:
    ext = PurePath(filename or "").suffix.lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile as e:
            raise InvalidManuscript("The file is a damaged ZIP archive.") from e
        if "word/document.xml" in names:
            return "docx"
        if "META-INF/container.xml" in names:
            return "epub"
    raise UnsupportedManuscript(
        "Upload a Markdown (.md), Word (.docx) or EPUB (.epub) manuscript.",
        details={"filename": filename, "supported": list(_EXTENSIONS)},
    )


def _check_archive(data: bytes) -> None:
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as e:
        raise InvalidManuscript("The file is not a valid DOCX/EPUB (ZIP) archive.") from e
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise PayloadTooLarge("The manuscript expands to more than the import limit.",
                              details={"uncompressed_bytes": total, "max_bytes": MAX_UNCOMPRESSED_BYTES})


def parse_markdown(data: bytes, fallback_title: str) -> list[ManuscriptChapter]:
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidManuscript("A Markdown manuscript must be UTF-8.",
                                details={"byte_offset": e.start}) from e
    sections = _Sections()
    in_fence = False
    lines: list[str] = []

    def flush() -> None:
        sections.add("\n".join(lines), lambda: fallback_title)
        lines.clear()

    for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _ATX.match(line)
        if heading:
            flush()
            sections.start(heading.group(2))
        else:
            lines.append(line)
    flush()
    return sections.chapters("\n")


def parse_docx(data: bytes) -> list[ManuscriptChapter]:
    import docx

    _check_archive(data)
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs]
    except Exception as e:
        raise InvalidManuscript("The file is not a readable DOCX document.") from e
    sections = _Sections()
    for style, text in paragraphs:
        if style in ("Title", "Heading 1", "Heading 2") and text.strip():
            sections.start(text)
        else:
            sections.add(text, lambda: "Chapter 1")
    return sections.chapters("\n\n")


_SPLIT = {"h1", "h2"}
_BLOCKS = {"p", "li", "pre", "blockquote", "div", "h3", "h4", "h5", "h6", "dd", "dt", "td"}


def _leaf_blocks(body: object) -> list[tuple[str, str]]:
    """(tag, text) of headings and innermost text blocks, in document order."""
    out = []
    for el in body.iter():  # type: ignore[attr-defined]
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SPLIT:
            out.append((tag, el.text_content()))
        elif tag in _BLOCKS and not any(
            isinstance(d.tag, str) and d.tag in _BLOCKS | _SPLIT for d in el.iterdescendants()
        ):
            text = el.text_content()
            out.append((tag, text if tag == "pre" else " ".join(text.split())))
    return out


def _toc_titles(entries: object) -> dict[str, str]:
    """File name → title from the book's table of contents (links, sections, nested tuples)."""
    titles: dict[str, str] = {}
    for entry in entries if isinstance(entries, list | tuple) else [entries]:
        if isinstance(entry, list | tuple):
            titles = {**_toc_titles(list(entry)), **titles}
            continue
        href = getattr(entry, "href", None) or getattr(entry, "file_name", None)
        title = getattr(entry, "title", "")
        if href and title:
            titles.setdefault(str(href).split("#", 1)[0], str(title))
    return titles


def parse_epub(data: bytes) -> list[ManuscriptChapter]:
    import ebooklib
    import lxml.html
    from ebooklib import epub

    _check_archive(data)
    try:
        book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
        toc = _toc_titles(book.toc)
        documents = []
        for idref, *_ in book.spine:
            item = book.get_item_with_id(idref)
            if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
                continue
            root = lxml.html.document_fromstring(item.get_content())
            title = toc.get(item.file_name) or root.findtext(".//title") or ""
            body = root.find(".//body")
            documents.append((title, _leaf_blocks(body if body is not None else root)))
    except Exception as e:
        raise InvalidManuscript("The file is not a readable EPUB book.") from e
    sections = _Sections()
    for n, (title, blocks) in enumerate(documents, 1):
        first_is_heading = bool(blocks) and blocks[0][0] in _SPLIT
        if not first_is_heading:
            sections.start(title.strip() or f"Chapter {n}")
        for tag, text in blocks:
            if tag in _SPLIT:
                sections.start(text)
            else:
                sections.add(text, lambda: f"Chapter {n}")  # noqa: B023 — used within this iteration
    return sections.chapters("\n\n")


def parse_manuscript(filename: str, data: bytes, *, max_chapter_chars: int) -> list[ManuscriptChapter]:
    if len(data) > MAX_MANUSCRIPT_BYTES:
        raise PayloadTooLarge("The manuscript is larger than the import limit.",
                              details={"bytes": len(data), "max_bytes": MAX_MANUSCRIPT_BYTES})
    if not data:
        raise InvalidManuscript("The manuscript is empty.")
    kind = detect_format(filename, data)
    if kind == "docx":
        chapters = parse_docx(data)
    elif kind == "epub":
        chapters = parse_epub(data)
    else:
        chapters = parse_markdown(data, PurePath(filename or "Chapter 1").stem or "Chapter 1")
    if not chapters:
        raise InvalidManuscript("The manuscript has no text to import.", details={"format": kind})
    if len(chapters) > MAX_CHAPTERS:
        raise InvalidManuscript("The manuscript has too many chapters for one import.",
                                details={"chapters": len(chapters), "max_chapters": MAX_CHAPTERS})
    if any("\x00" in ch.title or "\x00" in ch.content for ch in chapters):
        # PostgreSQL text cannot hold NUL (a title with one was a 500); the JSON API refuses it too.
        raise InvalidManuscript("The manuscript contains NUL characters; it is not a text document.")
    for n, ch in enumerate(chapters, 1):
        if len(ch.content) > max_chapter_chars:
            raise InvalidManuscript(
                "A chapter is longer than the text limit; split it with more headings.",
                details={"chapter": n, "title": ch.title, "chars": len(ch.content),
                         "max_chars": max_chapter_chars},
            )
    return chapters


def import_chapters(
    session: Session, cipher: ContentCipher, story: Story, chapters: list[ManuscriptChapter], *,
    on_chapter: Callable[[int, ManuscriptChapter], None] | None = None,
) -> list[Chapter]:
    """Append the chapters to the story as drafts, in order. The caller holds the story row lock."""
    created = []
    for n, ch in enumerate(chapters, 1):
        created.append(create_chapter(session, cipher, story, title=ch.title, content=ch.content))
        if on_chapter is not None:
            on_chapter(n, ch)
    return created
