"""What the writer, studio, admin and wallet pages share: who may open them, how form values become the
JSON API's own schemas, money written the reader's way, and the licensing deals both parties look at
(the writer from ``/write/offers``, the studio from ``/studio/deals``).

Roles are checked exactly as the JSON API's dependencies check them (``api/http/deps.require_role``:
the named roles, and admins always); the object-level rules (whose story, whose offer) are left to the
same service calls the routers make, so a page can never allow what the API refuses.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, TypeVar

from babel.numbers import format_currency
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from api.web.core import Actor, LicenseListing, Role, Story, User
from api.web.pages import Web, field

M = TypeVar("M", bound=BaseModel)
MEDIA = ("film", "tv", "games", "audio", "print", "translation")  # marketplace.licensing.terms.MEDIA


def gate(web: Web, *roles: str) -> Response | None:
    """None when the signed-in user may open the page; the sign-in page for a visitor. Another role is
    a 403 page (admins pass every role check, as on the JSON API)."""
    if web.user is None:
        return web.login_first()
    if roles and web.user.role.value not in roles and web.user.role != Role.admin:
        raise HTTPException(403, "This page is for another kind of account.")
    return None


def me(web: Web) -> User:
    """The signed-in user, once :func:`gate` let the request through."""
    if web.user is None:  # pragma: no cover - gate() ran first
        raise HTTPException(401, "Please sign in.")
    return web.user


def schema(model: type[M], **values: Any) -> M:
    """Form values through the JSON API's schema for the same action, so both doors accept the same
    input; a refusal is a 422 page naming the fields (never a 500)."""
    try:
        return model(**values)
    except ValidationError as e:
        names = sorted({str(err["loc"][0]) for err in e.errors() if err.get("loc")})
        raise HTTPException(422, "Some of the values sent are not valid: " + ", ".join(names) + ".") from e


def long_text(data: FormData, name: str, *, max_chars: int) -> str:
    """A chapter's text: ``pages.field`` caps every field at 20,000 characters, far below a chapter's
    limit (the JSON API's ``MAX_CHAPTER_CHARS``), so the text is read here with the same checks."""
    value = data.get(name)
    if value is None or isinstance(value, UploadFile):
        return ""
    if "\x00" in value:
        raise HTTPException(400, "A field holds a NUL character.")
    if len(value) > max_chars:
        raise HTTPException(400, f"The field {name} is too long (at most {max_chars} characters).")
    return value


def number(data: FormData, name: str, *, default: int | None = None, maximum: int = 10**12) -> int | None:
    """A whole number field; empty means ``default``; anything else is a 422 page."""
    raw = field(data, name, max_chars=20).strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise HTTPException(422, f"The field {name} must be a whole number.")
    return int(raw)


def cents(data: FormData, name: str, *, required: bool = True) -> int | None:
    """An amount typed as ``12``, ``12.50``, ``12,50`` or ``12,345.67`` (dollars), as integer cents; 422
    when it is not one. A lone comma before one or two digits is a decimal comma, never a thousands
    separator, so "12,50" is twelve dollars fifty and not twelve hundred and fifty."""
    raw = "".join(field(data, name, max_chars=20).split())
    if "," in raw and "." not in raw and re.fullmatch(r"\d+,\d{1,2}", raw):
        raw = raw.replace(",", ".")  # "12,50": a decimal comma, as French, Swahili and Hausa write it
    if "," in raw:
        if not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d*)?", raw):
            raise HTTPException(422, f"The field {name} must be an amount like 12.50.")
        raw = raw.replace(",", "")  # "12,345.67": thousands separators
    if not raw:
        if required:
            raise HTTPException(422, f"The field {name} is required.")
        return None
    whole, _, frac = raw.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)) or len(whole) > 10:
        raise HTTPException(422, f"The field {name} must be an amount like 12.50.")
    return int(whole) * 100 + int((frac + "00")[:2])


def money(web: Web, amount_cents: int | None, currency: str = "USD") -> str:
    if amount_cents is None:
        return ""
    return format_currency(Decimal(amount_cents) / 100, currency, locale=web.tr.lang)


def render(web: Web, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``web.render`` plus the helpers these pages use (money, roles)."""
    return web.render(template, status, money=lambda c, cur="USD": money(web, c, cur), **values)


# --- licensing deals, as both parties see them ------------------------------------------------------
def my_listings(web: Web, writer_id: str) -> list[tuple[LicenseListing, Story | None]]:
    rows = web.db.scalars(select(LicenseListing).where(LicenseListing.writer_id == writer_id)
                          .order_by(LicenseListing.created_at.desc()).limit(100))
    return [(listing, web.db.get(Story, listing.story_id)) for listing in rows]


def agreement_rows(web: Web, actor: Actor) -> list[dict[str, Any]]:
    """Agreements the actor is a party to, with the checkout state and the license certificate."""
    out = []
    for a in web.container.agreements.list_for(web.db, actor=actor):
        checkout = web.container.agreements.checkout_of(web.db, a)
        story = web.db.get(Story, a.story_id)
        out.append({"agreement": a, "terms": a.terms_document["terms"], "title": story.title if story else "",
                    "checkout": checkout.status.value if checkout else None,
                    "certificate": web.container.agreements.certificate(web.db, a.id)})
    return out
