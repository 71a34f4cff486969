"""Every offer transition, over HTTP, against a table written out here independently of the code's: from
every state, every move by either party either lands where the table says or is 409
``INVALID_STATE_TRANSITION`` and changes nothing. Plus expiry, listing rules and who may see an offer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import auth_headers, make_user
from licensing_support import licensable_story, listing_body, studio, terms
from money_support import assert_ledger_ok

from marketplace.licensing.models import LicenseOffer, OfferStatus
from marketplace.licensing.offers import TRANSITIONS, Action
from registry.db import utcnow

MOVES = ("counter", "accept", "reject", "withdraw")
# (status, whose terms are on the table) -> party -> move -> resulting status. Anything absent is a 409.
EXPECTED: dict[tuple[str, str], dict[str, dict[str, str]]] = {
    ("open", "studio"): {"writer": {"counter": "countered", "accept": "accepted", "reject": "rejected"},
                         "studio": {"withdraw": "withdrawn"}},
    ("countered", "writer"): {"studio": {"counter": "countered", "accept": "accepted", "reject": "rejected"},
                              "writer": {"withdraw": "withdrawn"}},
    ("countered", "studio"): {"writer": {"counter": "countered", "accept": "accepted", "reject": "rejected"},
                              "studio": {"withdraw": "withdrawn"}},
    **{(final, who): {} for final in ("accepted", "rejected", "withdrawn", "expired")
       for who in ("studio", "writer")},
}


@pytest.fixture
def market(client, session, container):
    writer, story_id, _ = licensable_story(client, session, container, chapters=1)
    wh = auth_headers(container, writer)
    listing = client.post("/marketplace/listings", json=listing_body(story_id), headers=wh).json()
    _, sh = studio(session, container)
    return {"writer": wh, "studio": sh, "listing": listing, "story_id": story_id}


def _offer_in(client, session, market, status: str, proposed_by: str) -> str:
    """An offer in ``status`` with ``proposed_by``'s terms on the table, reached by real moves where one
    exists (final states are set directly: what matters is that nothing leaves them)."""
    body = terms(exclusive=False, media="tv")  # non-exclusive: accepted offers never collide with each other
    offer = client.post(f"/marketplace/listings/{market['listing']['id']}/offers", json=body,
                        headers=market["studio"]).json()
    if status == "countered":
        client.post(f"/marketplace/offers/{offer['id']}/counter", json=body, headers=market["writer"])
        if proposed_by == "studio":
            client.post(f"/marketplace/offers/{offer['id']}/counter", json=body, headers=market["studio"])
    elif status != "open":
        row = session.get(LicenseOffer, offer["id"])
        row.status, row.proposed_by = OfferStatus(status), proposed_by
        session.commit()
    got = client.get(f"/marketplace/offers/{offer['id']}", headers=market["studio"]).json()
    assert (got["status"], got["proposed_by"]) == (status, proposed_by)
    return offer["id"]


def test_every_offer_transition(client, session, container, market):
    failures = []
    for (status, proposed_by), allowed in EXPECTED.items():
        for party in ("studio", "writer"):
            for move in MOVES:
                offer_id = _offer_in(client, session, market, status, proposed_by)
                body = terms(exclusive=False, media="tv", fee_cents=777) if move == "counter" else None
                r = client.post(f"/marketplace/offers/{offer_id}/{move}", json=body, headers=market[party])
                after = client.get(f"/marketplace/offers/{offer_id}", headers=market["studio"]).json()
                expected = allowed.get(party, {}).get(move)
                case = f"{status}/{proposed_by}: {party} {move} -> {r.status_code} {after['status']}"
                if expected is None:
                    ok = r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE_TRANSITION" \
                        and (after["status"], after["proposed_by"]) == (status, proposed_by)
                else:
                    ok = r.status_code in (200, 201) and after["status"] == expected
                    if move == "counter":
                        ok = ok and after["proposed_by"] == party and after["fee_cents"] == 777
                    if move == "accept":
                        ok = ok and r.json()["agreement"]["status"] == "awaiting_payment"
                if not ok:
                    failures.append(case)
    assert failures == []
    assert_ledger_ok(session)


def test_the_code_table_is_the_written_one():
    """The service's table and the one above describe the same machine (the mover rule aside)."""
    from_code = {(s.value, a.value): t.value for (s, a), (t, _) in TRANSITIONS.items() if a != Action.expire}
    written = {(status, move): to for (status, _), parties in EXPECTED.items()
               for moves in parties.values() for move, to in moves.items()}
    assert from_code == written
    assert {s.value for s, a in TRANSITIONS if a == Action.expire} == {"open", "countered"}


def test_offers_expire_unanswered_and_expired_offers_take_no_moves(client, session, container, market):
    offer = client.post(f"/marketplace/listings/{market['listing']['id']}/offers", json=terms(),
                        headers=market["studio"]).json()
    other = client.post(f"/marketplace/listings/{market['listing']['id']}/offers", json=terms(media="tv"),
                        headers=market["studio"]).json()
    client.post(f"/marketplace/offers/{other['id']}/reject", headers=market["writer"])
    later = utcnow() + timedelta(days=15)
    assert container.offers.expire_due(session, now=later) == 1
    session.commit()
    got = client.get(f"/marketplace/offers/{offer['id']}", headers=market["writer"]).json()
    assert got["status"] == "expired" and got["history"][-1]["party"] == "system"
    rejected = client.get(f"/marketplace/offers/{other['id']}", headers=market["writer"]).json()
    assert rejected["status"] == "rejected"
    r = client.post(f"/marketplace/offers/{offer['id']}/accept", headers=market["writer"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE_TRANSITION"


def test_an_offer_past_its_time_cannot_be_accepted_even_before_the_sweep(client, session, container, market):
    offer = client.post(f"/marketplace/listings/{market['listing']['id']}/offers", json=terms(),
                        headers=market["studio"]).json()
    row = session.get(LicenseOffer, offer["id"])
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    r = client.post(f"/marketplace/offers/{offer['id']}/accept", headers=market["writer"])
    assert r.status_code == 409 and r.json()["error"]["details"]["from"] == "expired"


def test_terms_must_fit_the_listing(client, session, container, market):
    url = f"/marketplace/listings/{market['listing']['id']}/offers"
    r = client.post(url, json=terms(media="print"), headers=market["studio"])
    assert r.status_code == 400 and "print" in r.json()["error"]["message"]
    for bad, code in ((terms(start="2030-01-01T00:00:00Z"), 400),     # ends before it starts
                      (terms(start="2027-01-01T00:00:00.5Z"), 400),   # not whole seconds
                      (terms(start="2027-01-01T00:00:00"), 422),      # no UTC offset
                      (terms(fee_cents=0), 422), (terms(media="radio"), 422)):
        assert client.post(url, json=bad, headers=market["studio"]).status_code == code, bad
    narrow = client.post("/marketplace/listings", json=listing_body(market["story_id"], exclusive=False),
                         headers=market["writer"]).json()
    r = client.post(f"/marketplace/listings/{narrow['id']}/offers", json=terms(exclusive=True),
                    headers=market["studio"])
    assert r.status_code == 400
    ok = client.post(url, json=terms(media=["tv", "film", "tv"]), headers=market["studio"])
    assert ok.status_code == 201 and ok.json()["terms"]["media"] == ["film", "tv"]


def test_closing_a_listing_ends_its_negotiations(client, session, container, market):
    url = f"/marketplace/listings/{market['listing']['id']}"
    offer = client.post(f"{url}/offers", json=terms(), headers=market["studio"]).json()
    assert client.post(f"{url}/close", headers=market["studio"]).status_code == 403
    closed = client.post(f"{url}/close", headers=market["writer"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.post(f"{url}/close", headers=market["writer"]).status_code == 409
    ended = client.get(f"/marketplace/offers/{offer['id']}", headers=market["studio"]).json()
    assert ended["status"] == "expired"
    r = client.post(f"{url}/offers", json=terms(), headers=market["studio"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "LISTING_CLOSED"


def test_only_the_parties_see_and_move_an_offer(client, session, container, market):
    offer = client.post(f"/marketplace/listings/{market['listing']['id']}/offers", json=terms(),
                        headers=market["studio"]).json()
    _, other_studio = studio(session, container)
    other_writer = auth_headers(container, make_user(session, container, role="writer"))
    admin = auth_headers(container, make_user(session, container, role="admin"))
    for headers in (other_studio, other_writer):
        assert client.get(f"/marketplace/offers/{offer['id']}", headers=headers).status_code == 404
        assert client.post(f"/marketplace/offers/{offer['id']}/reject", headers=headers).status_code == 404
        assert offer["id"] not in [o["id"] for o in client.get("/marketplace/offers", headers=headers).json()]
    assert client.get(f"/marketplace/offers/{offer['id']}", headers=admin).status_code == 200
    assert client.post(f"/marketplace/offers/{offer['id']}/accept", headers=admin).status_code == 403
    mine = client.get("/marketplace/offers", params={"status": "open"}, headers=market["writer"]).json()
    assert [o["id"] for o in mine] == [offer["id"]]
    reader = auth_headers(container, make_user(session, container, role="reader"))
    r = client.post(f"/marketplace/listings/{market['listing']['id']}/offers", json=terms(), headers=reader)
    assert r.status_code == 403
    r = client.post(f"/marketplace/listings/{market['listing']['id']}/offers", json=terms(),
                    headers=market["writer"])
    assert r.status_code == 403  # writers do not make offers (role), let alone on their own listing
