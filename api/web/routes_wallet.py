"""``/wallet``: coins, the packages, and checkout through the same gateway as ``POST /payments/checkout``.

A purchase is ``Payments.start_checkout`` with the package's order, then the browser goes to the
gateway's page: Stripe Checkout in production, the embedded gateway's local confirm page otherwise.
Coins are credited only by the gateway's signed event (the webhook, or the local gateway's confirm,
which builds and signs the same event), never by coming back to a page.

Coming back: the gateway sends the browser to the checkout's ``success_url``
(``/payments/checkouts/{id}``, a JSON path). A browser asking for HTML there gets this module's page
instead, which sends it on to the wallet (coins) or to the agreement (a license fee). The local confirm
page posts its form to ``/payments/test-gateway/checkouts/{id}/confirm``; a browser's post there is
confirmed the same way the JSON route confirms it and then follows that same way back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from api.web.core import ContainerDep, ReaderWrote, Role, SessionDep
from api.web.gate import gate, me, render
from api.web.pages import SECURITY_HEADERS, HtmlOnlyRoute, PageRoute, WebDep, field, form, page_error

router = APIRouter(route_class=PageRoute, include_in_schema=False)
gateway_return = APIRouter(route_class=HtmlOnlyRoute, include_in_schema=False)


@router.get("/wallet")
def wallet(web: WebDep, checkout: str = "", result: str = "") -> Response:
    if (stop := gate(web)) is not None:
        return stop
    user = me(web)
    view = web.container.coins.wallet(web.db, user.id)
    returned = None
    if checkout:
        owner = None if user.role == Role.admin else user.id
        returned = web.container.payments.get_checkout(web.db, checkout[:36], user_id=owner)
    return render(web, "wallet.html", wallet=view, packages=web.container.coins.packages(),
                  returned=returned, cancelled=result == "cancel")


@router.post("/wallet/checkout")
async def buy(request: Request, web: WebDep) -> Response:
    """As ``POST /payments/checkout``; then to the gateway's payment page (its URL, not user input)."""
    if (stop := gate(web)) is not None:
        return stop
    data = await form(request)
    order = web.container.coins.order(field(data, "package_id", max_chars=100))
    checkout = web.container.payments.start_checkout(web.db, user_id=me(web).id, order=order)
    if not checkout.checkout_url:
        raise HTTPException(502, "The payment gateway gave no payment page.")
    return RedirectResponse(checkout.checkout_url, status_code=303)


@gateway_return.get("/payments/checkouts/{checkout_id}")
def returned(checkout_id: str, web: WebDep, result: str = "") -> Response:
    """Where the gateway sends the browser back: to the agreement for a license fee, else the wallet."""
    if (stop := gate(web)) is not None:
        return stop
    user = me(web)
    owner = None if user.role == Role.admin else user.id
    checkout = web.container.payments.get_checkout(web.db, checkout_id[:36], user_id=owner)
    outcome = "cancel" if result == "cancel" else "success"
    if checkout.purpose == "license":
        return web.redirect(f"/studio/agreements/{checkout.reference}?result={outcome}")
    return web.redirect(f"/wallet?checkout={checkout.id}&result={outcome}")


class GatewayPostRoute(HtmlOnlyRoute):
    """The local gateway's confirm button, posted by a browser. That form belongs to the gateway's page,
    not to Legato's, so it carries no CSRF token (a real gateway's would not either), and the JSON route
    it stands in front of takes none: confirming here allows nothing that route does not. Errors still
    become the HTML error page and the security headers are still set."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = APIRoute.get_route_handler(self)

        async def handler(request: Request) -> Response:
            try:
                response = await inner(request)
            except ReaderWrote:
                raise
            except Exception as exc:
                response = page_error(request, exc)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return handler


gateway_confirm = APIRouter(route_class=GatewayPostRoute, include_in_schema=False)


@gateway_confirm.post("/payments/test-gateway/checkouts/{checkout_id}/confirm")
def confirm(checkout_id: str, container: ContainerDep, session: SessionDep,
            background: BackgroundTasks) -> Response:
    """The local gateway's "pay" in a browser: the signed completion event, as the JSON route delivers it,
    then back the way a gateway sends the buyer back (licenses paid for are granted once it commits)."""
    if not container.payments.is_local:
        raise HTTPException(404, "This page does not exist.")
    container.payments.confirm_test_checkout(session, checkout_id[:36])
    background.add_task(container.after_payment)
    return RedirectResponse(f"/payments/checkouts/{checkout_id[:36]}?result=success", status_code=303)
