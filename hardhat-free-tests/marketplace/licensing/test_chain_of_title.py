"""The chain-of-title bundle: every part verifies on its own, with and without a chain; any changed byte,
a receipt that does not match, a license naming texts the bundle lacks, or a grant left out is caught."""

from __future__ import annotations

import json

import pytest
from factories import chapter_text
from licensing_support import agree, market, pay, studio

from marketplace.licensing.license_documents import BUNDLE_SCHEMA
from marketplace.licensing.offline_verification import verify_bundle


@pytest.fixture
def licensed(client, session, container, session_factory):
    m = market(client, session, container, chapters=2)
    container.anchorer.run_once(session_factory, force=True)
    a = agree(client, m, media=["film", "tv"], fee_cents=50_000).json()["agreement"]
    assert pay(client, a).status_code == 200
    m["agreement"] = client.get(f"/marketplace/agreements/{a['id']}", headers=m["studio"]).json()
    assert m["agreement"]["status"] == "active"
    return m


def _bundle(client, m, headers=None):
    r = client.get(f"/marketplace/works/{m['story_id']}/chain-of-title", headers=headers or m["studio"])
    assert r.status_code == 200, r.text
    return r.content


def _verify(container, data, **kwargs):
    """The bundle checked as a studio does: pinned to the platform's trust document."""
    return verify_bundle(data, trust=container.trust(), **kwargs)


def _failures(report):
    return [r.check for r in report.results if r.status == "fail"]


def _skips(report):
    return [r.check for r in report.results if r.status == "skip"]


def test_bundle_verifies_offline_and_against_the_chain(client, container, licensed):
    data = _bundle(client, licensed)
    doc = json.loads(data)
    assert doc["schema"] == BUNDLE_SCHEMA and len(doc["chapters"]) == 2 and len(doc["licenses"]) == 1
    assert len(doc["licenses"][0]["receipts"]) == 1 and doc["other_grants"] == []
    offline = _verify(container, data)
    assert offline.ok and _failures(offline) == []
    online = _verify(container, data, chain=container.chain)
    assert online.ok, _failures(online)
    checked = {r.check: r.status for r in online.results}
    assert checked["bundle grants on chain"] == "pass"
    assert checked[f"license {licensed['agreement']['id'][:8]}: chain"] == "pass"
    assert checked["chapter 1: chain"] == "pass" and checked["chapter 2: merkle_proof"] == "pass"
    assert [s for s in _skips(online) if "chain" in s] == []


@pytest.mark.parametrize("part", ["license", "receipt", "chapter"])
def test_any_changed_byte_is_caught(client, licensed, part, container):
    doc = json.loads(_bundle(client, licensed))
    if part == "license":
        entry, key = doc["licenses"][0], "certificate"
    elif part == "receipt":
        entry, key = doc["licenses"][0]["receipts"][0], "receipt"
    else:
        entry, key = doc["chapters"][0], "certificate"
    text = entry[key]
    at = text.index('"amount_cents":') + 15 if part != "chapter" else text.index('"length":') + 9
    entry[key] = text[:at] + ("9" if text[at] != "9" else "8") + text[at + 1:]
    report = _verify(container, json.dumps(doc).encode())
    assert not report.ok
    failed = _failures(report)
    expected = {"license": "signature", "receipt": "receipt", "chapter": "signature"}[part]
    assert any(f.endswith(expected) for f in failed), failed


def test_a_left_out_grant_or_a_missing_chapter_certificate_is_caught(client, container, licensed):
    doc = json.loads(_bundle(client, licensed))
    without_license = {**doc, "licenses": []}
    data = json.dumps(without_license).encode()
    assert _failures(_verify(container, data)) == ["bundle signature"]  # the signed whole no longer holds ...
    online = _verify(container, data, chain=container.chain)  # ... and the chain shows what is missing
    assert _failures(online) == ["bundle signature", "bundle grants on chain"]

    without_chapter = {**doc, "chapters": doc["chapters"][1:]}
    failed = _failures(_verify(container, json.dumps(without_chapter).encode()))
    assert failed == [f"license {licensed['agreement']['id'][:8]}: work", "bundle signature"]
    assert _failures(_verify(container, b"{not json")) == ["bundle format"]
    assert _failures(_verify(container, json.dumps({**doc, "schema": "x"}).encode())) == ["bundle format"]


@pytest.mark.parametrize("field", ["title", "author", "other_grants"])
def test_the_bundle_header_is_signed_too(client, session, container, licensed, field):
    doc = json.loads(_bundle(client, licensed))
    if field == "title":
        doc["work"]["title"] = "Somebody Else's Story"
    elif field == "author":
        doc["work"]["author"]["display_name"] = "Somebody Else"
    else:
        doc["other_grants"] = [{"grant_id": "0x" + "00" * 32, "medium": "film"}]
    assert _failures(_verify(container, json.dumps(doc).encode())) == ["bundle signature"]


def test_another_studio_gets_the_public_grants_only(client, session, container, licensed):
    _, rival = studio(session, container)
    doc = json.loads(_bundle(client, licensed, rival))
    assert doc["licenses"] == []
    assert sorted(g["medium"] for g in doc["other_grants"]) == ["film", "tv"]
    assert "fee_cents" not in json.dumps(doc["other_grants"])
    online = _verify(container, json.dumps(doc).encode(), chain=container.chain)
    assert online.ok, _failures(online)


def test_a_chapter_revised_after_licensing_keeps_the_licensed_text_in_the_bundle(client, licensed, container):
    first = licensed["chapters"][0]
    revised = client.put(f"/chapters/{first['id']}", json={"content": chapter_text(31_337)},
                         headers=licensed["writer"])
    assert revised.status_code == 200, revised.text
    assert revised.json()["certificate_id"] != first["certificate_id"]
    doc = json.loads(_bundle(client, licensed))
    by_id = {c["certificate_id"]: c for c in doc["chapters"]}
    assert by_id[first["certificate_id"]]["current"] is False
    assert by_id[revised.json()["certificate_id"]]["current"] is True
    report = _verify(container, json.dumps(doc).encode())
    assert report.ok, _failures(report)


def test_anyone_checks_ownership_and_chain_of_title_without_an_account(client, container, licensed):
    """Public, exposing nothing private: no emails, fees, receipts, balances or license terms."""
    owner = client.get(f"/marketplace/works/{licensed['story_id']}/ownership")
    assert owner.status_code == 200, owner.text
    body = owner.json()
    assert body["all_chapters_certified"] and len(body["on_chain_grants"]) == 2
    assert all("fee_cents" not in lic and "terms_hash" not in lic for lic in body["licenses"])
    bundle = client.get(f"/marketplace/works/{licensed['story_id']}/chain-of-title")
    assert bundle.status_code == 200
    doc = json.loads(bundle.content)
    assert doc["licenses"] == [] and sorted(g["medium"] for g in doc["other_grants"]) == ["film", "tv"]
    for text in (owner.text, bundle.text):
        assert "@" not in text and "balance" not in text and "fee_cents" not in text and "receipt" not in text
    report = _verify(container, bundle.content, chain=container.chain)
    assert report.ok, _failures(report)


def test_a_license_certificate_verifies_on_its_own_with_origin(client, container, licensed, tmp_path,
                                                              monkeypatch):
    from typer.testing import CliRunner

    from api.cli import app as cli_app
    from marketplace.licensing.offline_verification import verify_license
    from registry import certificate as cert_mod
    from registry.signing import PlatformKey, new_key_pem

    r = client.get(f"/marketplace/agreements/{licensed['agreement']['id']}/certificate",
                   headers=licensed["studio"])
    data, cid = r.content, r.headers["x-certificate-cid"]
    report = verify_license(data, trust=container.trust(), chain=container.chain, expected_cid=cid)
    statuses = {x.check: x.status for x in report.results}
    assert report.ok, _failures(report)
    assert statuses["license: origin"] == statuses["license: chain"] == statuses["license: cid"] == "pass"
    assert statuses["license: work"] == statuses["license: receipt"] == "skip"  # only a bundle has them

    doc = json.loads(data)
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    forged = cert_mod.serialize(cert_mod.sign(unsigned, PlatformKey.from_pem(new_key_pem())))
    assert verify_license(forged, trust=container.trust()).first_failure.check == "license: origin"
    elsewhere = json.loads(data)
    for g in elsewhere["grants"]:
        g["contract"] = "0x" + "11" * 20
    moved = cert_mod.serialize(cert_mod.sign({k: v for k, v in elsewhere.items() if k != "signature"},
                                             container.signer))
    report = verify_license(moved, trust=container.trust())
    assert report.first_failure.check == "license: origin"
    assert "LicenseRegistry" in report.first_failure.detail

    # `legato verify license.json` alone, in a process that knows only the trust document.
    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "stranger"))
    (tmp_path / "license.json").write_bytes(data)
    (tmp_path / "trust.json").write_bytes(client.get("/.well-known/legato-trust.json").content)
    out = CliRunner().invoke(cli_app, ["verify", str(tmp_path / "license.json"), "--trust",
                                       str(tmp_path / "trust.json")])
    assert out.exit_code == 0, out.output
    assert "license: origin" in out.stdout and "Not a legato.certificate/v1" not in out.output
