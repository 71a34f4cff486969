"""``/payments``: coins, checkouts, gateway webhooks, wallet, tips, subscriptions, earnings and payouts.

Thin on purpose: each route checks who may call it and hands over to the marketplace services on the
container. ``POST /chapters/{id}/unlock`` belongs to the chapters router (it needs the chapter's price).
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request, status
from fastapi.responses import HTMLResponse

from accounts.models import Role, User
from api.http.deps import AdminUser, ContainerDep, CurrentUser, SessionDep, WriterUser
from api.http.schemas.payments import (
    CheckoutIn,
    CheckoutOut,
    CoinPackageOut,
    EarningsOut,
    LedgerCheckOut,
    PayoutDestinationIn,
    PayoutDestinationOut,
    PayoutIn,
    PayoutOut,
    RefundIn,
    RefundOut,
    SubscriptionCheckoutIn,
    SubscriptionOut,
    SubscriptionPlanOut,
    TipIn,
    TipOut,
    WalletOut,
    WebhookOut,
)
from marketplace.errors import InvalidRequest, NotFound
from marketplace.money.ledger import check_ledger

router = APIRouter(prefix="/payments", tags=["payments"])


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: a webhook signature covers these bytes, not a re-serialization."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


@router.get("/coin-packages", response_model=list[CoinPackageOut])
def coin_packages(container: ContainerDep) -> object:
    return container.coins.packages()


@router.post("/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutOut)
def checkout(body: CheckoutIn, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    order = container.coins.order(body.package_id)
    return container.payments.start_checkout(session, user_id=user.id, order=order)


@router.get("/checkouts/{checkout_id}", response_model=CheckoutOut)
def get_checkout(checkout_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    owner = None if user.role == Role.admin else user.id
    return container.payments.get_checkout(session, checkout_id, user_id=owner)


@router.post("/checkouts/{checkout_id}/refund", response_model=RefundOut)
def refund(
    checkout_id: str, body: RefundIn, admin: AdminUser, container: ContainerDep, session: SessionDep
) -> object:
    outcomes = container.payments.refund(session, checkout_id, amount_cents=body.amount_cents,
                                         requested_by=admin.id)
    checkout = container.payments.get_checkout(session, checkout_id)
    return {"checkout": CheckoutOut.model_validate(checkout), "events": [o.__dict__ for o in outcomes]}


@router.post("/webhooks/stripe", response_model=WebhookOut)
def stripe_webhook(
    payload: RawBody, container: ContainerDep, session: SessionDep, background: BackgroundTasks,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> object:
    outcome = container.payments.handle_webhook(session, payload, stripe_signature).__dict__
    background.add_task(container.after_payment)  # paid licenses are granted once this commits
    return outcome


_CONFIRM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Legato test payment</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem}}</style></head>
<body><h1>Test payment</h1>
<p>This is Legato's local test gateway: no real money moves.</p>
<dl><dt>For</dt><dd>{description}</dd><dt>Amount</dt><dd>{amount} {currency}</dd>
<dt>Status</dt><dd>{status}</dd></dl>
{action}
</body></html>
"""
_CONFIRM_FORM = ('<form method="post" action="{url}">'
                 '<button type="submit">Pay {amount} {currency}</button></form>')
# The page runs no script, loads nothing, cannot be framed, and may post its form only to this origin.
_CONFIRM_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


@router.get("/test-gateway/checkouts/{checkout_id}/confirm", response_class=HTMLResponse,
            include_in_schema=False)
def test_checkout_page(
    checkout_id: str, request: Request, container: ContainerDep, session: SessionDep
) -> object:
    """The local test gateway's hosted payment page, which a browser reaches by following the checkout
    URL. Reading it changes nothing; its button POSTs to the same URL, which confirms the payment."""
    if not container.payments.is_local:
        raise NotFound("No such resource.")
    checkout = container.payments.get_checkout(session, checkout_id)
    amount = f"{checkout.amount_cents // 100}.{checkout.amount_cents % 100:02d}"
    currency = html.escape(checkout.currency)
    action = (_CONFIRM_FORM.format(url=html.escape(request.url.path), amount=amount, currency=currency)
              if checkout.status.value == "open" else "<p>Nothing left to pay on this checkout.</p>")
    page = _CONFIRM_PAGE.format(description=html.escape(checkout.description), amount=amount,
                                currency=currency, status=html.escape(checkout.status.value), action=action)
    return HTMLResponse(page, headers=_CONFIRM_HEADERS)


@router.post("/test-gateway/checkouts/{checkout_id}/confirm", response_model=WebhookOut,
             include_in_schema=False)
def confirm_test_checkout(
    checkout_id: str, container: ContainerDep, session: SessionDep, background: BackgroundTasks
) -> object:
    """The local test gateway's payment page: 404 unless the local gateway is in use."""
    if not container.payments.is_local:
        raise NotFound("No such resource.")
    outcome = container.payments.confirm_test_checkout(session, checkout_id).__dict__
    background.add_task(container.after_payment)
    return outcome


@router.get("/wallet", response_model=WalletOut)
def wallet(user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    return container.coins.wallet(session, user.id)


@router.post("/tips", status_code=status.HTTP_201_CREATED, response_model=TipOut)
def tip(
    body: TipIn, user: CurrentUser, container: ContainerDep, session: SessionDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)] = None,
) -> object:
    writer = session.get(User, body.writer_id)
    if writer is None or not writer.is_active:
        raise NotFound("No such writer.", details={"writer_id": body.writer_id})
    if writer.role != Role.writer:
        raise InvalidRequest("Only writers can be tipped.", details={"writer_id": body.writer_id})
    return container.tips.tip(session, tipper_id=user.id, writer_id=writer.id, coins=body.coins,
                              message=body.message, idempotency_key=idempotency_key).tip


@router.get("/subscription-plans", response_model=list[SubscriptionPlanOut])
def subscription_plans(container: ContainerDep) -> object:
    return container.subscriptions.plans()


@router.post("/subscriptions/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutOut)
def subscription_checkout(
    body: SubscriptionCheckoutIn, user: CurrentUser, container: ContainerDep, session: SessionDep
) -> object:
    order = container.subscriptions.order(session, user_id=user.id, plan_id=body.plan_id)
    return container.payments.start_checkout(session, user_id=user.id, order=order)


@router.get("/subscriptions", response_model=list[SubscriptionOut])
def my_subscriptions(user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    return container.subscriptions.list_for(session, user.id)


@router.get("/earnings", response_model=EarningsOut)
def earnings(user: WriterUser, container: ContainerDep, session: SessionDep) -> object:
    statement = container.payouts.statement(session, user.id)
    return {**statement.__dict__, "payout_minimum_cents": container.payouts.minimum_cents}


@router.put("/payout-destination", response_model=PayoutDestinationOut)
def set_payout_destination(
    body: PayoutDestinationIn, user: WriterUser, container: ContainerDep, session: SessionDep
) -> object:
    return container.payouts.set_destination(session, user_id=user.id, destination=body.destination)


@router.get("/payouts", response_model=list[PayoutOut])
def list_payouts(user: WriterUser, container: ContainerDep, session: SessionDep) -> object:
    return container.payouts.statement(session, user.id, limit=100).payouts


@router.post("/payouts", status_code=status.HTTP_201_CREATED, response_model=PayoutOut)
def request_payout(body: PayoutIn, user: WriterUser, container: ContainerDep, session: SessionDep) -> object:
    """The response's ``status`` tells the outcome: ``paid``, ``pending``, ``failed`` (money back in
    earnings) or ``requested`` (gateway unreachable; retried with the same idempotency key)."""
    payout = container.payouts.request(session, user_id=user.id, amount_cents=body.amount_cents)
    # The money is in flight before the gateway is called, and that fact must survive whatever the
    # gateway call does to this request.
    session.commit()
    return container.payouts.execute(session, payout.id)


@router.get("/ledger/check", response_model=LedgerCheckOut)
def ledger_check(admin: AdminUser, session: SessionDep) -> object:
    violations = check_ledger(session)
    return {"ok": not violations, "violations": [v.__dict__ for v in violations]}
