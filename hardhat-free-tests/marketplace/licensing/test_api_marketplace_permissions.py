"""Who may call which marketplace route: every role against the routes that read or move a listing, an
offer, an agreement, a work's title or a dispute. 401 without a token, 403 for a role that may never,
404 for an object the caller may not see."""

from __future__ import annotations

from factories import auth_headers, make_user
from licensing_support import agree, listing_body, market, studio, terms

ROLES = ("anon", "reader", "owner", "writer", "party", "studio", "admin")


def test_marketplace_route_permissions(client, session, container):
    m = market(client, session, container)
    accepted = agree(client, m, media="tv")
    assert accepted.status_code == 201
    agreement_id = accepted.json()["agreement"]["id"]
    offer_id = accepted.json()["offer"]["id"]
    listing_id, story_id = m["listing"]["id"], m["story_id"]
    headers = {
        "anon": {}, "owner": m["writer"], "party": m["studio"],
        "reader": auth_headers(container, make_user(session, container, role="reader")),
        "writer": auth_headers(container, make_user(session, container, role="writer")),
        "studio": studio(session, container)[1],
        "admin": auth_headers(container, make_user(session, container, role="admin")),
    }
    table = [
        # method, path, body, expected status per ROLES
        ("POST", "/marketplace/listings", listing_body(story_id), (401, 403, 201, 403, 403, 403, 403)),
        ("GET", "/marketplace/listings", None, (401, 200, 200, 200, 200, 200, 200)),
        ("GET", f"/marketplace/listings/{listing_id}", None, (401, 200, 200, 200, 200, 200, 200)),
        ("POST", f"/marketplace/listings/{listing_id}/offers", terms(media="games"),
         (401, 403, 403, 403, 201, 201, 403)),
        ("GET", f"/marketplace/offers/{offer_id}", None, (401, 404, 200, 404, 200, 404, 200)),
        ("POST", f"/marketplace/offers/{offer_id}/reject", None, (401, 404, 409, 404, 409, 404, 403)),
        ("GET", f"/marketplace/agreements/{agreement_id}", None, (401, 404, 200, 404, 200, 404, 200)),
        ("GET", f"/marketplace/agreements/{agreement_id}/certificate", None,
         (401, 404, 404, 404, 404, 404, 404)),  # not active yet: nobody gets a certificate
        ("POST", f"/marketplace/agreements/{agreement_id}/checkout", None,
         (401, 403, 403, 403, 200, 404, 403)),
        # public: a court or a rival checks ownership without an account
        ("GET", f"/marketplace/works/{story_id}/ownership", None, (200, 200, 200, 200, 200, 200, 200)),
        ("GET", f"/marketplace/works/{story_id}/chain-of-title", None, (200, 200, 200, 200, 200, 200, 200)),
        ("GET", "/marketplace/disputes", None, (401, 200, 200, 200, 200, 200, 200)),
        ("POST", "/marketplace/disputes", {"original_registration_id": "x", "copy_registration_id": "y"},
         (401, 403, 404, 404, 403, 403, 404)),
        ("POST", "/marketplace/disputes/nope/resolve", {"outcome": "upheld"},
         (401, 403, 403, 403, 403, 403, 404)),
    ]
    wrong = []
    for method, path, body, expected in table:
        for role, status in zip(ROLES, expected, strict=True):
            r = client.request(method, path, json=body, headers=headers[role])
            if r.status_code != status:
                wrong.append(f"{method} {path} as {role}: {r.status_code} (expected {status}) {r.text[:120]}")
    assert wrong == []
    cancel = f"/marketplace/agreements/{agreement_id}/cancel"
    assert client.post(cancel, headers=headers["owner"]).status_code == 403
    assert client.post(cancel, headers=headers["admin"]).status_code == 200
