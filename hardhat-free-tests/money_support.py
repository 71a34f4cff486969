"""Helpers for the money tests: Stripe-signed webhook bodies, a fake Stripe HTTP API, funding wallets.

Signatures are computed here from Stripe's documented scheme, independently of the production code's
signer, so a mistake in one cannot hide in the other.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from loopback import serving
from sqlalchemy.orm import Session

from api.wiring import Container
from marketplace.money import ledger
from marketplace.money.ledger import TransferKind
from marketplace.money.models import Checkout

_ids = itertools.count(1)


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_body(type_: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    event = {
        "id": event_id or f"evt_test_{next(_ids):06d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    return json.dumps(event, indent=2).encode()


def session_object(checkout: Checkout, *, payment_intent: str, payment_status: str = "paid",
                   amount_total: int | None = None) -> dict[str, Any]:
    """A Checkout Session as Stripe sends it in ``checkout.session.*`` events."""
    return {
        "id": checkout.gateway_session_id,
        "object": "checkout.session",
        "amount_subtotal": checkout.amount_cents,
        "amount_total": checkout.amount_cents if amount_total is None else amount_total,
        "client_reference_id": checkout.id,
        "currency": checkout.currency.lower(),
        "customer": None,
        "customer_details": {"email": "reader@example.org"},
        "livemode": False,
        "metadata": {"checkout_id": checkout.id, "purpose": checkout.purpose, "user_id": checkout.user_id},
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_status": payment_status,
        "status": "complete" if payment_status == "paid" else "open",
        "url": None,
    }


def charge_object(*, payment_intent: str, amount: int, amount_refunded: int,
                  charge_id: str | None = None) -> dict:
    return {
        "id": charge_id or f"ch_{payment_intent[3:]}",
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "currency": "usd",
        "paid": True,
        "payment_intent": payment_intent,
        "refunded": amount_refunded == amount,
        "status": "succeeded",
    }


def dispute_object(*, dispute_id: str, payment_intent: str, amount: int, status: str) -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "charge": f"ch_{payment_intent[3:]}",
        "currency": "usd",
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": status,
    }


def deliver(client: Any, payload: bytes, secret: str, *, timestamp: int | None = None) -> Any:
    return client.post("/payments/webhooks/stripe", content=payload,
                       headers={"Stripe-Signature": stripe_signature(payload, secret, timestamp),
                                "Content-Type": "application/json"})


def grant_coins(session: Session, user_id: str, coins: int, *, key: str | None = None) -> None:
    """Coins as a purchase would credit them (same postings), without a checkout."""
    ledger.transfer(session, key=key or f"test-grant:{user_id}:{next(_ids)}", kind=TransferKind.coin_purchase,
                    legs=[(ledger.coin_issuance(), -coins), (ledger.wallet(user_id), coins),
                          (ledger.gateway_payments("local"), -coins), (ledger.coin_float(), coins)])


def buy_coins(session: Session, container: Container, user_id: str, package_id: str = "pocket") -> Checkout:
    """A real coin purchase through the local gateway and the webhook path."""
    checkout = container.payments.start_checkout(session, user_id=user_id,
                                                 order=container.coins.order(package_id))
    container.payments.confirm_test_checkout(session, checkout.id)
    session.flush()
    return checkout


def assert_ledger_ok(session: Session) -> None:
    violations = ledger.check_ledger(session)
    assert violations == [], violations


# --- a fake Stripe API over HTTP -----------------------------------------------------------------


@dataclass
class FakeStripe:
    """Answers the few Stripe endpoints Legato calls with Stripe-shaped JSON, honouring idempotency
    keys like Stripe does (same key, same response), and records every request."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    def answer(
        self, method: str, path: str, headers: dict[str, str], form: dict[str, str]
    ) -> tuple[int, dict]:
        key = headers.get("idempotency-key")
        self.requests.append({"method": method, "path": path, "headers": headers, "form": form})
        if self.fail_next:
            return self.fail_next.pop(0)
        if key and key in self._by_key:
            return 200, self._by_key[key]
        n = next(_ids)
        if path == "/v1/checkout/sessions":
            body = {
                "id": f"cs_test_{n:08d}", "object": "checkout.session",
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "currency": form["line_items[0][price_data][currency]"],
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                "mode": form.get("mode"), "payment_intent": None, "payment_status": "unpaid",
                "status": "open",
                "success_url": form.get("success_url"),
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{n:08d}",
            }
        elif path == "/v1/refunds":
            body = {"id": f"re_test_{n:08d}", "object": "refund", "amount": int(form["amount"]),
                    "payment_intent": form["payment_intent"], "charge": f"ch_test_{n:08d}",
                    "currency": "usd", "status": "succeeded"}
        elif path == "/v1/transfers":
            body = {"id": f"tr_test_{n:08d}", "object": "transfer", "amount": int(form["amount"]),
                    "amount_reversed": 0, "currency": form["currency"], "destination": form["destination"],
                    "reversed": False, "transfer_group": form.get("transfer_group")}
        else:
            return 404, {"error": {"type": "invalid_request_error",
                                   "message": f"Unrecognized request URL {path}"}}
        if key:
            self._by_key[key] = body
        self.requests[-1]["response_id"] = body["id"]
        return 200, body


@contextmanager
def fake_stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = fake.answer("POST", self.path, headers, form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", f"req_test_{next(_ids)}")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server, poll_interval=0.05):
        yield fake
