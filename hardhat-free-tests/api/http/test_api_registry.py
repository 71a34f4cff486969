"""The registry over HTTP: who may register, certificate bytes, plagiarism 409, public verification,
the TSA root and the IPFS gateway."""

from __future__ import annotations

import json

import pytest
from factories import auth_headers, chapter_text, make_user

from registry.ipfs import cid_for_bytes


@pytest.fixture
def writer(session, container):
    return make_user(session, container, role="writer")


def register(client, container, user, text, title="Chapter"):
    return client.post(
        "/registry/registrations", json={"title": title, "text": text}, headers=auth_headers(container, user)
    )


def test_writer_registers_and_gets_certificate(client, container, writer):
    r = register(client, container, writer, chapter_text(900))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["registration"]["status"] == "pending_anchor"
    assert body["certificate"]["id"] == body["registration"]["certificate_id"]
    assert body["certificate_cid"].startswith("bafkrei")
    again = register(client, container, writer, chapter_text(900))
    assert again.status_code == 200 and again.json()["registration"]["id"] == body["registration"]["id"]


@pytest.mark.parametrize("role,status", [("reader", 403), ("studio", 403), (None, 401)])
def test_only_writers_register(client, container, session, role, status):
    headers = auth_headers(container, make_user(session, container, role=role)) if role else {}
    r = client.post(
        "/registry/registrations", json={"title": "x", "text": chapter_text(901)}, headers=headers
    )
    assert r.status_code == status and r.json()["error"]["code"] in ("FORBIDDEN", "UNAUTHORIZED")


def test_certificate_served_as_exact_bytes_with_cid_etag(client, container, writer):
    reg = register(client, container, writer, chapter_text(902)).json()
    cert_id = reg["registration"]["certificate_id"]
    r = client.get(f"/registry/certificates/{cert_id}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert cid_for_bytes(r.content) == reg["certificate_cid"] == r.headers["x-certificate-cid"]
    assert r.headers["etag"] == f'"{reg["certificate_cid"]}"'
    assert (
        client.get(
            f"/registry/certificates/{cert_id}", headers={"If-None-Match": r.headers["etag"]}
        ).status_code
        == 304
    )
    assert client.get("/registry/certificates/nope").json()["error"]["code"] == "NOT_FOUND"


def test_registration_visible_to_its_author_only(client, container, session, writer):
    reg_id = register(client, container, writer, chapter_text(903)).json()["registration"]["id"]
    assert (
        client.get(f"/registry/registrations/{reg_id}", headers=auth_headers(container, writer)).status_code
        == 200
    )
    other = make_user(session, container, role="writer")
    assert (
        client.get(f"/registry/registrations/{reg_id}", headers=auth_headers(container, other)).status_code
        == 403
    )
    admin = make_user(session, container, role="admin")
    assert (
        client.get(f"/registry/registrations/{reg_id}", headers=auth_headers(container, admin)).status_code
        == 200
    )


def test_copy_by_another_writer_is_409_with_evidence(client, container, session, writer):
    first = register(client, container, writer, chapter_text(904), "Original").json()
    thief = make_user(session, container, role="writer")
    r = register(client, container, thief, chapter_text(904).replace("salt", "sugar"), "Stolen")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "PLAGIARISM_SUSPECTED"
    assert err["details"]["prior_registration"] == first["registration"]["id"]
    assert err["details"]["evidence"]["passages"][0]["new"][1] > 0


def test_check_returns_evidence_without_registering(client, container, session, writer):
    register(client, container, writer, chapter_text(905))
    other = make_user(session, container, role="writer")
    r = client.post(
        "/registry/check", json={"text": chapter_text(905)}, headers=auth_headers(container, other)
    )
    assert r.status_code == 200 and r.json()["would_be_refused"] is True
    assert r.json()["matches"][0]["author_id"] == writer.id
    # Checking registered nothing: the original author can still be the only owner.
    assert register(client, container, other, chapter_text(906)).status_code == 201


def test_bad_text_is_400_envelope(client, container, writer):
    r = register(client, container, writer, " \n\t\n ")
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_CONTENT_FORMAT"


def test_public_verify_json_and_upload(client, container, writer):
    text = chapter_text(907)
    cert_id = register(client, container, writer, text).json()["registration"]["certificate_id"]
    body = client.get(f"/registry/certificates/{cert_id}").content
    ok = client.post("/registry/verify", json={"certificate": body.decode(), "text": text})
    assert ok.status_code == 200 and ok.json()["ok"] is True, ok.json()["checks"][1]
    assert {c["check"]: c["status"] for c in ok.json()["checks"]}["content_hash"] == "pass"
    bad = client.post("/registry/verify", json={"certificate": body.decode(), "text": text + " extra"})
    assert bad.json()["ok"] is False and bad.json()["first_failure"] == "content_hash"
    up = client.post(
        "/registry/verify/upload", files={"certificate": ("c.json", body), "text": ("t.txt", text.encode())}
    )
    assert up.status_code == 200 and up.json()["ok"] is True
    as_object = client.post("/registry/verify", json={"certificate": json.loads(body)})
    assert as_object.json()["ok"] is True


def test_tsa_root_is_served(client, container):
    r = client.get("/registry/tsa/ca.pem")
    assert r.status_code == 200 and r.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert r.content == b"".join(container.timestamper.trust_roots_pem())


def test_ipfs_gateway_serves_pinned_certificates_only(client, container, writer):
    reg = register(client, container, writer, chapter_text(908)).json()
    cid = reg["certificate_cid"]
    r = client.get(f"/ipfs/{cid}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["etag"] == f'"{cid}"' and "immutable" in r.headers["cache-control"]
    assert cid_for_bytes(r.content) == cid
    unknown = cid_for_bytes(chapter_text(908).encode())  # the chapter text itself is never pinned
    assert client.get(f"/ipfs/{unknown}").status_code == 404
    assert client.get("/ipfs/not-a-cid").status_code == 400


def test_health_reports_each_dependency(client):
    body = client.get("/health").json()
    assert set(body["dependencies"]) == {"database", "chain", "tsa", "ipfs"}
    assert body["status"] == "ok" and all(d["status"] == "up" for d in body["dependencies"].values())


def test_health_names_the_dependency_that_is_down(container, client):
    from registry.chain.web3_chain import Web3Chain
    from registry.ipfs import KuboPinner

    container.chain = Web3Chain.from_rpc("http://127.0.0.1:9", request_timeout=0.5)
    container.pinner = KuboPinner(api="http://127.0.0.1:9", timeout=0.5)
    r = client.get("/health")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "degraded"
    assert sorted(body["down"]) == ["chain", "ipfs"]
    assert (
        body["dependencies"]["chain"]["status"] == "down"
        and body["dependencies"]["database"]["status"] == "up"
    )
