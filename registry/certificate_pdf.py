"""A certificate a person can read: one A4 page (fpdf2) with the work, the author, the SHA-256, the
timestamp, the anchor, the certificate's CID, the platform key id and a QR code (segno, drawn as vector
squares) that opens the public verification URL.

The PDF is a rendering, not the certificate: the JSON bytes stay the thing that verifies. Its text is
real text (``pdftotext`` shows the hash), set in Noto fonts from the Debian packages ``fonts-noto-core``
and ``fonts-noto-cjk`` so Arabic (shaped, right to left), Ethiopic and CJK names render; a script's font
is loaded only when the page needs it, since the CJK collection is large.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from registry.errors import ConfigurationError

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
BASE_FONT = "NotoSans-Regular.ttf"
BOLD_FONT = "NotoSans-Bold.ttf"
# (family, file, collection index, code point ranges that call for it)
SCRIPT_FONTS = (
    ("NotoSansArabic", "NotoSansArabic-Regular.ttf", 0,
     ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ("NotoSansEthiopic", "NotoSansEthiopic-Regular.ttf", 0,
     ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F))),
    ("NotoSansCJK", "NotoSansCJK-Regular.ttc", 0,
     ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x2FA1F))),
)
MAX_FIELD = 300  # characters of any one printed value: a page, not a dump


def _font(name: str) -> Path:
    for directory in FONT_DIRS:
        if (directory / name).is_file():
            return directory / name
    raise ConfigurationError(
        f"font {name} is missing: install the Debian packages fonts-noto-core and fonts-noto-cjk "
        "(scripts/_setup.sh does)")


def verify_url(public_url: str, certificate_id: str) -> str:
    return f"{public_url.rstrip('/')}/verify/{certificate_id}"


def _needs(text: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= ord(ch) <= hi for ch in text for lo, hi in ranges)


def _clip(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 1] + "…"


def _rows(cert: dict[str, Any], cid: str) -> list[tuple[str, str]]:
    work, author, content = cert["work"], cert["author"], cert["content"]
    ts, anchor, sig = cert["timestamp"], cert.get("anchor"), cert["signature"]
    if anchor:
        when = datetime.fromtimestamp(int(anchor["block_timestamp"]), UTC)
        anchored = (f"chain {anchor['chain_id']}, block {anchor['block_number']} "
                    f"({when:%Y-%m-%d %H:%M:%S} UTC)\ncontract {anchor['contract']}\ntx {anchor['tx_hash']}\n"
                    f"Merkle root {anchor['merkle_root']}")
    else:
        anchored = "pending: not anchored on chain yet"
    return [
        ("Work", f"{_clip(work.get('title'))} (version {work.get('version')})"),
        ("Author", _clip(author.get("display_name"))),
        ("SHA-256", content["sha256"]),
        ("Length", f"{content.get('length')} characters, {content.get('canonicalization')}"),
        ("Timestamp", f"{_clip(ts.get('gen_time'))} by {_clip(ts.get('url') or ts.get('tsa'))} (RFC 3161)"),
        ("Anchor", anchored),
        ("Certificate", f"{cert['id']}\nissued {cert.get('issued_at')}"),
        ("CID", cid),
        ("Platform key", f"{sig.get('key_id')} ({sig.get('alg')})"),
    ]


def render_pdf(body: bytes, *, cid: str, public_url: str) -> bytes:
    """The page for the certificate ``body`` (its exact JSON bytes) whose CID is ``cid``."""
    from fpdf import FPDF
    from segno import make_qr

    cert = json.loads(body)
    rows = _rows(cert, cid)
    url = verify_url(public_url, str(cert["id"]))
    every = "".join(v for _, v in rows)

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"Certificate of authorship {cert['id']}")
    pdf.set_creator("Legato")
    pdf.add_font("NotoSans", "", _font(BASE_FONT))
    pdf.add_font("NotoSans", "B", _font(BOLD_FONT))
    fallbacks = []
    for family, file, index, ranges in SCRIPT_FONTS:
        if _needs(every, ranges):
            pdf.add_font(family, "", _font(file), collection_font_number=index)
            fallbacks.append(family)
    if fallbacks:
        pdf.set_fallback_fonts(fallbacks, exact_match=False)
        pdf.set_text_shaping(True)  # Arabic joins and runs right to left
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_margins(18, 18, 18)

    pdf.set_font("NotoSans", "B", 20)
    pdf.set_xy(18, 20)
    pdf.cell(0, 10, "Certificate of Authorship", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoSans", "", 10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 6, "Registered with Legato: an RFC 3161 timestamp, a platform signature and an on-chain "
             "anchor.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(6)
    for label, value in rows:
        y = pdf.get_y()
        pdf.set_font("NotoSans", "B", 10)
        pdf.set_xy(18, y)
        pdf.cell(32, 6, label)
        pdf.set_font("NotoSans", "", 10)
        pdf.set_xy(50, y)
        pdf.multi_cell(142, 6, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    qr = make_qr(url, error="m")
    size, top, left = 50.0, 210.0, 18.0
    matrix = qr.matrix
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(left + c * module, top + r * module, module, module, style="F")
    pdf.set_xy(left + size + 8, top + 4)
    pdf.set_font("NotoSans", "B", 10)
    pdf.cell(0, 6, "Verify this certificate", new_x="LEFT", new_y="NEXT")
    pdf.set_font("NotoSans", "", 9)
    pdf.multi_cell(110, 5, f"{url}\n\nOr offline, trusting only the platform's published trust document:\n"
                   "legato verify certificate.json --text chapter.txt --trust legato-trust.json",
                   new_x="LEFT", new_y="NEXT")
    pdf.set_xy(18, 280)
    pdf.set_font("NotoSans", "", 7)
    pdf.set_text_color(120, 120, 120)
    pdf.cell(0, 4, "This page renders the certificate; the signed JSON document (same id, CID above) is what "
             "verifies.")
    return bytes(pdf.output())


@lru_cache(maxsize=128)
def render_pdf_cached(body: bytes, cid: str, public_url: str) -> bytes:
    """Bytes behind a CID never change, so a page is laid out once per process (a CJK name costs a
    second or two: the font collection is large)."""
    return render_pdf(body, cid=cid, public_url=public_url)
