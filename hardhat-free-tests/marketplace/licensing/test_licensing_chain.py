"""Exclusivity before money moves (agreements in the database and grants on chain), and the grant after
payment: recorded once, never lost when the chain is down, refunded when the chain refuses."""

from __future__ import annotations

import secrets
from datetime import timedelta

from licensing_support import agree, market, pay, studio, unix
from money_support import assert_ledger_ok
from sqlalchemy import func, select

from marketplace.licensing.terms import MEDIA, grant_id, work_id
from marketplace.money import ledger
from marketplace.money.models import Checkout
from registry.chain.web3_chain import Web3Chain
from registry.db import utcnow

UNREACHABLE = "http://127.0.0.1:9"


def _checkouts_of(session, user_id):
    return session.scalar(select(func.count()).select_from(Checkout).where(Checkout.user_id == user_id))


def test_an_exclusive_license_refuses_overlaps_before_any_checkout(client, session, container):
    m = market(client, session, container)
    first = agree(client, m, media="film", exclusive=True)  # 2027-01-01 .. 2030-01-01, awaiting payment
    assert first.status_code == 201
    rival, rh = studio(session, container)
    refused = []
    for overrides in ({"start": "2029-06-01T00:00:00Z", "end": "2031-01-01T00:00:00Z"},  # exclusive, overlaps
                      {"exclusive": False},                                 # non-exclusive vs exclusive
                      {"media": ["tv", "film"], "exclusive": False}):       # one medium collides
        r = agree(client, m, studio_headers=rh, **overrides)
        assert r.status_code == 409 and r.json()["error"]["code"] == "LICENSE_OVERLAP", r.text
        assert r.json()["error"]["details"]["conflicting_agreement_id"] == first.json()["agreement"]["id"]
        refused.append(r)
    assert _checkouts_of(session, rival.id) == 0  # nothing to pay, nothing charged
    offers = client.get("/marketplace/offers", headers=rh).json()
    assert {o["status"] for o in offers} == {"open"}  # the refused acceptances left the offers as they were

    assert agree(client, m, studio_headers=rh, media="tv").status_code == 201  # another medium
    adjacent = agree(client, m, studio_headers=rh, start="2030-01-01T00:00:00Z", end="2031-01-01T00:00:00Z")
    assert adjacent.status_code == 201  # [start, end): ends and starts at the same second do not overlap

    client.post(f"/marketplace/agreements/{first.json()['agreement']['id']}/cancel", headers=m["studio"])
    film_only = next(o for o in offers if o["terms"]["media"] == ["film"] and not o["terms"]["exclusive"])
    retried = client.post(f"/marketplace/offers/{film_only['id']}/accept", headers=m["writer"])
    assert retried.status_code == 201  # the cancelled agreement freed its slot
    assert_ledger_ok(session)


def test_a_grant_already_on_chain_refuses_an_overlapping_license(client, session, container):
    m = market(client, session, container)
    outside = secrets.token_bytes(32)  # e.g. recorded by another Legato deployment sharing the contract
    container.chain.grant_license(
        grant_id=outside, work_id=work_id(m["story_id"]), licensee="0x" + "22" * 20, terms_hash=b"\x07" * 32,
        media=MEDIA["games"], start=unix("2028-01-01T00:00:00Z"), end=unix("2029-01-01T00:00:00Z"),
        exclusive=True)
    r = agree(client, m, media="games", exclusive=False)
    assert r.status_code == 409
    assert r.json()["error"]["details"]["conflicting_grant_id"] == "0x" + outside.hex()
    assert _checkouts_of(session, m["studio_user"].id) == 0
    owner = client.get(f"/marketplace/works/{m['story_id']}/ownership", headers=m["studio"]).json()
    assert [g["grant_id"] for g in owner["on_chain_grants"]] == ["0x" + outside.hex()]
    assert agree(client, m, media="film").status_code == 201


def test_a_grant_refused_by_the_chain_after_payment_is_refunded(client, session, container):
    m = market(client, session, container)
    a = agree(client, m, media="film").json()["agreement"]
    # Between acceptance and payment an overlapping grant reaches the chain from elsewhere.
    container.chain.grant_license(
        grant_id=secrets.token_bytes(32), work_id=work_id(m["story_id"]), licensee="0x" + "33" * 20,
        terms_hash=b"\x08" * 32, media=MEDIA["film"], start=unix("2027-06-01T00:00:00Z"),
        end=unix("2027-07-01T00:00:00Z"), exclusive=False)
    assert pay(client, a).status_code == 200
    session.expire_all()
    got = client.get(f"/marketplace/agreements/{a['id']}", headers=m["studio"]).json()
    assert got["status"] == "refund_pending" and "LICENSE_OVERLAP" in got["last_error"]
    container.licensing_round()  # the worker asks the gateway for the refund
    session.expire_all()
    got = client.get(f"/marketplace/agreements/{a['id']}", headers=m["studio"]).json()
    assert got["status"] == "refunded" and got["grants"] == []
    assert ledger.balance(session, ledger.earnings(m["writer_user"].id)) == 0
    on_chain = container.chain.grants_of(work_id(m["story_id"]))
    assert grant_id(a["id"], "film") not in [g.grant_id for g in on_chain]
    assert_ledger_ok(session)


def test_chain_down_the_agreement_waits_then_is_granted_once(client, session, container):
    m = market(client, session, container)
    a = agree(client, m, media=["film", "tv"], fee_cents=3_000).json()["agreement"]
    chain = container.chain
    container.chain = Web3Chain.from_rpc(UNREACHABLE, private_key="0x" + "11" * 32, request_timeout=0.5)
    try:
        assert pay(client, a).status_code == 200  # the payment itself never waits for the chain
        container.licensing_round()
        session.expire_all()
        got = client.get(f"/marketplace/agreements/{a['id']}", headers=m["studio"]).json()
        assert got["status"] == "paid_pending_grant" and "CHAIN_UNAVAILABLE" in got["last_error"]
        assert ledger.balance(session, ledger.earnings(m["writer_user"].id)) == 2_550  # money is booked
    finally:
        container.chain = chain
    # A previous attempt may have reached the chain before its receipt was lost: record the film grant
    # exactly as the worker would, then let the worker run; it must read it back, not send it again.
    terms = got["terms"]
    early = chain.grant_license(
        grant_id=grant_id(a["id"], "film"), work_id=work_id(m["story_id"]), licensee=got["licensee_address"],
        terms_hash=bytes.fromhex(got["terms_hash"]), media=MEDIA["film"], start=unix(terms["start"]),
        end=unix(terms["end"]), exclusive=True)
    grants = container.marketplace.licensing.grants
    report = grants.grant_due(container.session_factory, now=utcnow() + timedelta(hours=1))
    assert report == {a["id"]: "active"}
    session.expire_all()
    got = client.get(f"/marketplace/agreements/{a['id']}", headers=m["studio"]).json()
    assert got["status"] == "active" and [g["medium"] for g in got["grants"]] == ["film", "tv"]
    assert got["grants"][0]["tx_hash"] == early.tx_hash
    on_chain = chain.grants_of(work_id(m["story_id"]))
    assert sorted(g.grant_id for g in on_chain) == sorted(grant_id(a["id"], m) for m in ("film", "tv"))
    assert grants.grant_due(container.session_factory, now=utcnow() + timedelta(hours=2)) == {}
    assert len(chain.grants_of(work_id(m["story_id"]))) == 2
    assert_ledger_ok(session)


def test_no_agreement_is_made_while_the_chain_cannot_be_asked(client, session, container):
    m = market(client, session, container)
    chain = container.chain
    container.chain = Web3Chain.from_rpc(UNREACHABLE, request_timeout=0.5)
    try:
        r = agree(client, m, media="film")
        assert r.status_code == 503 and r.json()["error"]["code"] == "CHAIN_UNAVAILABLE"
        blind = client.get(f"/marketplace/works/{m['story_id']}/ownership", headers=m["studio"]).json()
        assert blind["on_chain_grants"] is None and "CHAIN_UNAVAILABLE" in blind["chain_error"]
    finally:
        container.chain = chain
    offers = client.get("/marketplace/offers", headers=m["studio"]).json()
    assert [o["status"] for o in offers] == ["open"] and _checkouts_of(session, m["studio_user"].id) == 0
    owner = client.get(f"/marketplace/works/{m['story_id']}/ownership", headers=m["studio"])
    assert owner.status_code == 200 and owner.json()["on_chain_grants"] == []
    retried = client.post(f"/marketplace/offers/{offers[0]['id']}/accept", headers=m["writer"])
    assert retried.status_code == 201
