"""``/studio``: the licensing marketplace for studios — listings with their readers' figures, the
ownership check and chain-of-title download, offers, agreements and paying for them.

The same calls as ``/marketplace/*`` (``api/http/routers/marketplace.py``): browsing needs an account
(as ``GET /marketplace/listings``), the ownership view is public (a court or a rival checks it without
one), making an offer needs a studio account, and the services decide whose offer and agreement each
is. Paying opens the agreement's checkout at the configured gateway (Stripe Checkout in production, the
local confirm page otherwise) and comes back to the agreement page.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from api.web.core import (
    LISTING_SORTS,
    LIVE,
    Action,
    Actor,
    Story,
    TermsIn,
    User,
    actor_of,
    answerer,
    browse_listings,
    ownership,
    public_work,
)
from api.web.gate import MEDIA, agreement_rows, cents, gate, me, number, render, schema
from api.web.pages import PageRoute, WebDep, field, form

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ANONYMOUS = Actor(id="")
PAGE = 20


@router.get("/studio")
def studio(web: WebDep, q: str = "", media: str = "", sort: str = "newest", page: int = 0) -> Response:
    """Active listings with each story's figures (reads, unique readers, completion, followers, rating)."""
    if (stop := gate(web)) is not None:
        return stop
    sort = sort if sort in LISTING_SORTS else "newest"
    media = media if media in MEDIA else ""
    page = min(max(page, 0), 10_000)
    rows, total = browse_listings(web.db, q=q[:200] or None, media=media or None, sort=sort,
                                  offset=page * PAGE, limit=PAGE)
    return render(web, "studio.html", rows=rows, total=total, q=q[:200], media=media, sort=sort, page=page,
                  sorts=LISTING_SORTS, all_media=MEDIA, more=(page + 1) * PAGE < total)


@router.get("/studio/l/{listing_id}")
def listing_page(listing_id: str, web: WebDep) -> Response:
    if (stop := gate(web)) is not None:
        return stop
    listing = web.container.listings.get(web.db, listing_id[:36])
    rows, _ = browse_listings(web.db, story_id=listing.story_id, limit=100)
    row = next((r for r in rows if r[0].id == listing.id), None)
    if row is None:  # closed, or the story went back out of view
        raise HTTPException(404, "This listing is not open.")
    return render(web, "studio_listing.html", listing=listing, story=row[1], author=row[2], metrics=row[3],
                  can_offer=me(web).role.value == "studio")


@router.post("/studio/l/{listing_id}/offers")
async def make_offer(listing_id: str, request: Request, web: WebDep) -> Response:
    """As ``POST /marketplace/listings/{id}/offers``: a studio's terms; the writer answers."""
    if (stop := gate(web, "studio")) is not None:
        return stop
    data = await form(request)
    media = [m for m in data.getlist("media") if isinstance(m, str) and m in MEDIA]
    body = schema(TermsIn, media=media, territory=field(data, "territory", max_chars=100).strip(),
                  exclusive=data.get("exclusive") == "1", start=field(data, "start", max_chars=10),
                  end=field(data, "end", max_chars=10), fee_cents=cents(data, "fee"),
                  revenue_share_pct=number(data, "revenue_share_pct", default=0, maximum=100))
    listing = web.container.listings.get(web.db, listing_id[:36], for_update=True)
    web.container.offers.make(web.db, actor=actor_of(me(web)), listing=listing, terms=body.as_terms())
    return web.redirect("/studio/deals?done=offered")


@router.get("/studio/deals")
def deals(web: WebDep, done: str = "") -> Response:
    """My offers (withdraw while it is my turn) and my agreements (pay once the writer accepted)."""
    if (stop := gate(web, "studio")) is not None:
        return stop
    actor = actor_of(me(web))
    offers = [o for o in web.container.offers.list_for(web.db, actor=actor) if o.studio_id == actor.id]
    titles = {o.story_id: (s.title if (s := web.db.get(Story, o.story_id)) else "") for o in offers}
    return render(web, "studio_deals.html", offers=offers, titles=titles, live=LIVE, answerer=answerer,
                  agreements=agreement_rows(web, actor), done=done[:20])


@router.post("/studio/offers/{offer_id}/withdraw")
def withdraw(offer_id: str, web: WebDep) -> Response:
    if (stop := gate(web, "studio")) is not None:
        return stop
    web.container.offers.act(web.db, actor=actor_of(me(web)), offer_id=offer_id, action=Action.withdraw)
    return web.redirect("/studio/deals?done=withdrawn")


@router.get("/studio/agreements/{agreement_id}")
def agreement_page(agreement_id: str, web: WebDep, result: str = "") -> Response:
    if (stop := gate(web)) is not None:
        return stop
    actor = actor_of(me(web))
    agreement = web.container.agreements.get(web.db, agreement_id, actor=actor)
    rows = [r for r in agreement_rows(web, actor) if r["agreement"].id == agreement.id] or [
        {"agreement": agreement, "terms": agreement.terms_document["terms"], "title": "",
         "checkout": None, "certificate": web.container.agreements.certificate(web.db, agreement.id)}]
    return render(web, "studio_agreement.html", row=rows[0], result=result[:20],
                  is_studio=me(web).id == agreement.studio_id)


@router.get("/studio/agreements/{agreement_id}/certificate.json")
def license_certificate(agreement_id: str, web: WebDep) -> Response:
    """The signed license certificate, exact bytes, for the two parties (``/marketplace/…/certificate``)."""
    if (stop := gate(web)) is not None:
        return stop
    web.container.agreements.get(web.db, agreement_id[:36], actor=actor_of(me(web)))
    certificate = web.container.agreements.certificate(web.db, agreement_id[:36])
    if certificate is None:
        raise HTTPException(404, "The license is not active yet.")
    return Response(certificate.body, media_type="application/json", headers={
        "X-Certificate-CID": certificate.cid, "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="license-{certificate.id}.json"'})


@router.post("/studio/agreements/{agreement_id}/pay")
def pay(agreement_id: str, web: WebDep) -> Response:
    """As ``POST /marketplace/agreements/{id}/checkout``, then off to the gateway's payment page."""
    if (stop := gate(web, "studio")) is not None:
        return stop
    checkout = web.container.agreements.checkout(web.db, actor=actor_of(me(web)), agreement_id=agreement_id)
    if not checkout.checkout_url:
        raise HTTPException(502, "The payment gateway gave no payment page.")
    return RedirectResponse(checkout.checkout_url, status_code=303)  # the gateway's URL, not user input


@router.get("/studio/works/{story_id}")
def work(story_id: str, web: WebDep) -> Response:
    """The ownership check, for anyone: author, each chapter's certificate and anchor, licenses (terms
    for their parties only), grants read from the chain itself, open disputes."""
    actor = actor_of(web.user) if web.user else ANONYMOUS
    info = public_work(web.db, web.container.works, story_id[:36])
    view = ownership(web.db, work=info, agreements=web.container.agreements.of_work(web.db, info.story_id),
                     disputes=web.container.disputes.of_work(web.db, info.story_id),
                     chain=lambda: web.container.chain, actor=actor)
    author = web.db.get(User, info.author_id)
    return render(web, "studio_work.html", view=view, author=author)


@router.get("/studio/works/{story_id}/chain-of-title.json")
def chain_of_title(story_id: str, web: WebDep) -> Response:
    """The ``legato.chain-of-title/v1`` file as the signed-in user may see it (``legato verify FILE``)."""
    actor = actor_of(web.user) if web.user else ANONYMOUS
    bundle = web.container.chain_of_title.bundle(web.db, story_id=story_id[:36], actor=actor)
    body = json.dumps(bundle, indent=2, ensure_ascii=False).encode("utf-8")
    name = "".join(c for c in story_id[:36] if c.isalnum() or c == "-")  # it named a real work just now
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="chain-of-title-{name}.json"',
        "Cache-Control": "no-store"})
