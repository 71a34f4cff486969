"""``/verify`` and ``/verify/{certificate_id}``: a certificate checked in the browser, for anyone.

The checks are the registry's own verifier, pinned to this deployment's trust, chain and records, the
same call ``GET /verify/{id}`` and ``POST /registry/verify/upload`` make; this page only explains each
result in plain words. ``/verify/{id}`` is shared with the JSON API: a browser (which asks for HTML
first) gets this page, any other client the JSON verdict (``pages.HtmlOnlyRoute``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.web.core import JsonRefused, Report, check_json_bytes
from api.web.pages import HtmlOnlyRoute, PageRoute, Posted, Web, WebDep, field

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAX_CERTIFICATE_BYTES = 256 * 1024
MAX_TEXT_BYTES = 2 * 1024 * 1024

# What each check establishes, in words a reader or a studio's lawyer can follow.
CHECKS: dict[str, tuple[str, str]] = {
    "format": ("Certificate format",
               "The file is a Legato certificate of authorship (legato.certificate/v1) that can be read."),
    "origin": ("Issued by this registry",
               "The certificate was issued by this Legato registry, under a key its trust document lists."),
    "content_hash": ("The text matches",
                     "The text's fingerprint (SHA-256 of the canonical text) is the one in the certificate. "
                     "Skipped when no text is given."),
    "signature": ("Platform signature",
                  "The registry's Ed25519 signature covers every field: nothing was changed after issue."),
    "author_signature": ("Author's own signature",
                         "The author signed with their own wallet key. "
                         "Skipped when the author holds no key."),
    "timestamp": ("Independent timestamp",
                  "A timestamp authority (RFC 3161) saw this exact fingerprint at the stated time."),
    "merkle_proof": ("Included in a batch",
                     "The certificate is a leaf of the batch whose root was anchored. "
                     "Skipped while pending."),
    "chain": ("Anchored on the blockchain",
              "The registry contract on the chain holds the batch root: the record is public and permanent. "
              "Skipped while the batch is pending."),
    "cid": ("Same bytes as published",
            "The certificate's bytes are the ones published on IPFS under its content identifier (CID)."),
}


def explained(web: Web, report: Report) -> list[dict[str, str]]:
    rows = []
    for result in report.results:
        title, meaning = CHECKS.get(result.check, (result.check, ""))
        rows.append({"check": result.check, "title": web._(title), "meaning": web._(meaning),
                     "status": result.status, "detail": result.detail})
    return rows


def _render(web: Web, report: Report, *, certificate_id: str | None, uploaded: bool) -> Response:
    cert: dict[str, Any] = report.certificate if isinstance(report.certificate, dict) else {}
    failed = report.first_failure
    work = cert.get("work") if isinstance(cert.get("work"), dict) else {}
    author = cert.get("author") if isinstance(cert.get("author"), dict) else {}
    return web.render(
        "verify_result.html", status=200, ok=report.ok, first_failure=failed.check if failed else None,
        checks=explained(web, report), certificate_id=certificate_id or str(cert.get("id") or "") or None,
        title=str(work.get("title") or ""), author=str(author.get("display_name") or ""),
        issued_at=_when(cert.get("issued_at")), uploaded=uploaded,
        anchored=bool(cert.get("anchor")))


def _when(value: object) -> datetime | None:
    """The certificate's ``issued_at`` as a datetime, so the page writes it the reader's way."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@router.get("/verify")
def verify_page(web: WebDep, id: str | None = None) -> Response:
    if id:
        wanted = id.strip()
        if 0 < len(wanted) <= 64 and all(c.isalnum() or c in "-_" for c in wanted):
            return web.redirect(f"/verify/{wanted}")
        return web.render("verify.html", 400, error=web._("A certificate id is letters, digits and dashes."))
    return web.render("verify.html", error=None)


def verify_by_id(certificate_id: str, web: WebDep) -> Response:
    if len(certificate_id) > 64:
        raise HTTPException(400, "A certificate id is at most 64 characters.")
    container = web.container
    state = container.registry.latest_certificate(web.db, certificate_id)  # NOT_FOUND → 404 page
    body, cid = bytes(state.body), state.cid
    web.db.commit()  # the chain calls below can be slow: hold no transaction meanwhile
    report = container.verify_certificate(body, None, cid)
    return _render(web, report, certificate_id=certificate_id, uploaded=False)


router.add_api_route("/verify/{certificate_id}", verify_by_id, methods=["GET"],
                     route_class_override=HtmlOnlyRoute)


@router.post("/verify")
def verify_upload(request: Request, data: Posted, web: WebDep) -> Response:
    certificate = _read(data.get("certificate"), MAX_CERTIFICATE_BYTES)
    if not certificate:
        certificate = field(data, "certificate_json", max_chars=MAX_CERTIFICATE_BYTES).encode()
    if not certificate.strip():
        return web.render("verify.html", 400, error=web._("Choose a certificate file or paste its JSON."))
    text = _read(data.get("text"), MAX_TEXT_BYTES) or None
    try:
        check_json_bytes(certificate)  # bounded like any JSON body before a parser sees it
        json.loads(certificate)
    except (JsonRefused, ValueError, RecursionError):
        return web.render("verify.html", 400, error=web._("This file is not a certificate (it is not JSON)."))
    report = web.container.verify_certificate(certificate, text, None)
    return _render(web, report, certificate_id=None, uploaded=True)


def _read(value: object, limit: int) -> bytes:
    if not isinstance(value, UploadFile):
        return b""
    data = value.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"The file is too large (at most {limit // 1024} KiB).")
    return data
