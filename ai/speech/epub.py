"""Read-along export: a story's published chapters as EPUB 3, with Media Overlays where there is audio.

Each chapter is one XHTML document whose sentences are ``<span id="sN">`` elements, the ids the sync
document uses; a chapter with current audio gets a SMIL overlay pairing each span with its clip of the
chapter's MP3, so Thorium or Apple Books read it aloud and highlight the sentence. The MP3, not the
Opus: EPUB 3.2's core media types (what Debian's epubcheck 4.2.6 applies) include MP3 and not Opus.
Without audio (none yet, or stale after an edit) a chapter is plain XHTML, so the book always reads
offline.

Only chapters the caller may read are included (a paid chapter follows its own unlock rule). The file is
written to disk entry by entry, audio copied from the media store in chunks, so memory stays flat for a
long story; the caller streams it and removes it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from ai.speech.media.protocol import MediaStore
from registry.canonical import canonicalize

ACTIVE_CLASS = "-epub-media-overlay-active"
CSS = f"""body {{ font-family: serif; line-height: 1.5; margin: 1em; }}
h1 {{ font-size: 1.4em; }}
.{ACTIVE_CLASS} {{ background-color: #ffe58a; }}
"""


@dataclass(frozen=True)
class ChapterEntry:
    number: int
    title: str
    text: str  # the chapter's text as the reader gets it
    sentences: list[dict[str, object]] | None  # sync sentences when the audio is current, else None
    mp3_key: str | None
    duration_ms: int | None


def _clock(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    return f"{h}:{m:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _paragraphs(text: str, sentences: list[dict[str, object]] | None) -> str:
    """XHTML paragraphs of ``text``; with sentences, each wrapped in its ``<span id="sN">``."""
    spans = sorted((int(s["start_char"]), int(s["end_char"]), int(s["index"])) for s in sentences or [])
    out, pos, para = [], 0, []
    marks = iter(spans)
    nxt = next(marks, None)

    def flush() -> None:
        joined = "".join(para).strip()
        if joined:
            out.append(f"<p>{joined}</p>")
        para.clear()

    while pos < len(text):
        if nxt is not None and pos == nxt[0]:
            para.append(f'<span id="s{nxt[2]}">{escape(text[nxt[0] : nxt[1]])}</span>')
            pos = nxt[1]
            nxt = next(marks, None)
            continue
        stop = nxt[0] if nxt is not None else len(text)
        chunk = text[pos:stop]
        pieces = chunk.split("\n\n")
        for i, piece in enumerate(pieces):
            if i:
                flush()
            para.append(escape(piece).replace("\n", "<br/>"))
        pos = stop
    flush()
    return "\n".join(out)


def _xhtml(title: str, language: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        f"xml:lang={quoteattr(language)} lang={quoteattr(language)}>\n"
        f'<head><meta charset="UTF-8"/><title>{escape(title)}</title>'
        '<link rel="stylesheet" type="text/css" href="style.css"/></head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _smil(n: int, sentences: list[dict[str, object]]) -> str:
    pars = "\n".join(
        f'<par id="c{n}p{s["index"]}"><text src="ch{n}.xhtml#s{s["index"]}"/>'
        f'<audio src="audio/ch{n}.mp3" clipBegin="{_clock(int(s["start_ms"]))}" '
        f'clipEnd="{_clock(int(s["end_ms"]))}"/></par>'
        for s in sentences
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">\n'
        f'<body><seq id="c{n}seq" epub:textref="ch{n}.xhtml#c{n}" epub:type="chapter">\n{pars}\n</seq>'
        "</body>\n</smil>\n"
    )


def write_epub(
    out: Path,
    *,
    story_id: str,
    title: str,
    author: str,
    language: str,
    chapters: list[ChapterEntry],
    store: MediaStore,
    now: datetime | None = None,
) -> None:
    language = language or "en"
    modified = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest, spine, metas, nav = [], [], [], []
    total_ms = 0
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                '<rootfiles><rootfile full-path="OEBPS/content.opf" '
                'media-type="application/oebps-package+xml"/>'
                "</rootfiles></container>\n"
            ),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        z.writestr("OEBPS/style.css", CSS, compress_type=zipfile.ZIP_DEFLATED)
        for entry in chapters:
            n = entry.number
            text = canonicalize(entry.text) if entry.text.strip() else ""
            read_along = bool(entry.sentences and entry.mp3_key and entry.duration_ms)
            body = (
                f'<section id="c{n}" epub:type="chapter"><h1>{escape(entry.title)}</h1>\n'
                f"{_paragraphs(text, entry.sentences if read_along else None)}</section>"
            )
            z.writestr(
                f"OEBPS/ch{n}.xhtml", _xhtml(entry.title, language, body), compress_type=zipfile.ZIP_DEFLATED
            )
            nav.append(f'<li><a href="ch{n}.xhtml">{escape(entry.title)}</a></li>')
            spine.append(f'<itemref idref="ch{n}"/>')
            if read_along:
                assert (
                    entry.sentences is not None
                    and entry.mp3_key is not None
                    and entry.duration_ms is not None
                )
                z.writestr(f"OEBPS/mo{n}.smil", _smil(n, entry.sentences), compress_type=zipfile.ZIP_DEFLATED)
                with z.open(f"OEBPS/audio/ch{n}.mp3", "w") as dst:  # stored: MP3 does not compress
                    for block in store.read(entry.mp3_key):
                        dst.write(block)
                manifest.append(
                    f'<item id="ch{n}" href="ch{n}.xhtml" media-type="application/xhtml+xml" '
                    f'media-overlay="mo{n}"/>'
                )
                manifest.append(f'<item id="mo{n}" href="mo{n}.smil" media-type="application/smil+xml"/>')
                manifest.append(f'<item id="a{n}" href="audio/ch{n}.mp3" media-type="audio/mpeg"/>')
                metas.append(
                    f'<meta property="media:duration" refines="#mo{n}">{_clock(entry.duration_ms)}</meta>'
                )
                total_ms += entry.duration_ms
            else:
                manifest.append(f'<item id="ch{n}" href="ch{n}.xhtml" media-type="application/xhtml+xml"/>')
        if not chapters:
            z.writestr(
                "OEBPS/ch0.xhtml",
                _xhtml(title, language, "<p>No chapters to read yet.</p>"),
                compress_type=zipfile.ZIP_DEFLATED,
            )
            manifest.append('<item id="ch0" href="ch0.xhtml" media-type="application/xhtml+xml"/>')
            spine.append('<itemref idref="ch0"/>')
            nav.append(f'<li><a href="ch0.xhtml">{escape(title)}</a></li>')
        nav_body = f'<nav epub:type="toc" id="toc"><h1>{escape(title)}</h1><ol>{"".join(nav)}</ol></nav>'
        z.writestr("OEBPS/nav.xhtml", _xhtml(title, language, nav_body), compress_type=zipfile.ZIP_DEFLATED)
        if total_ms:
            metas.append(f'<meta property="media:duration">{_clock(total_ms)}</meta>')
            metas.append(f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>')
        opf = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" '
            f"xml:lang={quoteattr(language)}>\n"
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:identifier id="uid">urn:uuid:{escape(story_id)}</dc:identifier>'
            f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>"
            f"<dc:language>{escape(language)}</dc:language>"
            f'<meta property="dcterms:modified">{modified}</meta>{"".join(metas)}</metadata>\n'
            '<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
            '<item id="css" href="style.css" media-type="text/css"/>'
            f"{''.join(manifest)}</manifest>\n<spine>{''.join(spine)}</spine>\n</package>\n"
        )
        z.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
