"""Disputes: a writer files one with the registry's evidence; an admin rules; an upheld dispute blocks the
copying work from being listed, licensed, paid for or paid out, and refunds what was paid and not granted."""

from __future__ import annotations

import pytest
from factories import auth_headers, chapter_text, make_user
from licensing_support import agree, listing_body, pay, studio, terms
from money_support import assert_ledger_ok

from marketplace.licensing.terms import grant_id, work_id
from marketplace.money import ledger

ORIGINAL = chapter_text(424_242, paragraphs=14)
# Thirteen paragraphs of its own and one lifted from the original: below the registry's refusal threshold
# (so it was registered), but the exact comparison finds the copied passage.
COPY = chapter_text(737_373, paragraphs=13) + "\n\n" + ORIGINAL.split("\n\n")[3]


def _publish(client, headers, title, text):
    story = client.post("/stories", json={"title": title}, headers=headers).json()
    chapter = client.post(f"/stories/{story['id']}/chapters", json={"title": "One", "content": text},
                          headers=headers).json()
    published = client.post(f"/chapters/{chapter['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return story["id"], published.json()


@pytest.fixture
def case(client, session, container):
    author = make_user(session, container, role="writer")
    copier = make_user(session, container, role="writer")
    ah, ch = auth_headers(container, author), auth_headers(container, copier)
    _, original = _publish(client, ah, "Dunes", ORIGINAL)
    copy_story, copy = _publish(client, ch, "Dunes Again", COPY)
    admin = auth_headers(container, make_user(session, container, role="admin"))
    return {"author": author, "copier": copier, "ah": ah, "ch": ch, "admin": admin, "story_id": copy_story,
            "original": original, "copy": copy}


def _file(client, case, **overrides):
    body = {"original_registration_id": case["original"]["registration_id"],
            "copy_registration_id": case["copy"]["registration_id"], "statement": "Paragraph four is mine."}
    body.update(overrides)
    return client.post("/marketplace/disputes", json=body, headers=case["ah"])


def test_filing_needs_the_registrys_evidence(client, session, container, case):
    r = _file(client, case)
    assert r.status_code == 201, r.text
    dispute = r.json()
    assert dispute["status"] == "open" and dispute["respondent_id"] == case["copier"].id
    assert dispute["story_id"] == case["story_id"]
    match = dispute["evidence"]["match"]
    assert match["passages"] and 0 < match["containment"] < 0.15
    assert dispute["evidence"]["original"]["certificate_id"] == case["original"]["certificate_id"]
    assert _file(client, case).status_code == 409  # once

    swapped = client.post("/marketplace/disputes", headers=case["ch"], json={
        "original_registration_id": case["copy"]["registration_id"],
        "copy_registration_id": case["original"]["registration_id"]})
    assert swapped.status_code == 400  # the "original" must come first
    assert _file(client, case, copy_registration_id=case["original"]["registration_id"]).status_code == 400
    stranger = auth_headers(container, make_user(session, container, role="writer"))
    assert client.post("/marketplace/disputes", headers=stranger, json={
        "original_registration_id": case["original"]["registration_id"],
        "copy_registration_id": case["copy"]["registration_id"]}).status_code == 403
    _, unrelated = _publish(client, case["ch"], "Elsewhere", chapter_text(99_001))
    no_overlap = _file(client, case, copy_registration_id=unrelated["registration_id"])
    assert no_overlap.status_code == 400 and "passage" in no_overlap.json()["error"]["message"]
    assert _file(client, case, copy_registration_id="nope").status_code == 404

    for headers, visible in ((case["ah"], True), (case["ch"], True), (case["admin"], True),
                             (stranger, False)):
        seen = client.get(f"/marketplace/disputes/{dispute['id']}", headers=headers).status_code == 200
        assert seen == visible
    assert client.post(f"/marketplace/disputes/{dispute['id']}/resolve", json={"outcome": "upheld"},
                       headers=case["ah"]).status_code == 403


def test_dispute_transitions(client, session, container, case):
    dispute = _file(client, case).json()
    url = f"/marketplace/disputes/{dispute['id']}"
    assert client.post(f"{url}/settle", json={}, headers=case["admin"]).status_code == 409  # not upheld
    assert client.post(f"{url}/withdraw", headers=case["ch"]).status_code == 403  # not the complainant
    dismissed = client.post(f"{url}/resolve", json={"outcome": "dismissed", "note": "stock phrase"},
                            headers=case["admin"])
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    for path, body, headers in ((f"{url}/resolve", {"outcome": "upheld"}, case["admin"]),
                                (f"{url}/withdraw", None, case["ah"]), (f"{url}/settle", {}, case["admin"])):
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE_TRANSITION"
    again = _file(client, case)  # a dismissed dispute may be filed again with the same registrations
    assert again.status_code == 201
    withdrawn = client.post(f"/marketplace/disputes/{again.json()['id']}/withdraw", headers=case["ah"])
    assert withdrawn.json()["status"] == "withdrawn"


def test_an_upheld_dispute_blocks_listing_licensing_payment_and_payouts(client, session, container, case):
    listing = client.post("/marketplace/listings", json=listing_body(case["story_id"]),
                          headers=case["ch"]).json()
    _, sh = studio(session, container)
    m = {"listing": listing, "writer": case["ch"], "studio": sh}
    live = client.post(f"/marketplace/listings/{listing['id']}/offers", json=terms(media="games"),
                       headers=sh).json()
    unpaid = agree(client, m, media="tv").json()["agreement"]
    paid = agree(client, m, media="film", fee_cents=20_000).json()["agreement"]
    active = agree(client, m, media="games", exclusive=False, fee_cents=10_000).json()["agreement"]
    assert pay(client, active).status_code == 200
    container.licensing_round()
    chain = container.chain
    container.chain = _down()
    try:
        assert pay(client, paid).status_code == 200  # paid, waiting for the chain
    finally:
        container.chain = chain
    session.expire_all()
    assert ledger.balance(session, ledger.earnings(case["copier"].id)) == 17_000 + 8_500
    ownership = client.get(f"/marketplace/works/{case['story_id']}/ownership", headers=sh).json()
    assert ownership["disputes"] == []

    dispute = _file(client, case).json()
    assert client.get(f"/marketplace/works/{case['story_id']}/ownership", headers=sh).json()["disputes"][0][
        "status"] == "open"
    upheld = client.post(f"/marketplace/disputes/{dispute['id']}/resolve", json={"outcome": "upheld"},
                         headers=case["admin"])
    assert upheld.status_code == 200 and upheld.json()["status"] == "upheld"

    def status_of(agreement):
        return client.get(f"/marketplace/agreements/{agreement['id']}", headers=sh).json()["status"]

    assert client.get(f"/marketplace/listings/{listing['id']}", headers=sh).json()["status"] == "suspended"
    assert client.get(f"/marketplace/offers/{live['id']}", headers=sh).json()["status"] == "expired"
    assert status_of(unpaid) == "cancelled"
    assert status_of(paid) == "refund_pending"
    assert status_of(active) == "active"  # granted before the ruling; refunds of it are an admin's call

    relist = client.post("/marketplace/listings", json=listing_body(case["story_id"]), headers=case["ch"])
    assert relist.status_code == 409 and relist.json()["error"]["code"] == "WORK_DISPUTED"
    assert client.post(f"/marketplace/listings/{listing['id']}/offers", json=terms(),
                       headers=sh).json()["error"]["code"] == "LISTING_CLOSED"
    checkout = client.post(f"/marketplace/agreements/{unpaid['id']}/checkout", headers=sh)
    assert checkout.status_code == 409
    late = pay(client, unpaid)  # the studio still had the old payment page open
    assert "refund due" in late.json()["outcome"]
    payout = client.post("/payments/payouts", json={}, headers=case["ch"])
    assert payout.status_code == 409 and payout.json()["error"]["code"] == "WORK_DISPUTED"

    container.licensing_round()  # refunds the paid-but-ungranted fee and the late payment
    session.expire_all()
    assert status_of(paid) == "refunded" and status_of(unpaid) == "cancelled"
    assert ledger.balance(session, ledger.earnings(case["copier"].id)) == 8_500
    on_chain = [g.grant_id for g in chain.grants_of(work_id(case["story_id"]))]
    assert grant_id(paid["id"], "film") not in on_chain

    settled = client.post(f"/marketplace/disputes/{dispute['id']}/settle", json={"note": "refunded"},
                          headers=case["admin"])
    assert settled.json()["status"] == "settled"
    assert client.post("/payments/payouts", json={}, headers=case["ch"]).status_code == 201
    assert client.post("/marketplace/listings", json=listing_body(case["story_id"]),
                       headers=case["ch"]).status_code == 409  # the work stays blocked
    assert_ledger_ok(session)


def _down():
    from registry.chain.web3_chain import Web3Chain

    return Web3Chain.from_rpc("http://127.0.0.1:9", private_key="0x" + "11" * 32, request_timeout=0.5)
