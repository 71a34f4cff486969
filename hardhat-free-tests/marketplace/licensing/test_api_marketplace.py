"""The licensing "done when", end to end over HTTP: a writer lists a registered story, a studio browses
it, checks ownership, makes an offer; they negotiate; the studio pays at the local gateway; the writer
gets 85%, the license is on chain, the studio's certificate and chain-of-title bundle verify offline."""

from __future__ import annotations

import json

from factories import auth_headers, make_user
from licensing_support import licensable_story, listing_body, pay, studio, terms, unix
from money_support import assert_ledger_ok
from typer.testing import CliRunner

from api.cli import app as cli_app
from marketplace.licensing.license_documents import LICENSE_SCHEMA, check_signature
from marketplace.licensing.terms import grant_id, terms_hash, work_id
from marketplace.money import ledger
from registry.certificate import parse_document


def test_studio_licenses_a_story_over_http(client, session, container, session_factory, tmp_path,
                                           monkeypatch):
    writer, story_id, chapters = licensable_story(client, session, container, chapters=2)
    wh = auth_headers(container, writer)
    container.anchorer.run_once(session_factory, force=True)  # the chapters' roots go on chain

    listing = client.post("/marketplace/listings", json=listing_body(story_id), headers=wh)
    assert listing.status_code == 201, listing.text
    listing = listing.json()
    assert listing["media"] == ["film", "tv", "games"] and listing["metrics"]["published_chapters"] == 2

    _, sh = studio(session, container, display_name="Acme Pictures")
    found = client.get("/marketplace/listings", params={"q": "salt road", "media": "film"}, headers=sh).json()
    assert listing["id"] in [item["id"] for item in found["items"]]
    assert set(found["items"][0]["metrics"]) >= {"reads", "unique_readers", "completion_rate", "followers",
                                                  "rating_average"}

    owner = client.get(f"/marketplace/works/{story_id}/ownership", headers=sh)
    assert owner.status_code == 200, owner.text
    owner = owner.json()
    assert owner["author"]["id"] == writer.id and owner["all_chapters_certified"] is True
    assert [c["certificate_id"] for c in owner["chapters"]] == [c["certificate_id"] for c in chapters]
    for c in owner["chapters"]:
        assert c["registration_status"] == "anchored" and c["anchor"]["tx_hash"].startswith("0x")
        assert c["anchor"]["merkle_root"] and c["anchor"]["block_number"] > 0
    assert owner["licenses"] == [] and owner["on_chain_grants"] == []

    offer = client.post(f"/marketplace/listings/{listing['id']}/offers",
                        json=terms(fee_cents=1_000_001), headers=sh)
    assert offer.status_code == 201, offer.text
    offer = offer.json()
    assert offer["status"] == "open" and offer["turn"] == "writer"
    countered = client.post(f"/marketplace/offers/{offer['id']}/counter", json=terms(fee_cents=1_234_567),
                            headers=wh).json()
    assert countered["status"] == "countered" and countered["turn"] == "studio"
    accepted = client.post(f"/marketplace/offers/{offer['id']}/accept", headers=sh)
    assert accepted.status_code == 201, accepted.text
    agreement = accepted.json()["agreement"]
    assert accepted.json()["offer"]["status"] == "accepted"
    assert agreement["status"] == "awaiting_payment" and agreement["fee_cents"] == 1_234_567
    assert agreement["terms_hash"] == terms_hash(agreement["terms_document"])
    assert agreement["checkout_url"].endswith("/confirm")
    # the writer sees where the studio pays too (to pass it on); nobody else sees the agreement
    assert client.get(f"/marketplace/agreements/{agreement['id']}", headers=wh).json()["checkout_url"] == (
        agreement["checkout_url"])

    revenue_before = ledger.balance(session, ledger.platform_revenue())
    paid = pay(client, agreement)
    assert paid.status_code == 200, paid.text
    session.expire_all()
    active = client.get(f"/marketplace/agreements/{agreement['id']}", headers=sh).json()
    assert active["status"] == "active", active
    earnings = client.get("/payments/earnings", headers=wh).json()
    assert earnings["by_source"]["licensing"] == 1_049_381  # floor(1 234 567 × 0.85); 1 049 381.95
    assert ledger.balance(session, ledger.platform_revenue()) - revenue_before == 185_186

    grants = container.chain.grants_of(work_id(story_id))
    assert [g.grant_id for g in grants] == [grant_id(agreement["id"], "film")]
    g = grants[0]
    assert g.terms_hash.hex() == agreement["terms_hash"] and g.exclusive and g.media == 1
    assert (g.start, g.end) == (unix("2027-01-01T00:00:00Z"), unix("2030-01-01T00:00:00Z"))
    assert g.licensee == agreement["licensee_address"]
    assert active["grants"][0]["tx_hash"].startswith("0x")

    cert = client.get(f"/marketplace/agreements/{agreement['id']}/certificate", headers=sh)
    assert cert.status_code == 200 and cert.headers["X-Certificate-CID"] == active["license_certificate_cid"]
    doc = parse_document(cert.content, LICENSE_SCHEMA)
    assert check_signature(doc, data=cert.content) == container.signer.key_id
    assert doc["licensee"]["display_name"] == "Acme Pictures"
    assert doc["grants"][0]["tx_hash"] == active["grants"][0]["tx_hash"]
    assert {c["certificate_id"] for c in doc["work"]["chapters"]} == {c["certificate_id"] for c in chapters}
    assert container.pinner.get(active["license_certificate_cid"]) == cert.content

    owner = client.get(f"/marketplace/works/{story_id}/ownership", headers=sh).json()
    assert [lic["status"] for lic in owner["licenses"]] == ["active"]
    assert owner["licenses"][0]["fee_cents"] == 1_234_567
    assert [og["grant_id"] for og in owner["on_chain_grants"]] == ["0x" + g.grant_id.hex()]
    _, rh = studio(session, container)
    public = client.get(f"/marketplace/works/{story_id}/ownership", headers=rh).json()
    assert "fee_cents" not in public["licenses"][0] and public["licenses"][0]["exclusive"] is True

    bundle = client.get(f"/marketplace/works/{story_id}/chain-of-title", headers=sh)
    assert bundle.status_code == 200 and "attachment" in bundle.headers["content-disposition"]
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle.content)
    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "stranger"))  # no chain, no server: offline
    trust = tmp_path / "trust.json"  # pinned once, from the platform's well-known URL
    trust.write_bytes(client.get("/.well-known/legato-trust.json").content)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["verify", str(path), "--trust", str(trust)])
    assert ok.exit_code == 0, ok.output
    assert "chapter 1: signature" in ok.output and "license" in ok.output and "receipt" in ok.output

    data = json.loads(bundle.content)
    text = data["chapters"][1]["certificate"]
    at = text.index('"sha256":"') + len('"sha256":"')
    data["chapters"][1]["certificate"] = text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1:]
    path.write_text(json.dumps(data), encoding="utf-8")
    bad = runner.invoke(cli_app, ["verify", str(path), "--trust", str(trust)])
    assert bad.exit_code == 1
    assert "verification failed at: chapter 2" in bad.output

    other = make_user(session, container, role="reader")
    assert client.get(f"/marketplace/agreements/{agreement['id']}",
                      headers=auth_headers(container, other)).status_code == 404
    assert_ledger_ok(session)
