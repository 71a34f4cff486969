"""Issue 9, product defects: subscribers read the catalog, the test gateway's page answers a browser, a
license whose term is over cannot be offered or accepted and terms take calendar dates, payout
destinations are checked, empty stories stay out of public lists, a pinned comment keeps its replies,
and CJK titles are found by any part. Everything over HTTP through the ASGI app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from factories import auth_headers, make_chapter, make_story, make_user
from licensing_support import market, terms

import marketplace.licensing.offers
from content.reading import reading_seconds_by_subscriber_and_writer
from marketplace.licensing.terms import Terms, terms_hash


def _subscribe(client, headers):
    r = client.post("/payments/subscriptions/checkout", json={"plan_id": "monthly"}, headers=headers)
    assert r.status_code == 201, r.text
    assert client.post(urlsplit(r.json()["checkout_url"]).path).status_code == 200
    return r.json()["checkout_id"]


@pytest.fixture
def paid_story(session, container):
    writer = make_user(session, container)
    story = make_story(session, container, writer)
    chapter = make_chapter(session, container, story, published=True, price_coins=5,
                           content="The paid chapter's words.")
    return writer, story, chapter


def test_an_active_subscriber_reads_paid_chapters_of_catalog_stories(client, session, container, paid_story):
    writer, story, chapter = paid_story
    subscriber = make_user(session, container, role="reader")
    sh = auth_headers(container, subscriber)
    outsider = auth_headers(container, make_user(session, container, role="reader"))
    read_url = f"/stories/{story.id}/chapters/{chapter.id}"
    assert client.get(read_url, headers=sh).json()["content"] is None
    _subscribe(client, sh)

    listed = client.get(f"/stories/{story.id}/chapters", headers=sh).json()["items"]
    assert [c["locked"] for c in listed] == [False]
    assert client.get(read_url, headers=sh).json()["content"] == "The paid chapter's words."
    unlock = client.post(f"/chapters/{chapter.id}/unlock", headers=sh)
    assert unlock.status_code == 200, unlock.text
    assert unlock.json()["charged"] is False and unlock.json()["chapter"]["content"]
    assert client.get("/payments/wallet", headers=sh).json()["coins"] == 0
    # Reading time counts toward the monthly pool, which pays the writer.
    progress = client.put(f"/chapters/{chapter.id}/progress", json={"percentage": 50, "seconds": 120},
                          headers=sh)
    assert progress.status_code == 200, progress.text
    today = datetime.now(UTC).date()
    seconds = reading_seconds_by_subscriber_and_writer(session, today, today + timedelta(days=1))
    assert seconds[subscriber.id] == {writer.id: 120}
    assert client.get(f"/chapters/{chapter.id}/comments", headers=sh).status_code == 200

    assert client.get(read_url, headers=outsider).json()["content"] is None
    assert client.post(f"/chapters/{chapter.id}/unlock", headers=outsider).status_code == 402

    # The writer takes the story out of the catalog: subscribers now unlock it like anyone else.
    wh = auth_headers(container, writer)
    r = client.put(f"/stories/{story.id}", json={"in_subscription": False}, headers=wh)
    assert r.status_code == 200 and r.json()["in_subscription"] is False
    assert client.get(read_url, headers=sh).json()["content"] is None
    assert client.post(f"/chapters/{chapter.id}/unlock", headers=sh).status_code == 402
    assert client.put(f"/stories/{story.id}", json={"in_subscription": False},
                      headers=sh).status_code == 403


def test_a_refunded_subscription_no_longer_opens_the_catalog(client, session, container, paid_story):
    _, story, chapter = paid_story
    subscriber = make_user(session, container, role="reader")
    sh = auth_headers(container, subscriber)
    checkout_id = _subscribe(client, sh)
    read_url = f"/stories/{story.id}/chapters/{chapter.id}"
    assert client.get(read_url, headers=sh).json()["content"]
    admin = auth_headers(container, make_user(session, container, role="admin"))
    assert client.post(f"/payments/checkouts/{checkout_id}/refund", json={}, headers=admin).status_code == 200
    assert client.get(read_url, headers=sh).json()["content"] is None


def test_the_test_gateway_page_answers_a_browser_get_without_paying(client, session, container):
    buyer = make_user(session, container, role="reader")
    bh = auth_headers(container, buyer)
    checkout = client.post("/payments/checkout", json={"package_id": "pocket"}, headers=bh).json()
    path = urlsplit(checkout["checkout_url"]).path
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert f'<form method="post" action="{path}">' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert client.get(path).status_code == 200  # GET again: still nothing happened
    assert client.get(f"/payments/checkouts/{checkout['checkout_id']}", headers=bh).json()["status"] == "open"
    assert client.get("/payments/wallet", headers=bh).json()["coins"] == 0
    assert client.post(path).status_code == 200
    assert client.get("/payments/wallet", headers=bh).json()["coins"] > 0
    assert "Nothing left to pay" in client.get(path).text
    missing = client.get("/payments/test-gateway/checkouts/nope/confirm")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_terms_wholly_in_the_past_are_refused_at_offer_and_counter(client, session, container):
    m = market(client, session, container)
    url = f"/marketplace/listings/{m['listing']['id']}/offers"
    past = terms(start="2020-01-01T00:00:00Z", end="2021-01-01T00:00:00Z")
    r = client.post(url, json=past, headers=m["studio"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "LICENSE_TERM_IN_PAST", r.text
    offer = client.post(url, json=terms(), headers=m["studio"]).json()
    r = client.post(f"/marketplace/offers/{offer['id']}/counter", json=past, headers=m["writer"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "LICENSE_TERM_IN_PAST", r.text


def test_terms_that_ran_out_while_waiting_cannot_be_accepted(client, session, container, monkeypatch):
    m = market(client, session, container)
    now = _now()
    body = terms(start=(now - timedelta(days=30)).isoformat(), end=(now + timedelta(days=1)).isoformat())
    offer = client.post(f"/marketplace/listings/{m['listing']['id']}/offers", json=body, headers=m["studio"])
    assert offer.status_code == 201, offer.text
    monkeypatch.setattr(marketplace.licensing.offers, "utcnow", lambda: now + timedelta(days=2))
    r = client.post(f"/marketplace/offers/{offer.json()['id']}/accept", headers=m["writer"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "LICENSE_TERM_ENDED", r.text
    still = client.get(f"/marketplace/offers/{offer.json()['id']}", headers=m["writer"]).json()
    assert still["status"] == "open"


def test_terms_accept_calendar_dates_as_whole_utc_days(client, session, container):
    m = market(client, session, container)
    url = f"/marketplace/listings/{m['listing']['id']}/offers"
    r = client.post(url, json=terms(start="2027-01-01", end="2029-12-31"), headers=m["studio"])
    assert r.status_code == 201, r.text
    assert (r.json()["terms"]["start"], r.json()["terms"]["end"]) == ("2027-01-01T00:00:00Z",
                                                                      "2030-01-01T00:00:00Z")
    # A date means exactly the time it stands for: same terms, same JCS hash as before dates existed.
    as_dates = Terms.parse(terms(start="2027-01-01", end="2029-12-31")).to_json()
    as_times = Terms.parse(terms(start="2027-01-01T00:00:00Z", end="2030-01-01T00:00:00Z")).to_json()
    assert as_dates == as_times and terms_hash(as_dates) == terms_hash(as_times)
    for bad in ({"start": "2027-01-01T00:00:00"}, {"start": "2027-02-30"}, {"end": "9999-12-31"},
                {"start": "0001-01-01"}):
        r = client.post(url, json=terms(**bad), headers=m["studio"])
        assert r.status_code in (400, 422) and r.json()["error"]["code"] in (
            "VALIDATION_ERROR", "INVALID_REQUEST"), (bad, r.text)


def test_payout_destination_must_be_one_a_gateway_can_pay(client, session, container):
    wh = auth_headers(container, make_user(session, container))
    url = "/payments/payout-destination"
    for bad in ("anything at all", "acct_", "mpesa:12345", "0x" + "0" * 40,
                "0x52908400098527886e0F7030069857D2E4169EE7"):  # last: EIP-55 checksum broken
        r = client.put(url, json={"destination": bad}, headers=wh)
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_REQUEST", (bad, r.text)
    for good, stored in (
        ("acct_1Writer", "acct_1Writer"),
        ("mpesa:+254712345678", "mpesa:254712345678"),
        ("0x52908400098527886e0f7030069857d2e4169ee7", "0x52908400098527886E0F7030069857D2E4169EE7"),
    ):
        r = client.put(url, json={"destination": good}, headers=wh)
        assert r.status_code == 200 and r.json()["destination"] == stored, (good, r.text)


def test_stories_with_nothing_published_stay_out_of_public_lists(client, session, container):
    writer = make_user(session, container)
    wh = auth_headers(container, writer)
    empty = make_story(session, container, writer, title="Nothing yet")
    draft_only = make_story(session, container, writer, title="Draft chapters only")
    make_chapter(session, container, draft_only)
    reader = auth_headers(container, make_user(session, container, role="reader"))

    def ids(headers):
        r = client.get("/stories", params={"author": writer.id}, headers=headers)
        assert r.status_code == 200, r.text
        return {s["id"] for s in r.json()["items"]}

    def found(q):
        return {s["id"] for s in client.get("/search", params={"q": q}).json()["items"]}

    assert ids({}) == set() and ids(reader) == set() and found("nothing") == set()
    assert ids(wh) == {empty.id, draft_only.id}
    make_chapter(session, container, empty, published=True)
    assert ids({}) == {empty.id} and ids(reader) == {empty.id} and found("nothing") == {empty.id}


def test_pinning_returns_the_comment_with_its_replies(client, session, container, paid_story):
    writer, story, _ = paid_story
    wh = auth_headers(container, writer)
    free = make_chapter(session, container, story, published=True)
    reader = auth_headers(container, make_user(session, container, role="reader"))
    top = client.post(f"/chapters/{free.id}/comments", json={"body": "Top"}, headers=reader).json()
    reply = client.post(f"/chapters/{free.id}/comments", json={"body": "Reply", "parent_id": top["id"]},
                        headers=wh).json()
    pinned = client.post(f"/comments/{top['id']}/pin", headers=wh)
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["is_pinned"] is True
    assert [(r["id"], r["body"]) for r in pinned.json()["replies"]] == [(reply["id"], "Reply")]
    unpinned = client.delete(f"/comments/{top['id']}/pin", headers=wh).json()
    assert [r["id"] for r in unpinned["replies"]] == [reply["id"]]


def test_cjk_titles_are_found_by_any_part(client, session, container):
    writer = make_user(session, container)
    caravan = make_story(session, container, writer, title="最后的商队", description="沙漠里的故事")
    tagged = make_story(session, container, writer, title="Night Market", tags=["夜市小吃"])
    for story in (caravan, tagged, make_story(session, container, writer, title="The Last Caravan")):
        make_chapter(session, container, story, published=True)
    make_story(session, container, writer, title="商队 with nothing published")

    def ids(q):
        r = client.get("/search", params={"q": q})
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["items"]]

    assert ids("商队") == [caravan.id]
    assert ids("后的商") == [caravan.id]  # three characters: the trigram index itself
    assert ids("沙漠") == [caravan.id]
    assert ids("小吃") == [tagged.id]
    assert ids("商队 沙漠") == [caravan.id]
    assert ids("商队 骆驼") == []
    assert ids("night 小吃") == [tagged.id]
    client.put(f"/stories/{caravan.id}", json={"title": "骆驼"}, headers=auth_headers(container, writer))
    assert ids("商队") == [] and ids("骆驼") == [caravan.id]
