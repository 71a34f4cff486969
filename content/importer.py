"""Manuscript import: Markdown, DOCX or EPUB split into draft chapters at its headings.

* Markdown: ATX headings ``#`` and ``##`` start chapters (lines inside fenced code blocks are not
  headings); the body keeps its Markdown.
* DOCX: paragraphs styled Title, Heading 1 or Heading 2 start chapters; other paragraphs are joined
  with blank lines.
* EPUB: spine documents in reading order; each document starts a chapter (titled by its heading when
  it opens with one, else by its table-of-contents entry or ``<title>``) and every ``h1``/``h2`` inside
  starts another.

A section with a heading but no text (a book title above the first chapter, a part divider) is dropped.
A Markdown manuscript's metadata block — YAML front matter (``---`` … ``---``) or a pandoc title block
(``%`` lines) at the very top — is metadata, never a chapter: its title names a first section that has
no heading, and the rest is dropped.
Imported chapters are drafts: nothing is registered or published until the author publishes. A chapter
whose text is identical (as canonical text) to one the story already has is skipped and reported, so
importing the same manuscript twice does not duplicate it.

Uploaded bytes are untrusted: the file is never handed to a parser by name, archives are inflated and
counted before parsing (:mod:`content.archive`: zip bombs), one import makes at most
``MAX_CHAPTERS`` chapters, and any parser failure is a 400 ``INVALID_MANUSCRIPT``, never a 500.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.archive import check_archive
from content.chapters import create_chapter
from content.crypto import ContentCipher
from content.errors import (
    InvalidManuscript,
    ManuscriptAlreadyImported,
    ManuscriptTooLarge,
    UnsupportedManuscript,
)
from content.models.stories import Chapter, ChapterStatus, Story
from content.texts import chapter_text
from registry.canonical import canonicalize, content_sha256
from registry.errors import RegistryError

MAX_MANUSCRIPT_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 2000
MAX_CHAPTERS = 200
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
        except Exception as e:  # damaged directories raise more than BadZipFile (NotImplementedError…)
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
    check_archive(data, budget=MAX_UNCOMPRESSED_BYTES, max_members=MAX_ARCHIVE_MEMBERS)


_YAML_FENCE = re.compile(r"^---[ \t]*$")
_YAML_END = re.compile(r"^(---|\.\.\.)[ \t]*$")
_YAML_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ -]*:(\s|$)")
_YAML_TITLE = re.compile(r"^title[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)


def split_front_matter(lines: list[str]) -> tuple[str | None, list[str]]:
    """(title, remaining lines) once a leading YAML front matter or pandoc title block is taken off.

    Both must open the file (line one). YAML: ``---`` closed by ``---`` or ``...``, its first entry a
    ``key:`` line — a story that opens with a thematic break (``---``, text, ``---``) keeps its text.
    Pandoc: up to three lines starting with ``%`` (title, authors, date), each with indented
    continuation lines; the first is the title.
    """
    if not lines:
        return None, lines
    if _YAML_FENCE.match(lines[0]):
        end = next((i for i in range(1, len(lines)) if _YAML_END.match(lines[i])), None)
        entries = [line for line in lines[1:end] if line.strip()] if end is not None else []
        if not entries or not _YAML_KEY.match(entries[0]):
            return None, lines
        title = next((m.group(1) for m in map(_YAML_TITLE.match, entries) if m), None)
        return (title.strip("\"'") or None) if title else None, lines[end + 1:]  # type: ignore[operator]
    if not lines[0].startswith("%"):
        return None, lines
    fields: list[str] = []
    i = 0
    while i < len(lines) and len(fields) < 3 and lines[i].startswith("%"):
        value = [lines[i][1:].strip()]
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
            value.append(lines[i].strip())
            i += 1
        fields.append(" ".join(v for v in value if v))
    return (fields[0] or None), lines[i:]


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

    title, body = split_front_matter(source.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    fallback_title = title[:MAX_TITLE_CHARS] if title else fallback_title
    for line in body:
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


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RUN_TEXT = {f"{_W}t", f"{_W}tab", f"{_W}ptab", f"{_W}br", f"{_W}cr", f"{_W}noBreakHyphen"}


def _paragraph_styles(document: object) -> tuple[dict[str, str], str]:
    """Paragraph style id → name, and the default paragraph style's name, read once."""
    from docx.enum.style import WD_STYLE_TYPE

    styles = document.styles  # type: ignore[attr-defined]
    names = {s.style_id: s.name for s in styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    return names, default.name if default is not None else ""


def _docx_paragraphs(data: bytes, document: object) -> list[tuple[str, str]]:
    """(style name, text) of the body's paragraphs, as python-docx's ``Paragraph.style`` and ``.text``
    give them, read from the document part with plain lxml. python-docx spends up to milliseconds per
    paragraph (it scans every style for each unstyled paragraph, compiles XPath per call and builds a
    proxy per element): a 50 KB upload of plain paragraphs held a worker for minutes."""
    from lxml import etree

    names, default = _paragraph_styles(document)
    part = str(document.part.partname).lstrip("/")  # type: ignore[attr-defined]
    xml = zipfile.ZipFile(io.BytesIO(data)).read(part)
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    body = root.find(f"{_W}body")
    out = []
    for p in body.iterchildren(f"{_W}p") if body is not None else ():
        pstyle = p.find(f"{_W}pPr/{_W}pStyle")
        style_id = pstyle.get(f"{_W}val") if pstyle is not None else None
        parts = []
        for run in p.iter(f"{_W}r"):
            for el in run:
                if el.tag not in _RUN_TEXT:
                    continue
                name = el.tag[len(_W):]
                if name == "t":
                    parts.append(el.text or "")
                elif name in ("tab", "ptab"):
                    parts.append("\t")
                elif name == "noBreakHyphen":
                    parts.append("-")
                elif name == "cr" or el.get(f"{_W}type") in (None, "textWrapping"):
                    parts.append("\n")
        out.append((names.get(style_id or "", default) or "", "".join(parts)))
    return out


def parse_docx(data: bytes) -> list[ManuscriptChapter]:
    import docx

    _check_archive(data)
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = _docx_paragraphs(data, document)
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
        raise ManuscriptTooLarge("The manuscript is larger than the import limit.",
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
        raise InvalidManuscript("The manuscript has too many chapters for one import; import it in parts.",
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


@dataclass(frozen=True)
class Skipped:
    """A manuscript chapter left out because the story already has a chapter with the same text."""

    position: int  # 1-based, in the manuscript
    title: str
    existing_chapter_id: str
    existing_number: int


@dataclass(frozen=True)
class ImportResult:
    created: list[Chapter]
    skipped: list[Skipped]


def _same_text_key(text: str) -> str:
    """The registry's ``content.sha256`` of the text: equal for texts that differ only in line endings,
    trailing spaces or Unicode normalization."""
    try:
        return content_sha256(canonicalize(text, max_chars=len(text) + 1))
    except RegistryError:  # empty after canonicalization: compare as is
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _existing_texts(session: Session, cipher: ContentCipher, story: Story) -> dict[str, Chapter]:
    """Content hash → chapter, for every chapter of the story. A published chapter's current text is
    its newest registered version, whose hash it carries; only the others are decrypted."""
    existing: dict[str, Chapter] = {}
    for chapter in session.scalars(
        select(Chapter).where(Chapter.story_id == story.id).order_by(Chapter.number)
    ):
        published = chapter.status == ChapterStatus.published and chapter.sha256
        key = chapter.sha256 if published else _same_text_key(chapter_text(cipher, chapter))
        existing.setdefault(key, chapter)  # type: ignore[arg-type]
    return existing


def import_chapters(
    session: Session, cipher: ContentCipher, story: Story, chapters: list[ManuscriptChapter], *,
    on_chapter: Callable[[int, ManuscriptChapter], None] | None = None,
) -> ImportResult:
    """Append the chapters to the story as drafts, in order, skipping those whose text the story already
    has. Raises 409 ``MANUSCRIPT_ALREADY_IMPORTED`` when every chapter is such a duplicate. The caller
    holds the story row lock, so two imports of one manuscript cannot both add it."""
    existing = _existing_texts(session, cipher, story)
    created: list[Chapter] = []
    skipped: list[Skipped] = []
    for n, ch in enumerate(chapters, 1):
        key = _same_text_key(ch.content)
        twin = existing.get(key)
        if twin is not None:
            skipped.append(Skipped(n, ch.title, twin.id, twin.number))
        else:
            chapter = create_chapter(session, cipher, story, title=ch.title, content=ch.content)
            existing[key] = chapter
            created.append(chapter)
        if on_chapter is not None:
            on_chapter(n, ch)
    if not created:
        raise ManuscriptAlreadyImported(
            "Every chapter of this manuscript is already in the story; nothing was imported.",
            details={"skipped": [{"position": s.position, "title": s.title,
                                  "existing_chapter_id": s.existing_chapter_id,
                                  "existing_number": s.existing_number} for s in skipped[:MAX_CHAPTERS]]},
        )
    return ImportResult(created, skipped)
