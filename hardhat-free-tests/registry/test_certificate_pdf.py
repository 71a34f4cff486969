"""The certificate as a page: text extractable (``pdftotext`` shows the hash), names in Arabic, Ethiopic
and CJK set in fonts that have their glyphs, and a QR code that ``zbarimg`` decodes to the verify URL.

Needs the Debian packages fonts-noto-core, fonts-noto-cjk, poppler-utils and zbar-tools, which
scripts/_setup.sh installs; the test skips only when they are truly absent (setup could not install them).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from factories import auth_headers, chapter_text, make_user

from registry.certificate_pdf import FONT_DIRS, SCRIPT_FONTS, render_pdf
from registry.service import Author

TOOLS = ("pdftotext", "pdftoppm", "zbarimg", "pdffonts")
missing = [t for t in TOOLS if shutil.which(t) is None]
missing += [f for _, f, _, _ in SCRIPT_FONTS if not any((d / f).is_file() for d in FONT_DIRS)]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"Debian packages not installed: {missing}")

NAME = "أمينة يوسف · ሰላም ገብሩ · 山田 太郎"


def _read(tmp_path, pdf: bytes) -> tuple[str, str, str]:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "page")],
                   check=True)
    qr = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page.png")], capture_output=True,
                        text=True, check=False).stdout.strip()
    return text, fonts, qr


def test_anchored_certificate_page_has_hash_anchor_names_and_a_qr_to_verify(
    tmp_path, container, session, session_factory
):
    reg = container.registry.register(session, text=chapter_text(7500), title="東京 · ፍቅር · القصيدة",
                                      author=Author(id="u-pdf", display_name=NAME)).registration
    session.commit()
    container.anchorer.run_once(session_factory, force=True)
    state = container.registry.latest_certificate(session, reg.certificate_id)
    cert = json.loads(state.body)
    text, fonts, qr = _read(tmp_path, render_pdf(state.body, cid=state.cid, public_url="https://legato.example/"))
    assert qr == f"https://legato.example/verify/{cert['id']}"
    assert cert["content"]["sha256"] in text and state.cid in text and cert["signature"]["key_id"] in text
    assert cert["anchor"]["tx_hash"] in text and str(cert["anchor"]["block_number"]) in text
    assert "山田" in text and "ሰላም" in text and "يوسف" in text
    for family in ("NotoSansArabic", "NotoSansEthiopic", "NotoSansCJK"):  # each script in its own font
        assert family in fonts, fonts


def test_pending_certificate_says_pending_over_http_and_cli(tmp_path, client, container, session):
    writer = make_user(session, container, role="writer")
    r = client.post("/registry/registrations", json={"title": "Page", "text": chapter_text(7501)},
                    headers=auth_headers(container, writer))
    cert_id = r.json()["registration"]["certificate_id"]
    pdf = client.get(f"/registry/certificates/{cert_id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text, _, qr = _read(tmp_path, pdf.content)
    assert "pending" in text and r.json()["registration"]["sha256"] in text
    assert container.settings.public_url is None  # unset: the QR points at the request's own base URL
    assert qr == f"http://testserver/verify/{cert_id}"
    assert client.get("/registry/certificates/nope.pdf").status_code == 404
