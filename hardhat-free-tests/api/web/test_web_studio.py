"""The studio, admin and wallet pages without a browser: browse, ownership, offer, the writer accepts,
the studio pays through the local gateway and comes back to an active license; coins bought from the
wallet; an admin resolving a report and ruling a dispute; and who may do what."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from factories import auth_headers, make_user
from fastapi.testclient import TestClient
from licensing_support import licensable_story, listing_body
from test_web_write import HTML, XSS, csrf, post, signup


def login_as(client: TestClient, username: str) -> None:
    client.cookies.delete("legato_session")
    r = client.post("/login", headers=HTML, follow_redirects=False, data={
        "csrf_token": csrf(client, "/login"), "email": username, "password": "password-123"})
    assert r.status_code == 303, r.text


def follow_gateway(client: TestClient, response) -> str:  # type: ignore[no-untyped-def]
    """From a page's redirect to the local gateway, pay as a browser does, and return where it lands."""
    confirm = urlsplit(response.headers["location"]).path
    assert confirm.startswith("/payments/test-gateway/checkouts/") and confirm.endswith("/confirm")
    page = client.get(confirm, headers=HTML)
    assert page.status_code == 200 and 'method="post"' in page.text
    back = client.post(confirm, headers=HTML, follow_redirects=False)  # the gateway's form: no CSRF token
    assert back.status_code == 303 and back.headers["location"].startswith("/payments/checkouts/")
    landed = client.get(back.headers["location"], headers=HTML, follow_redirects=False)
    assert landed.status_code == 303
    return landed.headers["location"]


def test_studio_licenses_a_story_in_the_browser_pages(client: TestClient, session, container) -> None:  # type: ignore[no-untyped-def]
    writer = make_user(session, container, role="writer", username="saltwriter", password="password-123")
    _, story_id, _ = licensable_story(client, session, container, writer=writer, title=XSS)
    listing = client.post("/marketplace/listings", json=listing_body(story_id),
                          headers=auth_headers(container, writer)).json()

    signup(client, "acme", role="studio")
    page = client.get("/studio", headers=HTML)
    assert page.status_code == 200 and f'data-listing="{listing["id"]}"' in page.text
    assert XSS not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert client.get("/studio?sort=nope&media=bogus&page=-4&q=" + "x" * 500, headers=HTML).status_code == 200
    detail = client.get(f"/studio/l/{listing['id']}", headers=HTML)
    assert detail.status_code == 200 and "Make an offer" in detail.text and XSS not in detail.text
    owner = client.get(f"/studio/works/{story_id}", headers=HTML)
    assert owner.status_code == 200 and "Every published chapter has a certificate." in owner.text
    bundle = client.get(f"/studio/works/{story_id}/chain-of-title.json", headers=HTML)
    assert bundle.status_code == 200 and "attachment" in bundle.headers["content-disposition"]
    assert bundle.json()["schema"].startswith("legato.chain-of-title")

    post(client, f"/studio/l/{listing['id']}/offers", {
        "media": "film", "territory": "worldwide", "exclusive": "1", "start": "2027-01-01",
        "end": "2029-12-31", "fee": "12,345.67", "revenue_share_pct": "2"})
    deals = client.get("/studio/deals", headers=HTML).text
    offer_id = re.search(r'data-offer="([0-9a-f-]{36})"', deals).group(1)

    # the studio cannot accept its own offer; the writer accepts it from /write
    post(client, f"/write/offers/{offer_id}/accept", expect=409)
    login_as(client, "saltwriter")
    offers = client.get("/write/offers", headers=HTML).text
    assert f'action="/write/offers/{offer_id}/accept"' in offers
    post(client, f"/write/offers/{offer_id}/accept")

    login_as(client, "acme")
    deals = client.get("/studio/deals", headers=HTML).text
    agreement_id = re.search(r'data-agreement="([0-9a-f-]{36})"', deals).group(1)
    r = post(client, f"/studio/agreements/{agreement_id}/pay")
    landed = follow_gateway(client, r)
    assert landed == f"/studio/agreements/{agreement_id}?result=success"
    page = client.get(landed, headers=HTML).text
    assert 'data-status="active"' in page and "Payment received" in page
    cert = client.get(f"/studio/agreements/{agreement_id}/certificate.json", headers=HTML)
    assert cert.status_code == 200 and b"legato.license" in cert.content

    # another studio sees neither the agreement nor its certificate
    signup(client, "rival", role="studio")
    assert client.get(f"/studio/agreements/{agreement_id}", headers=HTML).status_code == 404
    assert client.get(f"/studio/agreements/{agreement_id}/certificate.json", headers=HTML).status_code == 404
    post(client, f"/studio/agreements/{agreement_id}/pay", expect=404)


def test_offer_rules_and_roles(client: TestClient, session, container) -> None:  # type: ignore[no-untyped-def]
    writer = make_user(session, container, role="writer", username="rulewriter", password="password-123")
    _, story_id, _ = licensable_story(client, session, container, writer=writer)
    listing = client.post("/marketplace/listings", json=listing_body(story_id, exclusive=False),
                          headers=auth_headers(container, writer)).json()
    signup(client, "readeronly", role="reader")
    assert client.get("/studio/deals", headers=HTML).status_code == 403
    post(client, f"/studio/l/{listing['id']}/offers", {"media": "film"}, expect=403)
    signup(client, "studio2", role="studio")
    base = {"media": "film", "territory": "worldwide", "start": "2027-01-01", "end": "2028-01-01",
            "fee": "100"}
    for bad in ({"fee": "abc"}, {"fee": "1.234"}, {"start": "tomorrow"}, {"media": "radio"},
                {"revenue_share_pct": "101"}, {"territory": ""}):
        r = client.post(f"/studio/l/{listing['id']}/offers", headers=HTML,
                        data={"csrf_token": csrf(client, "/settings"), **base, **bad})
        assert 400 <= r.status_code < 500, (bad, r.status_code)
    post(client, f"/studio/l/{listing['id']}/offers", {**base, "exclusive": "1"}, expect=400)  # not offered
    post(client, f"/studio/l/{listing['id']}/offers", {**base, "start": "2001-01-01", "end": "2002-01-01"},
         expect=422)
    assert client.get("/studio/l/nope", headers=HTML).status_code == 404
    assert client.get("/studio/works/nope", headers=HTML).status_code == 404


def test_wallet_buys_coins_through_the_gateway(client: TestClient) -> None:
    assert client.get("/wallet", headers=HTML, follow_redirects=False).status_code == 303
    signup(client, "coinbuyer", role="reader")
    page = client.get("/wallet", headers=HTML)
    assert page.status_code == 200 and 'data-coins="0"' in page.text
    r = post(client, "/wallet/checkout", {"package_id": "pocket"})
    landed = follow_gateway(client, r)
    assert landed.startswith("/wallet?checkout=") and landed.endswith("&result=success")
    page = client.get(landed, headers=HTML).text
    assert 'data-coins="550"' in page and "Payment received" in page
    post(client, "/wallet/checkout", {"package_id": "nope"}, expect=404)
    # somebody else's checkout is not shown; the JSON API still answers JSON at the same path
    checkout_id = landed.split("checkout=")[1].split("&")[0]
    signup(client, "snooper", role="reader")
    assert client.get(f"/wallet?checkout={checkout_id}", headers=HTML).status_code == 404
    assert client.get(f"/payments/checkouts/{checkout_id}", headers=HTML).status_code == 404
    assert client.get(f"/payments/checkouts/{checkout_id}").status_code == 401


def test_admin_resolves_reports_and_only_admins_may(client: TestClient, session, container) -> None:  # type: ignore[no-untyped-def]
    make_user(session, container, role="admin", username="boss", password="password-123")
    writer = make_user(session, container, role="writer")
    _, story_id, _ = licensable_story(client, session, container, writer=writer, chapters=1, title=XSS)
    reader = make_user(session, container, role="reader")
    r = client.post("/reports", json={"target_type": "story", "target_id": story_id, "reason": "spam",
                                      "details": XSS}, headers=auth_headers(container, reader))
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    signup(client, "notadmin", role="writer")
    assert client.get("/admin", headers=HTML).status_code == 403
    post(client, f"/admin/reports/{report_id}", {"status": "dismissed"}, expect=403)
    login_as(client, "boss")
    page = client.get("/admin", headers=HTML)
    assert page.status_code == 200 and f'data-report="{report_id}"' in page.text and XSS not in page.text
    post(client, f"/admin/reports/{report_id}", {"status": "maybe"}, expect=422)
    post(client, f"/admin/reports/{report_id}", {"status": "actioned", "remove_content": "1"}, expect=400)
    post(client, f"/admin/reports/{report_id}", {"status": "actioned", "note": "hidden"})
    assert f'data-report="{report_id}"' not in client.get("/admin", headers=HTML).text
    assert f'data-report="{report_id}"' in client.get("/admin?status=actioned", headers=HTML).text
    post(client, f"/admin/reports/{report_id}", {"status": "dismissed"}, expect=409)
    post(client, "/admin/disputes/nope", {"ruling": "uphold"}, expect=404)
    post(client, "/admin/disputes/nope", {"ruling": "pardon"}, expect=422)
