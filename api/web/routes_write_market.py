"""The writer's business pages: earnings and payouts, listing a story for licensing, and the offers
studios make (accept or decline) with the agreements they lead to.

The calls are those of ``/payments/earnings``, ``/payments/payouts``, ``/marketplace/listings`` and
``/marketplace/offers/{id}/accept|reject``: the services decide whose offer it is and whose turn, so a
writer can only answer offers on their own listings, and only when it is their turn.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.web.core import LIVE, Action, ListingIn, actor_of, answerer
from api.web.gate import MEDIA, agreement_rows, cents, gate, me, my_listings, render, schema
from api.web.pages import PageRoute, WebDep, field, form

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/write/earnings")
def earnings(web: WebDep, done: str = "") -> Response:
    if (stop := gate(web, "writer")) is not None:
        return stop
    payouts = web.container.payouts
    statement = payouts.statement(web.db, me(web).id)
    return render(web, "write_earnings.html", statement=statement, minimum_cents=payouts.minimum_cents,
                  destination=payouts.destination_for(web.db, me(web).id), done=done[:20])


@router.post("/write/payout-destination")
async def set_destination(request: Request, web: WebDep) -> Response:
    if (stop := gate(web, "writer")) is not None:
        return stop
    data = await form(request)
    destination = field(data, "destination", max_chars=200).strip()
    if not destination:
        raise HTTPException(422, "Enter where payouts go.")
    web.container.payouts.set_destination(web.db, user_id=me(web).id, destination=destination)
    return web.redirect("/write/earnings?done=destination")


@router.post("/write/payouts")
async def request_payout(request: Request, web: WebDep) -> Response:
    """As ``POST /payments/payouts``: earnings move in flight (committed first), then the gateway pays."""
    if (stop := gate(web, "writer")) is not None:
        return stop
    data = await form(request)
    amount = cents(data, "amount", required=False)
    payout = web.container.payouts.request(web.db, user_id=me(web).id, amount_cents=amount)
    web.db.commit()
    web.container.payouts.execute(web.db, payout.id)
    return web.redirect("/write/earnings?done=payout")


@router.post("/write/s/{story_id}/listing")
async def create_listing(story_id: str, request: Request, web: WebDep) -> Response:
    """List the story for licensing (every published chapter must carry its certificate)."""
    if (stop := gate(web, "writer")) is not None:
        return stop
    data = await form(request)
    media = [m for m in data.getlist("media") if isinstance(m, str) and m in MEDIA]
    body = schema(ListingIn, story_id=story_id[:36], media=media, exclusive=data.get("exclusive") == "1",
                  territory=field(data, "territory", max_chars=100).strip(),
                  asking_fee_cents=cents(data, "asking_fee"), notes=field(data, "notes", max_chars=5000))
    web.container.listings.create(
        web.db, actor=actor_of(me(web)), story_id=body.story_id, media=body.media, territory=body.territory,
        exclusive=body.exclusive, asking_fee_cents=body.asking_fee_cents, notes=body.notes)
    return web.redirect("/write/offers?done=listed")


@router.post("/write/listings/{listing_id}/close")
def close_listing(listing_id: str, web: WebDep) -> Response:
    if (stop := gate(web, "writer")) is not None:
        return stop
    web.container.listings.close(web.db, actor=actor_of(me(web)), listing_id=listing_id)
    return web.redirect("/write/offers?done=closed")


@router.get("/write/offers")
def offers(web: WebDep, done: str = "") -> Response:
    """Offers on my listings, the ones waiting for my answer first, and my agreements."""
    if (stop := gate(web, "writer")) is not None:
        return stop
    actor = actor_of(me(web))
    received = [o for o in web.container.offers.list_for(web.db, actor=actor) if o.writer_id == actor.id]
    received.sort(key=lambda o: (not (o.status in LIVE and answerer(o) == "writer"),))
    return render(web, "write_offers.html", offers=received, live=LIVE, answerer=answerer,
                  agreements=agreement_rows(web, actor), listings=my_listings(web, actor.id), done=done[:20])


@router.post("/write/offers/{offer_id}/{action}")
def answer_offer(offer_id: str, action: str, web: WebDep) -> Response:
    """Accept (the agreement is made; the studio then pays) or decline a studio's terms."""
    if (stop := gate(web)) is not None:
        return stop
    moves = {"accept": Action.accept, "decline": Action.reject}
    if action not in moves:
        raise HTTPException(404, "This page does not exist.")
    web.container.offers.act(web.db, actor=actor_of(me(web)), offer_id=offer_id, action=moves[action])
    return web.redirect(f"/write/offers?done={action}")
