"""The licensing vocabulary and the license fee's money: terms, hashes and chain ids recomputed by hand,
the overlap rule against the contract itself, the 85/15 split to the cent, webhook replays, refunds and
disputes of a license payment, duplicate and late payments."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
import rfc8785
from factories import auth_headers, make_user
from licensing_support import agree, market, pay, terms
from money_support import assert_ledger_ok, deliver, dispute_object, event_body, session_object
from sqlalchemy import func, select

from marketplace.errors import InvalidRequest
from marketplace.licensing.catalog import Party
from marketplace.licensing.models import LicensePayment
from marketplace.licensing.terms import (
    Slot,
    Terms,
    first_conflict,
    grant_id,
    licensee_address,
    normalize_media,
    terms_hash,
    work_id,
)
from marketplace.money import ledger
from marketplace.money.models import LedgerTransfer
from registry.db import utcnow
from registry.errors import LicenseOverlap as ChainLicenseOverlap

# --- vocabulary ----------------------------------------------------------------------------------


def test_ids_and_hashes_are_the_documented_ones():
    assert work_id("s-1") == hashlib.sha256(b"legato.work/v1\x00s-1").digest()
    assert grant_id("a-1", "film") == hashlib.sha256(b"legato.grant/v1\x00a-1\x00film").digest()
    doc = {"schema": "legato.license-terms/v1", "terms": {"fee_cents": 5, "media": ["film"]}, "é": "ü"}
    assert terms_hash(doc) == hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    derived = licensee_address(Party(id="studio-1", display_name="S", role="studio", wallet=None))
    assert derived.lower() == "0x" + hashlib.sha256(b"legato.licensee/v1\x00studio-1").digest()[:20].hex()
    wallet = "0x" + "ab" * 20
    assert licensee_address(Party(id="x", display_name="S", role="studio", wallet=wallet)).lower() == wallet


def test_terms_are_normalized_and_checked():
    assert normalize_media(["tv", "film", "tv"]) == ("film", "tv") and normalize_media("audio") == ("audio",)
    t = Terms.parse(terms(media=["translation", "print"], territory="  US,   CA "))
    assert t.media == ("print", "translation") and t.territory == "US, CA"
    assert t.to_json()["start"] == "2027-01-01T00:00:00Z" and t.period[1] - t.period[0] == 94_694_400
    assert Terms.parse(terms(start="2027-01-01T01:00:00+01:00")).period == t.period
    for bad in (terms(media=[]), terms(media="radio"), terms(end="2027-01-01T00:00:00Z"),
                terms(fee_cents=1.5), terms(fee_cents=True), terms(exclusive="yes"),
                terms(revenue_share_pct=101), terms(start="2027-01-01T00:00:00"), terms(territory="   ")):
        with pytest.raises(InvalidRequest):
            Terms.parse(bad)


OVERLAP_CASES = [
    # (existing: medium, start, end, exclusive), (new ...), conflict?
    ((1, 100, 200, True), (1, 150, 250, False), True),
    ((1, 100, 200, True), (1, 200, 300, True), False),   # half-open: ends at 200, starts at 200
    ((1, 100, 200, True), (2, 100, 200, True), False),   # another medium
    ((1, 100, 200, False), (1, 100, 200, False), False),  # non-exclusive licenses coexist
    ((1, 100, 200, False), (1, 199, 300, True), True),   # an exclusive one overlaps anything
    ((1, 100, 200, True), (1, 0, 101, False), True),
    ((1, 100, 200, True), (1, 0, 100, True), False),
]


@pytest.mark.parametrize(("old", "new", "conflict"), OVERLAP_CASES)
def test_overlap_rule_is_the_contracts(container, old, new, conflict):
    """``first_conflict`` against the LicenseRegistry's own refusal on the in-process chain."""
    assert (first_conflict([Slot(*old, ref="old")], [Slot(*new, ref="new")]) is not None) == conflict
    work = secrets.token_bytes(32)
    chain = container.chain
    grant = {"work_id": work, "licensee": "0x" + "11" * 20, "terms_hash": b"\x01" * 32}
    chain.grant_license(grant_id=secrets.token_bytes(32), media=old[0], start=old[1], end=old[2],
                        exclusive=old[3], **grant)
    if conflict:
        with pytest.raises(ChainLicenseOverlap):
            chain.grant_license(grant_id=secrets.token_bytes(32), media=new[0], start=new[1], end=new[2],
                                exclusive=new[3], **grant)
    else:
        chain.grant_license(grant_id=secrets.token_bytes(32), media=new[0], start=new[1], end=new[2],
                            exclusive=new[3], **grant)


# --- the 85/15 split -----------------------------------------------------------------------------

AWKWARD_FEES = [1, 2, 3, 6, 7, 99, 101, 117, 1_000_001, 1_234_567, 999_999_999]


def test_license_fees_split_85_15_to_the_cent(client, session, container):
    m = market(client, session, container)
    writer = m["writer_user"]
    for fee in AWKWARD_FEES:
        earned = ledger.balance(session, ledger.earnings(writer.id))
        revenue = ledger.balance(session, ledger.platform_revenue())
        accepted = agree(client, m, media="games", exclusive=False, fee_cents=fee)
        assert accepted.status_code == 201, accepted.text
        assert pay(client, accepted.json()["agreement"]).status_code == 200
        session.expire_all()
        writer_cents = ledger.balance(session, ledger.earnings(writer.id)) - earned
        platform_cents = ledger.balance(session, ledger.platform_revenue()) - revenue
        assert (writer_cents, platform_cents) == (fee * 85 // 100, fee - fee * 85 // 100), fee
        assert writer_cents + platform_cents == fee
    assert (1 * 85 // 100, 7 * 85 // 100, 1_234_567 * 85 // 100) == (0, 5, 1_049_381)
    statement = client.get("/payments/earnings", headers=m["writer"]).json()
    assert statement["by_source"]["licensing"] == sum(f * 85 // 100 for f in AWKWARD_FEES)
    assert_ledger_ok(session)


# --- replays, refunds, disputes ------------------------------------------------------------------


def _paid(client, session, container, m, fee=10_000):
    accepted = agree(client, m, fee_cents=fee)
    assert accepted.status_code == 201, accepted.text
    agreement = accepted.json()["agreement"]
    assert pay(client, agreement).status_code == 200
    session.expire_all()
    return agreement, container.payments.get_checkout(session, agreement["checkout_id"])


def test_license_payment_webhook_replayed_changes_nothing(client, session, container):
    m = market(client, session, container)
    accepted = agree(client, m, fee_cents=1_001)
    agreement = accepted.json()["agreement"]
    checkout = container.payments.get_checkout(session, agreement["checkout_id"])
    body = event_body("checkout.session.completed", session_object(checkout, payment_intent="pi_license_1"))
    first = deliver(client, body, container.webhook_secret)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert "850 writer / 151 platform" in first.json()["outcome"]
    session.expire_all()
    earned = ledger.balance(session, ledger.earnings(m["writer_user"].id))
    transfers = session.scalar(select(func.count()).select_from(LedgerTransfer))
    again = deliver(client, body, container.webhook_secret)
    assert again.json()["duplicate"] is True
    other_event = event_body("checkout.session.async_payment_succeeded",
                             session_object(checkout, payment_intent="pi_license_1"))
    assert deliver(client, other_event, container.webhook_secret).json()["outcome"] == "already_paid"
    confirm = pay(client, agreement)  # the local gateway's own event for the same checkout
    assert confirm.status_code == 200
    session.expire_all()
    assert ledger.balance(session, ledger.earnings(m["writer_user"].id)) == earned == 850
    assert session.scalar(select(func.count()).select_from(LedgerTransfer)) == transfers
    assert session.scalar(select(func.count()).select_from(LicensePayment)
                          .where(LicensePayment.agreement_id == agreement["id"])) == 1
    bad = client.post("/payments/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=00"})
    assert bad.status_code == 400
    assert status(client, m, agreement) == "active"
    assert_ledger_ok(session)


def status(client, m, agreement):
    return client.get(f"/marketplace/agreements/{agreement['id']}", headers=m["studio"]).json()["status"]


def test_refunds_take_the_split_back_in_proportion(client, session, container):
    m = market(client, session, container)
    admin = auth_headers(container, make_user(session, container, role="admin"))
    writer_id = m["writer_user"].id
    revenue = ledger.balance(session, ledger.platform_revenue())
    agreement, checkout = _paid(client, session, container, m, fee=1_001)
    assert ledger.balance(session, ledger.earnings(writer_id)) == 850
    partial = client.post(f"/payments/checkouts/{checkout.id}/refund", json={"amount_cents": 333},
                          headers=admin)
    assert partial.status_code == 200, partial.text
    session.expire_all()
    # split(333) = (283, 50): the writer returns 283, the platform 50
    assert ledger.balance(session, ledger.earnings(writer_id)) == 850 - 283
    assert ledger.balance(session, ledger.platform_revenue()) - revenue == 151 - 50
    assert status(client, m, agreement) == "active"
    client.post(f"/payments/checkouts/{checkout.id}/refund", json={}, headers=admin)
    session.expire_all()
    assert ledger.balance(session, ledger.earnings(writer_id)) == 0
    assert ledger.balance(session, ledger.platform_revenue()) == revenue
    reversed_ = client.get(f"/marketplace/agreements/{agreement['id']}", headers=m["studio"]).json()
    assert reversed_["status"] == "reversed"
    statement = client.get("/payments/earnings", headers=m["writer"]).json()
    assert statement["by_source"]["licensing"] == 0
    assert_ledger_ok(session)


def test_a_chargeback_after_a_payout_is_carried_by_the_platform_and_a_won_dispute_repays_it_first(
        client, session, container):
    m = market(client, session, container)
    writer_id = m["writer_user"].id
    agreement, checkout = _paid(client, session, container, m, fee=10_000)
    payout = client.post("/payments/payouts", json={"amount_cents": 5_000}, headers=m["writer"])
    assert payout.status_code == 201 and payout.json()["status"] == "paid"
    losses = ledger.balance(session, ledger.platform_losses())

    def dispute(status):
        obj = dispute_object(dispute_id="dp_license_1", payment_intent=checkout.payment_intent, amount=10_000,
                             status=status)
        r = deliver(client, event_body(f"charge.dispute.{'created' if status != 'won' else 'closed'}", obj),
                    container.webhook_secret)
        assert r.status_code == 200, r.text
        session.expire_all()

    dispute("needs_response")
    assert ledger.balance(session, ledger.earnings(writer_id)) == 0  # 3 500 held, 8 500 owed
    assert ledger.balance(session, ledger.platform_losses()) - losses == -5_000
    assert session.get(LicensePayment, checkout.id).shortfall_cents == 5_000
    assert status(client, m, agreement) == "reversed"
    dispute("won")
    assert ledger.balance(session, ledger.platform_losses()) == losses  # repaid first
    assert ledger.balance(session, ledger.earnings(writer_id)) == 3_500
    assert session.get(LicensePayment, checkout.id).shortfall_cents == 0
    container.licensing_round()
    session.expire_all()
    again = client.get(f"/marketplace/agreements/{agreement['id']}", headers=m["studio"]).json()
    assert again["status"] == "active" and again["grants"] == agreement_grants(client, m, agreement)
    assert len(container.chain.grants_of(work_id(m["story_id"]))) == 1
    assert_ledger_ok(session)


def agreement_grants(client, m, agreement):
    return client.get(f"/marketplace/agreements/{agreement['id']}", headers=m["writer"]).json()["grants"]


def test_a_second_payment_of_one_agreement_is_refunded(client, session, container):
    m = market(client, session, container)
    accepted = agree(client, m, fee_cents=2_000)
    agreement = accepted.json()["agreement"]
    first = container.payments.get_checkout(session, agreement["checkout_id"])
    expired = deliver(client, event_body("checkout.session.expired", {
        "id": first.gateway_session_id, "client_reference_id": first.id,
        "metadata": {"checkout_id": first.id}}), container.webhook_secret)
    assert expired.json()["outcome"] == "expired"
    fresh = client.post(f"/marketplace/agreements/{agreement['id']}/checkout", headers=m["studio"])
    assert fresh.status_code == 200 and fresh.json()["checkout_id"] != first.id
    by_writer = client.post(f"/marketplace/agreements/{agreement['id']}/checkout", headers=m["writer"])
    assert by_writer.status_code == 403
    assert pay(client, fresh.json()).status_code == 200
    late = client.post(f"/payments/test-gateway/checkouts/{first.id}/confirm")  # the old session paid too
    assert "refund due" in late.json()["outcome"]
    session.expire_all()
    assert ledger.balance(session, ledger.earnings(m["writer_user"].id)) == 2 * 1_700
    container.licensing_round()
    session.expire_all()
    assert ledger.balance(session, ledger.earnings(m["writer_user"].id)) == 1_700
    assert session.get(LicensePayment, first.id).status.value == "refunded"
    assert status(client, m, agreement) == "active"
    assert_ledger_ok(session)


def test_unpaid_agreements_lapse_and_a_late_payment_is_honoured_while_the_slot_is_free(
        client, session, container):
    m = market(client, session, container)
    a = agree(client, m, fee_cents=500).json()["agreement"]
    assert container.agreements.cancel_overdue(session, now=utcnow() + timedelta(days=8)) == 1
    session.commit()
    assert status(client, m, a) == "cancelled"
    assert pay(client, a).status_code == 200
    session.expire_all()
    assert client.get(f"/marketplace/agreements/{a['id']}", headers=m["studio"]).json()["status"] == "active"

    b = agree(client, m, fee_cents=700, media="tv").json()["agreement"]
    cancelled = client.post(f"/marketplace/agreements/{b['id']}/cancel", headers=m["studio"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/marketplace/agreements/{b['id']}/cancel", headers=m["studio"]).status_code == 409
    taken = agree(client, m, fee_cents=900, media="tv")  # another exclusive tv deal takes the freed slot
    assert taken.status_code == 201
    late = pay(client, b)
    assert "refund due" in late.json()["outcome"]
    container.licensing_round()
    session.expire_all()
    assert status(client, m, b) == "cancelled"
    assert ledger.balance(session, ledger.earnings(m["writer_user"].id)) == 500 * 85 // 100
    assert_ledger_ok(session)
